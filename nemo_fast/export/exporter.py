"""`nemo-fast export`: a NeMo .nemo checkpoint to an ONNX model directory nemo_fast runs.

Needs torch, NeMo and onnx (export time only). The directory holds model.onnx (graph + metadata, see
metadata.py) and tokens.txt.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np

from nemo_fast.errors import ConfigError, ModelError, ModelFileNotFoundError, NemoFastError
from nemo_fast.export import metadata as md

log = logging.getLogger("nemo_fast.export")

SUPPORTED_CLASSES = ("EncDecCTCModel", "EncDecCTCModelBPE", "EncDecHybridRNNTCTCBPEModel")
PARITY_TOLERANCE = 1e-4


class ExportParityError(NemoFastError, RuntimeError):
    """The exported model's outputs differ from NeMo's on the parity check."""


def load_nemo_model(nemo_path: str | Path):
    """Restores a .nemo checkpoint on CPU in eval mode; rejects unsupported classes."""
    path = Path(nemo_path)
    if not path.exists():
        raise ModelFileNotFoundError(f".nemo file not found: {path}")
    from nemo.collections.asr.models import ASRModel

    model = ASRModel.restore_from(str(path), map_location="cpu")
    check_supported(model)
    return model.eval()


def check_supported(model) -> None:
    name = type(model).__name__
    if name not in SUPPORTED_CLASSES:
        raise ModelError(f"model class {name} is not supported; supported: {', '.join(SUPPORTED_CLASSES)}")


def is_cache_aware(encoder) -> bool:
    """A cache-aware streaming encoder: limited attention context and causal convolutions."""
    style = getattr(encoder, "att_context_style", "regular")
    conv_context = getattr(encoder, "conv_context_size", None)
    causal_conv = conv_context is not None and list(conv_context)[1] == 0
    return style == "chunked_limited" and causal_conv and hasattr(encoder, "get_initial_cache_state")


def select_lookahead(encoder, att_context_size: tuple[int, int] | None) -> list[int]:
    available = [list(a) for a in getattr(encoder, "att_context_size_all", [encoder.att_context_size])]
    if att_context_size is None:
        return list(encoder.att_context_size)
    wanted = list(att_context_size)
    if wanted not in available:
        raise ConfigError(f"att_context_size {wanted} is not one of the model's lookaheads {available}")
    encoder.set_default_att_context_size(wanted)
    return wanted


def vocabulary(model) -> tuple[list[str], str]:
    """Tokens in id order (the blank last, as NeMo's CTC head) and the vocabulary type."""
    decoder = model.ctc_decoder if hasattr(model, "ctc_decoder") else model.decoder
    if hasattr(model, "tokenizer"):
        tokenizer = model.tokenizer
        tokens = [tokenizer.ids_to_tokens([i])[0] for i in range(tokenizer.vocab_size)]
        kind = "bpe"
    else:
        tokens = list(decoder.vocabulary)
        kind = "char"
    if len(tokens) + 1 != decoder.num_classes_with_blank:
        raise ModelError(f"vocabulary has {len(tokens)} tokens but the CTC head has {decoder.num_classes_with_blank} classes")
    for t in tokens:
        if "\n" in t or "\r" in t:
            raise ModelError(f"token {t!r} contains a line break; cannot write tokens.txt")
    return tokens + ["<blk>"], kind


def feature_metadata(model) -> dict[str, str]:
    from nemo_fast.config import fbank_options_from_nemo
    from omegaconf import OmegaConf

    featurizer = model.preprocessor.featurizer
    options = fbank_options_from_nemo(
        OmegaConf.to_container(model.cfg.preprocessor, resolve=True),
        window_taps=featurizer.window.detach().float().numpy(),
        mel_weights=featurizer.fb[0].detach().float().numpy(),
    )
    return {f"features.{k}": v for k, v in options.to_key_values().items()}


def export_model(nemo_path, out_dir, att_context_size=None, mode: str = "auto", parity_check: bool = True,
                 model=None) -> Path:
    """Exports a checkpoint (or an already loaded `model`) into out_dir; returns out_dir.

    mode: "streaming" (cache-aware graph), "offline" (whole utterances) or "auto" (streaming when the
    encoder is cache-aware). Runs a parity check against NeMo unless parity_check is False.
    """
    if model is None:
        model = load_nemo_model(nemo_path)
    else:
        check_supported(model)
        model.eval()

    import torch

    import nemo
    from nemo.core.classes.common import typecheck

    from nemo_fast.export.wrappers import CacheAwareCtcExport, OfflineCtcExport

    if hasattr(model, "cur_decoder") and model.cur_decoder != "ctc":
        model.change_decoding_strategy(decoder_type="ctc")
    encoder = model.encoder
    if mode not in ("auto", "streaming", "offline"):
        raise ConfigError(f"mode must be auto, streaming or offline, got {mode!r}")
    streaming = is_cache_aware(encoder) if mode == "auto" else mode == "streaming"
    if streaming and not is_cache_aware(encoder):
        raise ModelError("the encoder is not cache-aware (needs chunked_limited attention and causal convolutions)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokens, vocab_kind = vocabulary(model)
    meta = {
        "nemo_fast.schema_version": str(md.SCHEMA_VERSION),
        "model_class": type(model).__name__,
        "nemo_version": nemo.__version__,
        "decoder_type": "ctc",
        "mode": "streaming" if streaming else "offline",
        "feat_in": str(encoder._feat_in),
        "subsampling_factor": str(encoder.subsampling_factor),
        "d_model": str(encoder.d_model),
        "n_layers": str(encoder.n_layers),
        "vocab_size": str(len(tokens)),
        "blank_id": str(len(tokens) - 1),
        "vocabulary_type": vocab_kind,
        "tokens_file": "tokens.txt",
        **feature_metadata(model),
    }
    onnx_path = out / "model.onnx"
    with tempfile.TemporaryDirectory() as tmp:
        tmp_onnx = Path(tmp) / "model.onnx"
        with typecheck.disable_checks(), torch.inference_mode():
            if streaming:
                lookahead = select_lookahead(encoder, att_context_size)
                encoder.export_cache_support = True
                encoder.setup_streaming_params()
                cfg = encoder.streaming_cfg
                channel, time, _ = encoder.get_initial_cache_state(batch_size=1)
                meta.update({
                    "att_context_size": f"{lookahead[0]},{lookahead[1]}",
                    "att_context_sizes_available": ";".join(
                        f"{a[0]},{a[1]}" for a in getattr(encoder, "att_context_size_all", [lookahead])),
                    "streaming.chunk_size": md.pair(cfg.chunk_size),
                    "streaming.shift_size": md.pair(cfg.shift_size),
                    "streaming.pre_encode_cache_size": md.pair(cfg.pre_encode_cache_size),
                    "streaming.sampling_frames": md.pair(encoder.pre_encode.get_sampling_frames()),
                    "streaming.drop_extra_pre_encoded": str(int(cfg.drop_extra_pre_encoded)),
                    "streaming.valid_out_len": str(int(cfg.valid_out_len)),
                    "streaming.last_channel_cache_size": str(int(cfg.last_channel_cache_size)),
                    "cache.last_channel_shape": f"{channel.shape[0]},{channel.shape[2]},{channel.shape[3]}",
                    "cache.last_time_shape": f"{time.shape[0]},{time.shape[2]},{time.shape[3]}",
                })  # fmt: skip
                _export_streaming(model, CacheAwareCtcExport, tmp_onnx, channel, time)
            else:
                if att_context_size is not None:
                    select_lookahead(encoder, att_context_size)
                _export_offline(model, OfflineCtcExport, tmp_onnx)
        md.write_metadata(tmp_onnx, meta)
        shutil.move(str(tmp_onnx), onnx_path)
    (out / "tokens.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
    log.info("exported %s to %s", type(model).__name__, out)
    if parity_check:
        check_parity(model, out, streaming)
    return out


def _dynamic_axes(inputs, outputs):
    axes = {}
    for name in inputs + outputs:
        if name == "audio_signal":
            axes[name] = {0: "batch", 2: "frames"}
        elif name == "log_probs":
            axes[name] = {0: "batch", 1: "out_frames"}
        elif name == "drop_extra_pre_encoded":
            continue
        else:
            axes[name] = {0: "batch"}
    return axes


def _export_streaming(model, wrapper_cls, path: Path, channel, time) -> None:
    import torch

    encoder = model.encoder
    cfg = encoder.streaming_cfg
    later = lambda v: v[1] if isinstance(v, (list, tuple)) else v  # noqa: E731
    frames = later(cfg.chunk_size) + later(cfg.pre_encode_cache_size)
    wrapper = wrapper_cls(model).eval()
    example = (
        torch.randn(1, encoder._feat_in, frames),
        torch.tensor([frames], dtype=torch.int64),
        channel.transpose(0, 1).contiguous(),
        time.transpose(0, 1).contiguous(),
        torch.zeros(1, dtype=torch.int64),
        torch.tensor(int(cfg.drop_extra_pre_encoded), dtype=torch.int64),
    )
    try:
        torch.onnx.export(wrapper, example, str(path), input_names=md.STREAMING_INPUTS,
                          output_names=md.STREAMING_OUTPUTS,
                          dynamic_axes=_dynamic_axes(md.STREAMING_INPUTS, md.STREAMING_OUTPUTS),
                          opset_version=17, dynamo=False)
    finally:
        # Restore the encoder (the wrapper swapped in a dynamic-drop subsampling module).
        encoder.pre_encode = wrapper.encoder.pre_encode.inner
        encoder.setup_streaming_params()


def _export_offline(model, wrapper_cls, path: Path) -> None:
    import torch

    encoder = model.encoder
    frames = 400
    example = (torch.randn(1, encoder._feat_in, frames), torch.tensor([frames], dtype=torch.int64))
    torch.onnx.export(wrapper_cls(model).eval(), example, str(path), input_names=md.OFFLINE_INPUTS,
                      output_names=md.OFFLINE_OUTPUTS,
                      dynamic_axes=_dynamic_axes(md.OFFLINE_INPUTS, md.OFFLINE_OUTPUTS),
                      opset_version=17, dynamo=False)


def parity_audio(seconds: float = 4.0, sample_rate: int = 16000) -> np.ndarray:
    """A deterministic, speech-like test signal: gliding harmonics under a syllable envelope, plus noise."""
    rng = np.random.default_rng(1234)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    f0 = 140 + 40 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    voiced = sum(np.sin(h * phase) / h for h in range(1, 12))
    envelope = np.clip(np.sin(2 * np.pi * 3.1 * t), 0, None) ** 0.5
    return (0.1 * envelope * voiced + 0.003 * rng.standard_normal(t.size)).astype(np.float32)


def check_parity(model, out_dir: Path, streaming: bool) -> None:
    """Runs the exported model with nemo_fast and the checkpoint with NeMo on the same audio; raises
    ExportParityError if the per-frame log-probs differ by more than 1e-4 or the tokens differ."""
    from nemo_fast.export.reference import nemo_offline_log_probs, nemo_streaming_log_probs
    from nemo_fast.recognizer import Recognizer

    audio = parity_audio()
    recognizer = Recognizer(out_dir, keep_log_probs=True)
    ours = recognizer.transcribe(audio, sample_rate=16000)
    if streaming:
        ref_lp, ref_tokens = nemo_streaming_log_probs(model, audio)
    else:
        ref_lp, ref_tokens = nemo_offline_log_probs(model, audio)
    if ours.log_probs.shape != ref_lp.shape:
        raise ExportParityError(f"parity check: {ours.log_probs.shape} log-prob frames vs NeMo {ref_lp.shape}")
    diff = float(np.abs(ours.log_probs - ref_lp).max()) if ref_lp.size else 0.0
    if diff > PARITY_TOLERANCE or list(ours.token_ids) != list(ref_tokens):
        raise ExportParityError(
            f"parity check failed: max |log-prob difference| {diff:.3g} (tolerance {PARITY_TOLERANCE}), "
            f"tokens {'equal' if list(ours.token_ids) == list(ref_tokens) else 'differ'}"
        )
    log.info("parity check passed: %d frames, max |log-prob difference| %.2e", ref_lp.shape[0], diff)
