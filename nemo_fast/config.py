"""Reading NeMo configs into nemo_fast options."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from nemo_fast import _core
from nemo_fast.errors import ConfigError

FbankOptions = _core.FbankOptions

_MEL_PREPROCESSOR = "AudioToMelSpectrogramPreprocessor"

# Keys of NeMo's AudioToMelSpectrogramPreprocessor that nemo_fast understands.
_PREPROCESSOR_KEYS = frozenset(
    {
        "_target_", "sample_rate", "window_size", "window_stride", "n_window_size", "n_window_stride",
        "window", "normalize", "n_fft", "preemph", "features", "lowfreq", "highfreq", "log",
        "log_zero_guard_type", "log_zero_guard_value", "dither", "pad_to", "frame_splicing", "exact_pad",
        "pad_value", "mag_power", "rng", "nb_augmentation_prob", "nb_max_freq", "mel_norm",
        "use_torchaudio", "stft_exact_pad", "stft_conv",
    }
)  # fmt: skip

_FLOAT32_TINY = 1.1754943508222875e-38
_FLOAT32_EPS = 1.1920928955078125e-07


def fbank_options_from_nemo(
    preprocessor: Mapping[str, Any], window_taps: Any = None, mel_weights: Any = None
) -> FbankOptions:
    """FbankOptions equal to a NeMo ``preprocessor`` config section, in inference mode.

    ``window_taps`` and ``mel_weights`` may give a checkpoint's own buffers (``preprocessor.featurizer.
    window`` and ``preprocessor.featurizer.fb[0]`` as arrays); the exporter passes them so features are
    exact to the checkpoint. Without them both are computed from the config as NeMo does.

    Dither and training-only augmentation are ignored, as NeMo ignores them in eval mode. Unknown keys and
    settings NeMo models do not use at inference (frame_splicing > 1, pad_to="max") are rejected, listing
    every problem.
    """
    cfg = dict(preprocessor)
    problems: list[str] = []
    unknown = sorted(set(cfg) - _PREPROCESSOR_KEYS)
    if unknown:
        problems.append(f"unknown preprocessor keys: {', '.join(unknown)}")
    target = cfg.get("_target_")
    if target is not None and not str(target).endswith(_MEL_PREPROCESSOR):
        problems.append(f"unsupported preprocessor {target!r}: only {_MEL_PREPROCESSOR} is supported")

    sample_rate = int(cfg.get("sample_rate", 16000))
    # NeMo: window_size (seconds) and n_window_size (samples) are exclusive; int() truncates as NeMo does.
    win_length = _samples_from(cfg, "window_size", "n_window_size", 0.02, sample_rate, problems)
    hop_length = _samples_from(cfg, "window_stride", "n_window_stride", 0.01, sample_rate, problems)
    n_fft = cfg.get("n_fft") or (2 ** math.ceil(math.log2(win_length)) if win_length > 0 else 0)

    normalize = cfg.get("normalize", "per_feature")
    fixed: dict[str, str] = {}
    if isinstance(normalize, Mapping):  # global CMVN: {fixed_mean: [...], fixed_std: [...]}
        fixed, problem = _fixed_statistics(normalize, int(cfg.get("features", 64)))
        if problem:
            problems.append(problem)
        normalize = "fixed"
    elif normalize in (None, "", "NA", "none", "None"):
        normalize = "NA"
    elif normalize not in ("per_feature", "all_features"):
        problems.append(f"normalize={normalize!r} is not supported (per_feature, all_features, NA or "
                        "{fixed_mean, fixed_std})")

    guard_value = cfg.get("log_zero_guard_value", 2**-24)
    if isinstance(guard_value, str):
        if guard_value == "tiny":
            guard_value = _FLOAT32_TINY
        elif guard_value == "eps":
            guard_value = _FLOAT32_EPS
        else:
            problems.append(f"log_zero_guard_value={guard_value!r} is not a number, 'tiny' or 'eps'")
            guard_value = 2**-24

    mel_norm = cfg.get("mel_norm", "slaney")
    if mel_norm is None:
        mel_norm = "none"
    elif mel_norm != "slaney":
        problems.append(f"mel_norm={mel_norm!r} is not supported (slaney or None)")

    if int(cfg.get("frame_splicing", 1) or 1) != 1:
        problems.append("frame_splicing > 1 is not supported")
    pad_to = cfg.get("pad_to", 16)
    if pad_to == "max" or not isinstance(pad_to, int):
        problems.append(f"pad_to={pad_to!r} is not supported (an integer >= 0)")
        pad_to = 0
    preemph = cfg.get("preemph", 0.97)
    log_guard_type = cfg.get("log_zero_guard_type", "add")
    if log_guard_type not in ("add", "clamp"):
        problems.append(f"log_zero_guard_type={log_guard_type!r} must be 'add' or 'clamp'")
    if problems:
        raise ConfigError("invalid NeMo preprocessor config:\n  - " + "\n  - ".join(problems))

    key_values = {
        "sample_rate": sample_rate,
        "win_length_samples": win_length,
        "hop_length_samples": hop_length,
        "n_fft": n_fft,
        "window": cfg.get("window", "hann"),
        "preemph": "none" if preemph is None else preemph,
        "num_mel_bins": cfg.get("features", 64),
        "low_freq_hz": cfg.get("lowfreq", 0) or 0,
        "high_freq_hz": cfg.get("highfreq") or 0,
        "mel_norm": mel_norm,
        "log": "true" if cfg.get("log", True) else "false",
        "log_guard": log_guard_type,
        "log_guard_value": repr(float(guard_value)),
        "mag_power": cfg.get("mag_power", 2.0),
        "normalize": normalize,
        "pad_to": pad_to,
        "pad_value": cfg.get("pad_value", 0),
        "exact_pad": "true" if cfg.get("exact_pad", False) else "false",
    }
    options = FbankOptions.from_key_values({**{k: _to_str(v) for k, v in key_values.items()}, **fixed})
    if window_taps is not None or mel_weights is not None:
        options = options.with_model_buffers(window_taps, mel_weights)
    return options


def _fixed_statistics(normalize: Mapping[str, Any], num_mel_bins: int) -> tuple[dict[str, str], str | None]:
    """NeMo's fixed normalization statistics as feature-option values (base64 float32, as the metadata stores
    arrays), or the problem with them."""
    import base64

    import numpy as np

    if set(normalize) != {"fixed_mean", "fixed_std"}:
        return {}, f"normalize as a mapping must have exactly fixed_mean and fixed_std, got {sorted(normalize)}"
    values = {}
    for key in ("fixed_mean", "fixed_std"):
        array = np.asarray(list(normalize[key]), dtype=np.float64).ravel()
        if array.size != num_mel_bins:
            return {}, f"normalize {key} has {array.size} values; the model has {num_mel_bins} features"
        values[key] = base64.b64encode(array.astype("<f4").tobytes()).decode()
    return values, None


def _samples_from(cfg: Mapping[str, Any], seconds_key: str, samples_key: str, default_seconds: float,
                  sample_rate: int, problems: list[str]) -> int:
    seconds = cfg.get(seconds_key)
    samples = cfg.get(samples_key)
    if seconds and samples:
        problems.append(f"both {seconds_key} and {samples_key} are set; NeMo allows only one")
    if seconds:
        return int(seconds * sample_rate)
    if samples:
        return int(samples)
    if seconds_key not in cfg and samples_key not in cfg:
        return int(default_seconds * sample_rate)
    problems.append(f"neither {seconds_key} nor {samples_key} is set")
    return 0


def _to_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)
