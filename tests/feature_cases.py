"""Inputs shared by the feature tests and the golden writer: the committed speech clip and slices of it of
awkward lengths (shorter than a window, hop multiples +-1)."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np

TESTS_DIR = Path(__file__).resolve().parent
GOLDEN_DIR = TESTS_DIR / "golden"
SPEECH_WAV = TESTS_DIR / "data" / "speech_16k.wav"
FEATURE_CONFIGS = json.loads((GOLDEN_DIR / "feature_configs.json").read_text())
FEATURE_GOLDEN_DIR = GOLDEN_DIR / "features"


def read_wav_int16(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16), w.getframerate()


def speech(sample_rate: int) -> np.ndarray:
    """The speech clip as float32 in [-1, 1] at 16 kHz, or decimated by an integer factor."""
    pcm, rate = read_wav_int16(SPEECH_WAV)
    x = pcm.astype(np.float32) / 32768.0
    assert rate % sample_rate == 0
    return np.ascontiguousarray(x[:: rate // sample_rate])


def awkward_lengths(sample_rate: int) -> list[int]:
    hop = sample_rate // 100
    win = sample_rate // 40
    return [1, hop - 1, hop, hop + 1, win - 1, win, win + 1, 37 * hop - 1, 37 * hop, 37 * hop + 1]


def cases(sample_rate: int) -> dict[str, np.ndarray]:
    """Named inputs: the whole clip and its first n samples for each awkward length n."""
    x = speech(sample_rate)
    # Start inside speech so short slices are not digital silence.
    offset = sample_rate // 2
    named = {"speech": x}
    for n in awkward_lengths(sample_rate):
        named[f"len_{n}"] = np.ascontiguousarray(x[offset : offset + n])
    return named
