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


def main_job_text() -> str:
    """What the main job (`nemo-fast transcribe` with the shipped model's default decoding: beam search with its
    language model, models/default/decoding.json) gives NeMo's own log-probs of the example (default mode)."""
    import json

    from nemo_fast import _core

    settings = json.loads((SHIPPED_MODEL / "decoding.json").read_text())
    config = _core.DecodingConfig()
    config.method, config.beam_size = _core.DecodingMethod.__members__[settings["decoding"]], settings["beam_size"]
    config.lm_path = str(SHIPPED_MODEL / settings["lm"])
    config.lm_weight, config.word_bonus = settings["lm_weight"], settings["word_bonus"]
    tokens = (SHIPPED_MODEL / "tokens.txt").read_text().splitlines()
    search = _core.CtcBeamSearch(tokens, len(tokens) - 1, True, config)
    log_probs = np.load(GOLDEN.with_suffix(".npz"))["example.default.log_probs"]
    return search.decode(log_probs)[0][1]
