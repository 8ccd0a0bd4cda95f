"""The accuracy criterion of ImprovedFbank against NeMo, shared by the golden and live-NeMo tests.

Two references per input, both computed by NeMo: its preprocessor as users run it (float32), and the same
featurizer in float64, i.e. NeMo's mathematics without float32 rounding. Near the noise floor a quiet mel
bin's float32 FFT rounding (from loud bins in the same frame) moves NeMo's own float32 output away from its
float64 value by up to ~1.6e-4 on speech. So we require:

* |ours - NeMo float64| <= 1e-4 everywhere: we compute NeMo's features;
* |ours - NeMo float32| <= 1e-4 + |NeMo float32 - NeMo float64|: we differ from the float32 reference by
  at most 1e-4 beyond that reference's own rounding error.
"""

from __future__ import annotations

import numpy as np

TOLERANCE = 1e-4
# The float64 reference is stored as float32 in the goldens: allow its storage rounding.
STORAGE_SLACK = 4e-6


def assert_matches_nemo(ours: np.ndarray, nemo32: np.ndarray, nemo64: np.ndarray, tolerance: float = TOLERANCE) -> dict:
    """Checks the criterion; returns figures for reports (max differences, values beyond a plain 1e-4)."""
    assert ours.dtype == np.float32
    assert ours.shape == nemo32.shape == nemo64.shape, f"frames/features {ours.shape} != NeMo {nemo32.shape}"
    if ours.size == 0:
        return {"max_abs_diff": 0.0, "max_abs_diff_float64": 0.0, "beyond_1e-4": 0, "values": 0}
    ours64 = ours.astype(np.float64)
    diff32 = np.abs(ours64 - nemo32)
    diff64 = np.abs(ours64 - nemo64)
    nemo_rounding = np.abs(nemo32.astype(np.float64) - nemo64)
    assert diff64.max() <= tolerance + STORAGE_SLACK, f"max |ours - NeMo float64| = {diff64.max():.3g}"
    excess = diff32 - (tolerance + STORAGE_SLACK + nemo_rounding)
    assert excess.max() <= 0, (
        f"max |ours - NeMo| = {diff32.max():.3g} exceeds 1e-4 + NeMo's own float32 rounding "
        f"by {excess.max():.3g}"
    )
    return {
        "max_abs_diff": float(diff32.max()),
        "max_abs_diff_float64": float(diff64.max()),
        "beyond_1e-4": int((diff32 > TOLERANCE).sum()),
        "values": int(diff32.size),
    }
