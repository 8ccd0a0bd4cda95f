"""Global CMVN statistics for `nemo-fast export --cmvn-stats`: NeMo's fixed feature normalization
(`normalize: {fixed_mean: [...], fixed_std: [...]}`) from a Kaldi-style `global_cmvn.stats` file (the text form of
the accumulated 2 x (D+1) matrix: per-bin sums and the frame count, then per-bin sums of squares) or a JSON file
{"mean": [...], "std": [...]}."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from nemo_fast.errors import ConfigError

VARIANCE_FLOOR = 1e-20  # as Kaldi's and WeNet's readers: a bin that never varies does not divide by zero


def read_cmvn_stats(path: str | Path) -> tuple[list[float], list[float]]:
    """(mean, std) per feature bin."""
    path = Path(path)
    data = path.read_bytes()
    if data.startswith(b"\0B"):
        raise ConfigError(f"{path}: a binary Kaldi matrix; write it as text first "
                          "(copy-matrix --binary=false global_cmvn.stats global_cmvn.txt)")
    text = data.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):
        return _from_json(path, text)
    return _from_kaldi_text(path, text)


def _from_json(path: Path, text: str) -> tuple[list[float], list[float]]:
    try:
        doc = json.loads(text)
        mean, std = np.asarray(doc["mean"], np.float64), np.asarray(doc["std"], np.float64)
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"{path}: expected JSON {{\"mean\": [...], \"std\": [...]}}: {e}") from e
    if mean.ndim != 1 or mean.shape != std.shape or mean.size == 0:
        raise ConfigError(f"{path}: mean and std must be lists of the same length, got {mean.shape} and {std.shape}")
    if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()):
        raise ConfigError(f"{path}: mean must be finite and std finite and positive")
    return mean.tolist(), std.tolist()


def _from_kaldi_text(path: Path, text: str) -> tuple[list[float], list[float]]:
    body = text.split("[", 1)[-1].rsplit("]", 1)[0] if "[" in text else text
    rows = [line.split() for line in body.splitlines() if line.strip()]
    try:
        matrix = np.asarray([[float(v) for v in row] for row in rows], np.float64)
    except ValueError as e:
        raise ConfigError(f"{path}: not a Kaldi text matrix of CMVN statistics: {e}") from e
    if matrix.ndim != 2 or matrix.shape[0] != 2 or matrix.shape[1] < 2:
        raise ConfigError(f"{path}: Kaldi CMVN statistics are a 2 x (features + 1) matrix, got shape "
                          f"{matrix.shape}")
    count = matrix[0, -1]
    if not count > 0:
        raise ConfigError(f"{path}: the frame count (last value of the first row) must be positive, got {count}")
    mean = matrix[0, :-1] / count
    variance = np.maximum(matrix[1, :-1] / count - mean * mean, VARIANCE_FLOOR)
    return mean.tolist(), np.sqrt(variance).tolist()


def apply_cmvn_stats(model, mean: list[float], std: list[float]) -> None:
    """Sets the NeMo model's feature normalization to these fixed statistics (its preprocessor and its config),
    so that the parity check and the exported features both use them."""
    from omegaconf import open_dict

    features = int(model.cfg.preprocessor.get("features", 64))
    if len(mean) != features:
        raise ConfigError(f"the CMVN statistics have {len(mean)} bins; the model has {features} mel features")
    normalize = {"fixed_mean": [float(v) for v in mean], "fixed_std": [float(v) for v in std]}
    model.preprocessor.featurizer.normalize = normalize
    with open_dict(model.cfg):
        model.cfg.preprocessor.normalize = normalize
