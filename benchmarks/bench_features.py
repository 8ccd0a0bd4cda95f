"""ImprovedFbank against NeMo's preprocessor (torch), kaldi-native-fbank and librosa on the same audio, one
thread each, in one run. Reports x real-time (audio seconds / compute seconds) as medians of repeats.

    python benchmarks/bench_features.py [--minutes 60] [--repeats 3]

The audio is the test speech clip tiled to the requested length at random gains with a low noise floor.
Each library computes 80 log-mel bins, 25 ms windows, 10 ms hop at 16 kHz: its own closest equivalent of
NeMo's features (only ImprovedFbank and NeMo compute exactly NeMo's). Needs torch, nemo_toolkit,
kaldi-native-fbank and librosa; a missing one is reported and skipped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import limit_threads, median_seconds, stamp, tiled_speech, write_json  # noqa: E402

limit_threads(1)

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from feature_cases import FEATURE_CONFIGS  # noqa: E402

CONFIG = FEATURE_CONFIGS["streaming_fastconformer_80"]


def nemo_fast_runner(x):
    import nemo_fast

    fbank = nemo_fast.ImprovedFbank.from_nemo_config(CONFIG)
    return lambda: fbank.compute(x, 16000)


def nemo_fast_streaming_runner(x):
    import nemo_fast

    fbank = nemo_fast.ImprovedFbank.from_nemo_config(CONFIG)
    chunk = 1600  # 100 ms pieces, as a microphone would deliver them

    def run():
        stream = fbank.create_stream()
        for i in range(0, len(x), chunk):
            stream.accept_waveform(x[i : i + chunk], 16000)
        stream.input_finished()

    return run


def nemo_runner(x):
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "golden"))
    from nemo_features_reference import nemo_preprocessor

    pre = nemo_preprocessor(CONFIG)
    signal = torch.from_numpy(x)[None]
    length = torch.tensor([len(x)])

    def run():
        with torch.no_grad():
            pre(input_signal=signal, length=length)

    return run


def kaldi_native_fbank_runner(x):
    import kaldi_native_fbank as knf

    opts = knf.FbankOptions()
    opts.frame_opts.dither = 0
    opts.frame_opts.samp_freq = 16000
    opts.frame_opts.frame_length_ms = 25
    opts.frame_opts.frame_shift_ms = 10
    opts.frame_opts.window_type = "hann"
    opts.mel_opts.num_bins = 80
    samples = x.tolist()  # its accept_waveform takes a Python list; converted once, outside the timing

    def run():
        # Compute only: reading the frames back (one Python call per frame) is left out of its time.
        fbank = knf.OnlineFbank(opts)
        fbank.accept_waveform(16000, samples)
        fbank.input_finished()

    return run


def librosa_runner(x):
    import librosa

    def run():
        mel = librosa.feature.melspectrogram(y=x, sr=16000, n_fft=512, hop_length=160, win_length=400,
                                             window="hann", n_mels=80, power=2.0)
        np.log(mel + 2**-24)

    return run


RUNNERS = {
    "nemo_fast (whole utterance)": nemo_fast_runner,
    "nemo_fast (streaming, 100 ms pieces)": nemo_fast_streaming_runner,
    "NeMo preprocessor (torch)": nemo_runner,
    "kaldi-native-fbank": kaldi_native_fbank_runner,
    "librosa": librosa_runner,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    x = tiled_speech(args.minutes * 60)
    audio_s = len(x) / 16000
    results = {}
    for name, make in RUNNERS.items():
        try:
            run = make(x)
        except ImportError as e:
            print(f"{name:40s} skipped: {e}")
            continue
        timing = median_seconds(run, args.repeats)
        timing["x_realtime"] = audio_s / timing["median_s"]
        results[name] = timing
        print(f"{name:40s} {timing['x_realtime']:9.0f}x real-time (median of {args.repeats}, "
              f"{timing['median_s']:.2f} s for {audio_s / 60:.0f} min)", flush=True)
    ours = results["nemo_fast (whole utterance)"]["median_s"]
    for timing in results.values():
        timing["time_ratio_vs_nemo_fast"] = timing["median_s"] / ours
    path = write_json("features", {"audio_seconds": audio_s, "threads": 1, "results": results, **stamp()})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
