"""The model that ships with the package (models/default, trained by recipes/shipped_model) and the audio
its goldens cover."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nemo_fast.audio import read_audio

REPO = Path(__file__).resolve().parents[2]
SHIPPED_MODEL = REPO / "models" / "default"
EXAMPLE_WAV = REPO / "examples" / "speech_example.wav"
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "shipped" / "default"


def load_wav(path: Path) -> np.ndarray:
    audio, rate = read_audio(path)
    assert rate == 16000
    return (audio.astype(np.float32) / 32768) if audio.dtype == np.int16 else audio.astype(np.float32)


def audio_cases() -> dict[str, np.ndarray]:
    from feature_cases import SPEECH_WAV

    return {"example": load_wav(EXAMPLE_WAV), "speech_clip": load_wav(SPEECH_WAV)}
