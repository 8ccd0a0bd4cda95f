"""Models that ship with the package."""

from __future__ import annotations

from pathlib import Path

from nemo_fast.errors import ModelFileNotFoundError

_PACKAGE_MODELS = Path(__file__).resolve().parent / "models"
DEFAULT_MODEL = "default"


def default_model_dir() -> Path:
    """Directory of the model `nemo-fast transcribe` uses when none is given."""
    path = _PACKAGE_MODELS / DEFAULT_MODEL
    if not (path / "model.onnx").exists():
        raise ModelFileNotFoundError(
            f"no shipped model at {path}: this build of nemo_fast has none yet; pass --model DIR "
            "(a directory written by `nemo-fast export`)"
        )
    return path
