"""What cutting an offline model's input into windows costs, against one pass over the whole input: tokens that
differ (edit distance between the two token sequences, over the one-pass tokens) on long synthetic speech
(espeak-ng sentences with pauses of 0.2-0.8 s), for windows of 10 and 20 s cut at the quietest 100 ms, on the
offline test models (full attention; their position table covers ~41 s, so 38 s inputs fit one pass).

    python benchmarks/long_audio_cuts.py [--inputs 6] [--seconds 38]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import numpy as np

import nemo_fast
from nemo_fast.audio import read_audio

ROOT = Path(__file__).resolve().parents[1]
MODELS = [ROOT / "tests" / "models" / "exported" / "tdt_bpe_d48_80mel_offline",
          ROOT / "tests" / "models" / "exported" / "offline_char_d32_80mel_offline"]
SENTENCES = ["the cat sat on the mat", "we changed the landscape for solving the problem", "the dog sat on the log",
             "a cat and a dog sat together", "the problem of pay inequity", "the mat was on the floor"]


def edit_distance(a: list[int], b: list[int]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def long_speech(seconds: float, seed: int, folder: Path) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pieces, total = [], 0
    while total < seconds * 16000:
        text = SENTENCES[int(rng.integers(len(SENTENCES)))]
        path = folder / "s.wav"
        subprocess.run(["espeak-ng", "-w", str(path), "-s", str(int(rng.integers(140, 190))), text], check=True)
        audio, rate = read_audio(path)
        audio = np.interp(np.arange(int(len(audio) * 16000 / rate)) * rate / 16000, np.arange(len(audio)),
                          audio.astype(np.float32) / 32768).astype(np.float32)  # fmt: skip
        pause = np.zeros(int(rng.uniform(0.2, 0.8) * 16000), np.float32)
        pieces += [audio, pause]
        total += len(audio) + len(pause)
    return np.concatenate(pieces)[: int(seconds * 16000)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=38.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        inputs = [long_speech(args.seconds, seed, Path(tmp)) for seed in range(args.inputs)]
    for model in MODELS:
        one_pass = nemo_fast.Recognizer(model, long_audio=nemo_fast.LongAudioConfig(max_window_seconds=args.seconds + 1))
        whole = [list(one_pass.transcribe(x, sample_rate=16000).token_ids) for x in inputs]
        for window in (10.0, 20.0):
            cut = nemo_fast.Recognizer(model, long_audio=nemo_fast.LongAudioConfig(max_window_seconds=window))
            differ = sum(edit_distance(w, list(cut.transcribe(x, sample_rate=16000).token_ids))
                         for w, x in zip(whole, inputs))  # fmt: skip
            tokens = sum(len(w) for w in whole)
            cuts = args.inputs * int(np.ceil(args.seconds / window) - 1)
            print(f"{model.name}: {window:.0f} s windows (~{cuts} cuts in {args.inputs} x {args.seconds:.0f} s): "
                  f"{differ} of {tokens} tokens differ from one pass ({100 * differ / max(tokens, 1):.2f}%)")


if __name__ == "__main__":
    main()
