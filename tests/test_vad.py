"""Silero VAD in the core: speech probabilities and speech spans equal the silero-vad package's own
(`OnnxWrapper`, `get_speech_timestamps`) on speech with pauses at 8, 16 and 48 kHz and under non-default
parameters (the long-span cut included), whatever the piece sizes; `nemo-fast vad` prints them. The reference
runs in a child process with the package (and its torch) outside any sanitizer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import require_module

from nemo_fast import errors
from nemo_fast.audio import read_audio
from nemo_fast.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "speech_example.wav"

REFERENCE = r"""
import json, sys
import numpy as np, torch
from silero_vad import load_silero_vad, get_speech_timestamps
audio = np.load(sys.argv[1]); rate = int(sys.argv[2]); params = json.loads(sys.argv[3])
model = load_silero_vad(onnx=True)
step = rate // 16000 if rate > 16000 else 1
x = torch.from_numpy(audio[::step].copy()); model_rate = rate // step; w = 512 if model_rate == 16000 else 256
model.reset_states()
probs = []
for s in range(0, len(x), w):
    chunk = x[s:s + w]
    if len(chunk) < w:
        chunk = torch.nn.functional.pad(chunk, (0, w - len(chunk)))
    probs.append(model(chunk, model_rate).item())
spans = get_speech_timestamps(torch.from_numpy(audio), model, sampling_rate=rate, **params)
print(json.dumps({"probs": probs, "spans": [[s["start"], s["end"]] for s in spans]}))
"""


def _speech_with_pauses(rate: int) -> np.ndarray:
    clip, clip_rate = read_audio(EXAMPLE)
    clip = clip.astype(np.float32) / 32768
    if rate != clip_rate:  # a crude resampling is enough: the test compares two VADs on the same samples
        clip = np.interp(np.arange(int(len(clip) * rate / clip_rate)) * clip_rate / rate, np.arange(len(clip)),
                         clip).astype(np.float32)  # fmt: skip
    rng = np.random.default_rng(rate)
    pause = lambda seconds: (0.002 * rng.standard_normal(int(seconds * rate))).astype(np.float32)  # noqa: E731
    return np.concatenate([pause(0.5), clip, pause(0.8), 0.4 * clip, pause(0.15), clip[: len(clip) // 2],
                           pause(1.3), clip, pause(0.3)])  # fmt: skip


def _reference(tmp_path: Path, audio: np.ndarray, rate: int, params: dict) -> dict:
    require_module("silero_vad")
    np.save(tmp_path / "audio.npy", audio)
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS",
                                                            "PYTHONPATH")}  # fmt: skip
    run = subprocess.run([sys.executable, "-c", REFERENCE, str(tmp_path / "audio.npy"), str(rate), json.dumps(params)],
                         capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.splitlines()[-1])


CASES = [  # (rate, get_speech_timestamps parameters)
    (16000, {}),
    (8000, {}),
    (48000, {}),
    (16000, {"threshold": 0.3, "min_silence_duration_ms": 300}),
    (16000, {"threshold": 0.7, "speech_pad_ms": 0, "min_speech_duration_ms": 500}),
    (16000, {"max_speech_duration_s": 2.0}),  # long spans cut at their longest silence
]


@pytest.mark.parametrize("rate,params", CASES, ids=[f"{r}-{'-'.join(p) or 'defaults'}" for r, p in CASES])
def test_probabilities_and_spans_equal_the_silero_package(tmp_path, rate, params):
    from nemo_fast.vad import Vad

    audio = _speech_with_pauses(rate)
    expected = _reference(tmp_path, audio, rate, params)
    names = {"threshold": "threshold", "min_silence_duration_ms": "min_silence_ms", "speech_pad_ms": "speech_pad_ms",
             "min_speech_duration_ms": "min_speech_ms", "max_speech_duration_s": "max_speech_seconds"}
    vad = Vad(**{names[k]: v for k, v in params.items()})
    probabilities = vad.probabilities(audio, rate)
    assert len(probabilities) == len(expected["probs"])
    assert np.abs(probabilities - np.array(expected["probs"])).max() < 1e-4
    spans = [[s.start_sample, s.end_sample] for s in vad.speech(audio, rate)]
    assert spans == expected["spans"] and len(spans) >= 3


def test_pieces_of_any_size_give_the_same_probabilities():
    from nemo_fast import _core
    from nemo_fast.vad import Vad

    audio = _speech_with_pauses(16000)
    vad = Vad()
    whole = vad.probabilities(audio, 16000)
    stream = _core.VadStream(vad._model, 16000)
    rng = np.random.default_rng(5)
    at = 0
    while at < len(audio):
        n = int(rng.integers(1, 3000))
        stream.accept_waveform(audio[at:at + n])
        at += n
    stream.input_finished()
    np.testing.assert_array_equal(stream.probabilities, whole)


def test_bad_input_and_options_are_named():
    from nemo_fast.vad import Vad

    with pytest.raises(ConfigError, match="threshold must be in"):
        Vad(threshold=1.5)
    with pytest.raises(ConfigError, match="neg_threshold must be below"):
        Vad(threshold=0.5, neg_threshold=0.6)
    vad = Vad()
    with pytest.raises(ConfigError, match="8000 or 16000 Hz"):
        vad.speech(np.zeros(44100, np.float32), 44100)
    with pytest.raises(errors.NonFiniteAudioError):
        vad.speech(np.array([0.0, np.nan], np.float32), 16000)
    with pytest.raises(errors.ModelFileNotFoundError):
        Vad("/no/such/vad.onnx")


def test_the_vad_command_prints_spans_as_txt_json_and_tsv(tmp_path):
    from nemo_fast.vad import Vad

    audio = _speech_with_pauses(16000)
    path = tmp_path / "talk.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    spans = Vad().speech(path)
    cli = [sys.executable, "-m", "nemo_fast.cli", "vad", str(path)]
    as_json = json.loads(subprocess.run([*cli, "--format", "json"], capture_output=True, text=True, check=True).stdout)
    assert as_json == {"file": str(path), "speech": [{"start": round(s.start, 3), "end": round(s.end, 3)}
                                                     for s in spans]}  # fmt: skip
    txt = subprocess.run(cli, capture_output=True, text=True, check=True).stdout.splitlines()
    assert txt == [f"{s.start:.3f} --> {s.end:.3f}" for s in spans]
    tsv = subprocess.run([*cli, "--format", "tsv"], capture_output=True, text=True, check=True).stdout.splitlines()
    assert tsv[0] == "file\tstart\tend" and len(tsv) == len(spans) + 1
    bad = subprocess.run([*cli, "--threshold", "2"], capture_output=True, text=True)
    assert bad.returncode == 2 and "threshold must be in" in bad.stderr
