"""`nemo-fast export`: a NeMo .nemo checkpoint to an ONNX model directory nemo_fast runs.

Needs torch, NeMo and onnx (export time only). The directory holds model.onnx (graph + metadata, see
metadata.py) and tokens.txt.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from nemo_fast.errors import ConfigError, MissingDependencyError, ModelError, ModelFileNotFoundError, NemoFastError
from nemo_fast.export import metadata as md

log = logging.getLogger("nemo_fast.export")

SUPPORTED_CLASSES = ("EncDecCTCModel", "EncDecCTCModelBPE", "EncDecHybridRNNTCTCModel", "EncDecHybridRNNTCTCBPEModel",
                     "EncDecRNNTModel", "EncDecRNNTBPEModel")
PARITY_TOLERANCE = 1e-4


class ExportParityError(NemoFastError, RuntimeError):
    """The exported model's outputs differ from NeMo's on the parity check."""


def load_nemo_model(nemo_path: str | Path):
    """Restores a .nemo checkpoint on CPU in eval mode; rejects unsupported classes."""
    path = Path(nemo_path)
    if not path.exists():
        raise ModelFileNotFoundError(f".nemo file not found: {path}")
    # A .nemo checkpoint is a tar archive (NeMo also restores an extracted one, a directory).
    if not path.is_dir() and not tarfile.is_tarfile(path):
        raise ModelError(f"{path} is not a .nemo checkpoint (a .nemo file is a tar archive)")
    try:
        from nemo.collections.asr.models import ASRModel
    except ImportError as e:
        raise MissingDependencyError(f"exporting a .nemo checkpoint needs NeMo and torch, which are not importable "
                                     f"here ({e}); install them with: pip install 'nemo-toolkit[asr]' onnx") from e

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


def ctc_head(model):
    """The CTC decoder of a CTC or hybrid RNN-T/CTC model (None for a pure transducer)."""
    if hasattr(model, "ctc_decoder"):
        return model.ctc_decoder
    return None if hasattr(model, "joint") else model.decoder


def is_transducer(model) -> bool:
    return hasattr(model, "joint")


def tdt_durations(model) -> list[int]:
    """The TDT duration set of a token-and-duration transducer, [] for a plain RNN-T."""
    from omegaconf import OmegaConf

    cfg = OmegaConf.to_container(model.cfg, resolve=True)
    durations = (cfg.get("model_defaults") or {}).get("tdt_durations")
    if durations is None:
        durations = ((cfg.get("loss") or {}).get("tdt_kwargs") or {}).get("durations")
    extra = int(getattr(model.joint, "num_extra_outputs", 0) or 0)
    if extra and (durations is None or len(durations) != extra):
        raise ModelError(f"the joint has {extra} extra outputs but the config names durations {durations}")
    return [int(d) for d in durations] if extra else []


def decoders(model) -> list[str]:
    """The heads this model can decode with, NeMo's default first."""
    heads = []
    if is_transducer(model):
        heads.append("tdt" if tdt_durations(model) else "rnnt")
    if ctc_head(model) is not None:
        heads.append("ctc")
    return heads


def vocabulary(model) -> tuple[list[str], str]:
    """Tokens in id order (the blank last, as NeMo's CTC and transducer heads) and the vocabulary type."""
    if hasattr(model, "tokenizer"):
        tokenizer = model.tokenizer
        tokens = [tokenizer.ids_to_tokens([i])[0] for i in range(tokenizer.vocab_size)]
        kind = "bpe"
    else:
        tokens = list(model.joint.vocabulary if is_transducer(model) else model.decoder.vocabulary)
        kind = "char"
    if ctc_head(model) is not None and len(tokens) + 1 != ctc_head(model).num_classes_with_blank:
        raise ModelError(f"vocabulary has {len(tokens)} tokens but the CTC head has "
                         f"{ctc_head(model).num_classes_with_blank} classes")
    if is_transducer(model) and int(model.decoder.blank_idx) != len(tokens):
        raise ModelError(f"vocabulary has {len(tokens)} tokens but the transducer blank id is "
                         f"{model.decoder.blank_idx}; nemo_fast expects the blank last")
    for t in tokens:
        if "\n" in t or "\r" in t:
            raise ModelError(f"token {t!r} contains a line break; cannot write tokens.txt")
    return tokens + ["<blk>"], kind


def feature_metadata(model) -> dict[str, str]:
    from omegaconf import OmegaConf

    from nemo_fast.config import fbank_options_from_nemo

    featurizer = model.preprocessor.featurizer
    options = fbank_options_from_nemo(
        OmegaConf.to_container(model.cfg.preprocessor, resolve=True),
        window_taps=featurizer.window.detach().float().numpy(),
        mel_weights=featurizer.fb[0].detach().float().numpy(),
    )
    return {f"features.{k}": v for k, v in options.to_key_values().items()}


def export_model(nemo_path, out_dir, att_context_size=None, mode: str = "auto", parity_check: bool = True,
                 model=None, quantize: str | None = None, default_decoder: str | None = None) -> Path:
    """Exports a checkpoint (or an already loaded `model`) into out_dir; returns out_dir.

    mode: "streaming" (cache-aware graph), "offline" (whole utterances) or "auto" (streaming when the
    encoder is cache-aware). Runs a parity check against NeMo unless parity_check is False (on the float
    graph, before any quantization). quantize: None, or "int8" for ONNX Runtime dynamic quantization of the
    encoder's matrix multiplications (int8 weights, activations quantized per call); its accuracy is
    measured by the shipped-model recipe's evaluate.py, not held to the parity tolerance.
    default_decoder: the head the runtime decodes with unless told otherwise (default: NeMo's, the transducer
    of a hybrid model).
    """
    if quantize not in (None, "int8"):
        raise ConfigError(f"quantize must be None or 'int8', got {quantize!r}")
    if model is None:
        model = load_nemo_model(nemo_path)
    else:
        check_supported(model)
        model.eval()

    import nemo
    import torch
    from nemo.core.classes.common import typecheck

    from nemo_fast.export.wrappers import (
        CacheAwareEncoderExport,
        OfflineEncoderExport,
        convolutions_for_onnxruntime,
        key_value_attention_caches,
        lean_subsampling_masks,
    )

    encoder = model.encoder
    if mode not in ("auto", "streaming", "offline"):
        raise ConfigError(f"mode must be auto, streaming or offline, got {mode!r}")
    streaming = is_cache_aware(encoder) if mode == "auto" else mode == "streaming"
    if streaming and not is_cache_aware(encoder):
        raise ModelError("the encoder is not cache-aware (needs chunked_limited attention and causal convolutions)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokens, vocab_kind = vocabulary(model)
    heads = decoders(model)
    if default_decoder is not None and default_decoder not in heads:
        raise ConfigError(f"default_decoder {default_decoder!r} is not one of this model's heads: {', '.join(heads)}")
    meta = {
        "nemo_fast.schema_version": str(md.SCHEMA_VERSION),
        "model_class": type(model).__name__,
        "nemo_version": nemo.__version__,
        "decoders": ",".join(heads),
        "default_decoder": default_decoder or heads[0],
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
    if is_transducer(model):
        meta.update(transducer_metadata(model))
    encoder_heads = tuple(["ctc"] if "ctc" in heads else []) + (("transducer",) if is_transducer(model) else ())
    onnx_path = out / "model.onnx"
    with tempfile.TemporaryDirectory() as tmp:
        tmp_onnx = Path(tmp) / "model.onnx"
        with typecheck.disable_checks(), torch.inference_mode(), convolutions_for_onnxruntime(model), \
                lean_subsampling_masks(encoder), contextlib.ExitStack() as streaming_swaps:
            if streaming:
                lookahead = select_lookahead(encoder, att_context_size)
                encoder.export_cache_support = True
                encoder.setup_streaming_params()
                key_value_attentions = streaming_swaps.enter_context(key_value_attention_caches(encoder))
                cfg = encoder.streaming_cfg
                channel, time, _ = encoder.get_initial_cache_state(batch_size=1)
                if key_value_attentions:
                    channel = torch.cat([channel, channel], dim=-1)
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
                    "cache.last_channel_content": "keys_values" if key_value_attentions else "inputs",
                })  # fmt: skip
                step = CacheAwareEncoderExport(model, encoder_heads, key_value_attentions)
                _export_streaming(model, step, tmp_onnx, channel, time)
            else:
                if att_context_size is not None:
                    select_lookahead(encoder, att_context_size)
                _export_offline(model, OfflineEncoderExport(model, encoder_heads), tmp_onnx)
            if is_transducer(model):
                _export_transducer(model, Path(tmp))
        md.write_metadata(tmp_onnx, meta)
        for name in ["model.onnx"] + ([TRANSDUCER_DECODER_FILE, TRANSDUCER_JOINER_FILE] if is_transducer(model) else []):
            shutil.move(str(Path(tmp) / name), out / name)
    (out / "tokens.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
    log.info("exported %s to %s", type(model).__name__, out)
    if parity_check:
        check_parity(model, out, streaming)
    if quantize == "int8":
        quantize_int8(onnx_path, meta)
    return out


def quantize_int8(onnx_path: Path, meta: dict[str, str]) -> None:
    """Replaces the encoder graph with its dynamically quantized form (MatMul weights int8, per channel)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        quantized = Path(tmp) / "model.int8.onnx"
        quantize_dynamic(str(onnx_path), str(quantized), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"])
        md.write_metadata(quantized, {**meta, "quantization": "int8"})
        shutil.move(str(quantized), onnx_path)
    log.info("quantized %s to int8", onnx_path)


TRANSDUCER_DECODER_FILE = "decoder.onnx"
TRANSDUCER_JOINER_FILE = "joiner.onnx"


def max_symbols_per_step(model) -> int:
    """NeMo's greedy transducer limit on symbols emitted at one frame (-1: none)."""
    value = getattr(getattr(model.decoding, "decoding", None), "max_symbols", None)
    if value is None:
        greedy = model.cfg.decoding.get("greedy", {}) if model.cfg.get("decoding") is not None else {}
        value = greedy.get("max_symbols", None)
    return -1 if value is None else int(value)


def transducer_metadata(model) -> dict[str, str]:
    rnn = model.decoder.prediction["dec_rnn"].lstm
    return {
        "transducer.decoder_file": TRANSDUCER_DECODER_FILE,
        "transducer.joiner_file": TRANSDUCER_JOINER_FILE,
        "transducer.pred_rnn_layers": str(rnn.num_layers),
        "transducer.pred_hidden": str(rnn.hidden_size),
        "transducer.joint_hidden": str(model.joint.joint_hidden),
        "transducer.max_symbols_per_step": str(max_symbols_per_step(model)),
        "transducer.durations": ",".join(str(d) for d in tdt_durations(model)),
    }


def _export_transducer(model, out: Path) -> None:
    """decoder.onnx (one prediction-network step) and joiner.onnx (the joint after projections)."""
    import torch

    from nemo_fast.export.wrappers import JointExport, PredictionStepExport

    rnn = model.decoder.prediction["dec_rnn"].lstm
    layers, hidden, joint_hidden = rnn.num_layers, rnn.hidden_size, model.joint.joint_hidden
    example = (torch.zeros(1, 1, dtype=torch.int64), torch.zeros(layers, 1, hidden), torch.zeros(layers, 1, hidden))
    torch.onnx.export(PredictionStepExport(model).eval(), example, str(out / TRANSDUCER_DECODER_FILE),
                      input_names=md.DECODER_INPUTS, output_names=md.DECODER_OUTPUTS,
                      dynamic_axes={"targets": {0: "batch"}, "states_h": {1: "batch"}, "states_c": {1: "batch"},
                                    "decoder_output": {0: "batch"}, "states_h_next": {1: "batch"},
                                    "states_c_next": {1: "batch"}},
                      opset_version=17, dynamo=False)  # fmt: skip
    durations = tdt_durations(model)
    outputs = md.JOINER_OUTPUTS if durations else md.JOINER_OUTPUTS[:1]
    example = (torch.randn(1, joint_hidden), torch.randn(1, joint_hidden))
    torch.onnx.export(JointExport(model, len(durations)).eval(), example, str(out / TRANSDUCER_JOINER_FILE),
                      input_names=md.JOINER_INPUTS, output_names=outputs,
                      dynamic_axes={name: {0: "batch"} for name in md.JOINER_INPUTS + outputs},
                      opset_version=17, dynamo=False)  # fmt: skip


def _dynamic_axes(inputs, outputs):
    axes = {}
    for name in inputs + outputs:
        if name == "audio_signal":
            axes[name] = {0: "batch", 2: "frames"}
        elif name in md.HEAD_OUTPUTS.values():
            axes[name] = {0: "batch", 1: "out_frames"}
        elif name == "drop_extra_pre_encoded":
            continue
        else:
            axes[name] = {0: "batch"}
    return axes


def _export_streaming(model, wrapper, path: Path, channel, time) -> None:
    import torch

    encoder = model.encoder
    cfg = encoder.streaming_cfg
    later = lambda v: v[1] if isinstance(v, (list, tuple)) else v  # noqa: E731
    frames = later(cfg.chunk_size) + later(cfg.pre_encode_cache_size)
    wrapper.eval()
    outputs = md.encoder_outputs(wrapper.heads.heads, streaming=True)
    example = (
        torch.randn(1, encoder._feat_in, frames),
        torch.tensor([frames], dtype=torch.int64),
        channel.transpose(0, 1).contiguous(),
        time.transpose(0, 1).contiguous(),
        torch.zeros(1, dtype=torch.int64),
        torch.tensor(int(cfg.drop_extra_pre_encoded), dtype=torch.int64),
    )
    try:
        torch.onnx.export(wrapper, example, str(path), input_names=md.STREAMING_INPUTS, output_names=outputs,
                          dynamic_axes=_dynamic_axes(md.STREAMING_INPUTS, outputs),
                          opset_version=17, dynamo=False)
    finally:
        # Restore the encoder (the wrapper swapped in a dynamic-drop subsampling module).
        encoder.pre_encode = wrapper.encoder.pre_encode.inner
        encoder.setup_streaming_params()


def _export_offline(model, wrapper, path: Path) -> None:
    import torch

    encoder = model.encoder
    frames = 400
    outputs = md.encoder_outputs(wrapper.heads.heads, streaming=False)
    example = (torch.randn(1, encoder._feat_in, frames), torch.tensor([frames], dtype=torch.int64))
    torch.onnx.export(wrapper.eval(), example, str(path), input_names=md.OFFLINE_INPUTS, output_names=outputs,
                      dynamic_axes=_dynamic_axes(md.OFFLINE_INPUTS, outputs),
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
    """Runs the exported model with nemo_fast and the checkpoint with NeMo on the same audio, with every
    head; raises ExportParityError if CTC log-probs differ by more than 1e-4 or any tokens differ."""
    from nemo_fast.export import reference
    from nemo_fast.recognizer import Recognizer

    audio = parity_audio()
    for head in decoders(model):
        ours = Recognizer(out_dir, decoder=head, keep_log_probs=head == "ctc").transcribe(audio, sample_rate=16000)
        if head != "ctc":
            ref_tokens = (reference.nemo_streaming_transducer_tokens(model, audio) if streaming
                          else reference.nemo_offline_transducer_tokens(model, audio))  # fmt: skip
            if list(ours.token_ids) != ref_tokens:
                raise ExportParityError(f"parity check failed: {head} tokens differ from NeMo's "
                                        f"({len(ours.token_ids)} vs {len(ref_tokens)} tokens)")
            log.info("parity check passed (%s): %d tokens", head, len(ref_tokens))
            continue
        if streaming:
            ref_lp, ref_tokens = reference.nemo_streaming_log_probs(model, audio)
        else:
            ref_lp, ref_tokens = reference.nemo_offline_log_probs(model, audio)
        if ours.log_probs.shape != ref_lp.shape:
            raise ExportParityError(f"parity check: {ours.log_probs.shape} log-prob frames vs NeMo {ref_lp.shape}")
        diff = float(np.abs(ours.log_probs - ref_lp).max()) if ref_lp.size else 0.0
        if diff > PARITY_TOLERANCE or list(ours.token_ids) != list(ref_tokens):
            raise ExportParityError(
                f"parity check failed: max |log-prob difference| {diff:.3g} (tolerance {PARITY_TOLERANCE}), "
                f"tokens {'equal' if list(ours.token_ids) == list(ref_tokens) else 'differ'}"
            )
        log.info("parity check passed (ctc): %d frames, max |log-prob difference| %.2e", ref_lp.shape[0], diff)
