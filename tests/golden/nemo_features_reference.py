"""NeMo's preprocessor as the reference for features (used by the golden writer and the live-NeMo tests)."""

from __future__ import annotations

import numpy as np


def nemo_preprocessor(config: dict):
    from nemo.collections.asr.modules import AudioToMelSpectrogramPreprocessor

    kwargs = {k: v for k, v in config.items() if k != "_target_"}
    return AudioToMelSpectrogramPreprocessor(**kwargs).eval()


def nemo_log_mel(config: dict, x: np.ndarray, preprocessor=None) -> np.ndarray | None:
    """Valid frames (frames, features) for one utterance, or None where NeMo cannot compute it (exact_pad
    with fewer samples than n_fft)."""
    import torch

    pre = preprocessor or nemo_preprocessor(config)
    try:
        with torch.no_grad():
            feats, length = pre(
                input_signal=torch.from_numpy(np.asarray(x, np.float32))[None], length=torch.tensor([len(x)])
            )
    except RuntimeError:  # torch.stft: input shorter than n_fft after padding
        return None
    return np.ascontiguousarray(feats[0, :, : int(length[0])].T.numpy())


def nemo_log_mel_float64(config: dict, x: np.ndarray) -> np.ndarray | None:
    """The same computation by NeMo's featurizer in float64: NeMo's mathematics without float32 rounding.

    The float32 preprocessor differs from it by its own rounding (largest near the noise floor, where a
    loud bin's FFT rounding error swamps a quiet bin); the tests allow exactly that much on top of 1e-4.
    """
    import torch

    config = dict(config)
    guard = config.get("log_zero_guard_value")
    if isinstance(guard, str):  # keep float32's tiny/eps, not float64's
        config["log_zero_guard_value"] = float(getattr(torch.finfo(torch.float32), guard))
    featurizer = nemo_preprocessor(config).featurizer.double()
    try:
        with torch.no_grad():
            feats, length = featurizer(torch.from_numpy(np.asarray(x, np.float64))[None], torch.tensor([len(x)]))
    except RuntimeError:
        return None
    return np.ascontiguousarray(feats[0, :, : int(length[0])].T.numpy())


def nemo_valid_frames(config: dict, lengths: list[int]) -> list[int]:
    """NeMo's valid frame counts for a padded batch with these lengths (0 allowed)."""
    import torch

    pre = nemo_preprocessor(config)
    batch = torch.zeros(len(lengths), max(max(lengths), pre.featurizer.n_fft))
    with torch.no_grad():
        _, valid = pre(input_signal=batch, length=torch.tensor(lengths))
    return [int(v) for v in valid]
