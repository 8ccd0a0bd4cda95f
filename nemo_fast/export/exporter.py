"""`nemo-fast export`: a NeMo .nemo checkpoint to an ONNX model directory nemo_fast runs.

Needs torch, NeMo and onnx (export time only). The directory holds model.onnx (graph + metadata, see
nemo_fast/model_format.py) and tokens.txt.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np

from nemo_fast import model_format as fmt
from nemo_fast.errors import ConfigError, ModelError, NemoFastError
from nemo_fast.export import metadata as md
from nemo_fast.export.nemo_model import (
    check_supported,
    decoders,
    is_cache_aware,
    is_transducer,
    load_nemo_model,
    select_lookahead,
    tdt_durations,
    vocabulary,
)

log = logging.getLogger("nemo_fast.export")

PARITY_TOLERANCE = 1e-4


class ExportParityError(NemoFastError, RuntimeError):
    """The exported model's outputs differ from NeMo's on the parity check."""


def export_model(nemo_path, out_dir, att_context_size=None, mode: str = "auto", parity_check: bool = True,
                 model=None, quantize: str | None = None, default_decoder: str | None = None,
                 cmvn_stats: str | Path | None = None, external_data: bool | None = None) -> Path:
    """Exports a checkpoint (or an already loaded `model`) into out_dir; returns out_dir.

    mode: "streaming" (cache-aware graph), "offline" (whole utterances) or "auto" (streaming when the
    encoder is cache-aware). Runs a parity check against NeMo unless parity_check is False (on the float
    graph, before any quantization). quantize: None, or "int8" for ONNX Runtime dynamic quantization of the
    encoder's matrix multiplications (int8 weights, activations quantized per call); its accuracy is
    measured by the shipped-model recipe's evaluate.py, not held to the parity tolerance.
    default_decoder: the decoder the runtime uses unless told otherwise (default: NeMo's, the transducer
    of a hybrid model). cmvn_stats: a Kaldi global_cmvn.stats (text) or JSON mean/std file that replaces the
    model's feature normalization with these fixed statistics (NeMo's normalize {fixed_mean, fixed_std}).
    external_data: write the encoder's weights to model.onnx.data beside the graph (None: when the graph would
    exceed protobuf's 2 GB, as a float model of about 500 M parameters does); an int8 graph fits in one file.
    """
    if quantize not in (None, "int8"):
        raise ConfigError(f"quantize must be None or 'int8', got {quantize!r}")
    if model is None:
        model = load_nemo_model(nemo_path)
    else:
        check_supported(model)
        model.eval()
    if cmvn_stats is not None:
        from nemo_fast.export.cmvn import apply_cmvn_stats, read_cmvn_stats

        apply_cmvn_stats(model, *read_cmvn_stats(cmvn_stats))

    encoder = model.encoder
    if mode not in ("auto", "streaming", "offline"):
        raise ConfigError(f"mode must be auto, streaming or offline, got {mode!r}")
    streaming = is_cache_aware(encoder) if mode == "auto" else mode == "streaming"
    if streaming and not is_cache_aware(encoder):
        raise ModelError("the encoder is not cache-aware (needs chunked_limited attention and causal convolutions)")
    out = Path(out_dir)
    tokens, vocab_kind = vocabulary(model)
    heads = decoders(model)
    if default_decoder is not None and default_decoder not in heads:
        raise ConfigError(f"default_decoder {default_decoder!r} is not one of this model's decoders: "
                          f"{', '.join(heads)}")
    meta = md.model_metadata(model, heads, default_decoder or heads[0], streaming, tokens, vocab_kind)
    encoder_heads = tuple(["ctc"] if "ctc" in heads else []) + (("transducer",) if is_transducer(model) else ())
    # Everything is written to a staging folder beside out_dir and moved into place only once the parity check
    # has passed: a failed export leaves nothing loadable behind.
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        files = _write_model(model, staging, meta, tokens, encoder_heads, streaming, att_context_size,
                             external_data)
        if parity_check:
            check_parity(model, staging, streaming)
        if quantize == "int8":
            quantize_int8(staging / "model.onnx", meta)
            files = [f for f in files if f != fmt.external_data_file(fmt.MODEL_FILE)]
        out.mkdir(exist_ok=True)
        for name in files:
            (staging / name).replace(out / name)
        if fmt.external_data_file(fmt.MODEL_FILE) not in files:  # an earlier export's weights, now in the graph
            (out / fmt.external_data_file(fmt.MODEL_FILE)).unlink(missing_ok=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("exported %s to %s", type(model).__name__, out)
    return out


def _write_model(model, out: Path, meta: dict[str, str], tokens: list[str], encoder_heads, streaming: bool,
                 att_context_size, external_data: bool | None) -> list[str]:
    """The graphs with their metadata and tokens.txt, into out; returns the file names."""
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
    with tempfile.TemporaryDirectory() as tmp:
        tmp_onnx = Path(tmp) / "model.onnx"
        with typecheck.disable_checks(), torch.inference_mode(), convolutions_for_onnxruntime(model), \
                lean_subsampling_masks(encoder), contextlib.ExitStack() as streaming_swaps:
            if streaming:
                lookahead = select_lookahead(encoder, att_context_size)
                encoder.export_cache_support = True
                encoder.setup_streaming_params()
                key_value_attentions = streaming_swaps.enter_context(key_value_attention_caches(encoder))
                channel, time, _ = encoder.get_initial_cache_state(batch_size=1)
                if key_value_attentions:
                    channel = torch.cat([channel, channel], dim=-1)
                meta.update(md.streaming_metadata(encoder, lookahead, channel, time, key_value_attentions))
                step = CacheAwareEncoderExport(model, encoder_heads, key_value_attentions)
                _export_streaming(model, step, tmp_onnx, channel, time)
            else:
                if att_context_size is not None:
                    select_lookahead(encoder, att_context_size)
                _export_offline(model, OfflineEncoderExport(model, encoder_heads), tmp_onnx)
                meta.update(md.offline_metadata(encoder))
            if is_transducer(model):
                _export_transducer(model, Path(tmp))
        external = fmt.write_metadata(tmp_onnx, meta, external_data)
        graphs = ["model.onnx"] + ([fmt.external_data_file(fmt.MODEL_FILE)] if external else [])
        graphs += [fmt.TRANSDUCER_DECODER_FILE, fmt.TRANSDUCER_JOINER_FILE] if is_transducer(model) else []
        for name in graphs:
            shutil.move(str(Path(tmp) / name), out / name)
    (out / fmt.TOKENS_FILE).write_text("\n".join(tokens) + "\n", encoding="utf-8")
    return graphs + [fmt.TOKENS_FILE]


def quantize_int8(onnx_path: Path, meta: dict[str, str]) -> None:
    """Replaces the encoder graph with its dynamically quantized form (MatMul weights int8, per channel)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        quantized = Path(tmp) / "model.int8.onnx"
        quantize_dynamic(str(onnx_path), str(quantized), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"])
        if fmt.write_metadata(quantized, {**meta, **fmt.quantization_keys("int8")}):
            raise ModelError("the int8 graph is larger than 2 GB")
        shutil.move(str(quantized), onnx_path)
        onnx_path.with_name(fmt.external_data_file(onnx_path)).unlink(missing_ok=True)
    log.info("quantized %s to int8", onnx_path)


def _export_transducer(model, out: Path) -> None:
    """decoder.onnx (one prediction-network step) and joiner.onnx (the joint after projections)."""
    import torch

    from nemo_fast.export.wrappers import JointExport, PredictionStepExport

    rnn = model.decoder.prediction["dec_rnn"].lstm
    layers, hidden, joint_hidden = rnn.num_layers, rnn.hidden_size, model.joint.joint_hidden
    example = (torch.zeros(1, 1, dtype=torch.int64), torch.zeros(layers, 1, hidden), torch.zeros(layers, 1, hidden))
    torch.onnx.export(PredictionStepExport(model).eval(), example, str(out / fmt.TRANSDUCER_DECODER_FILE),
                      input_names=fmt.DECODER_INPUTS, output_names=fmt.DECODER_OUTPUTS,
                      dynamic_axes={"targets": {0: "batch"}, "states_h": {1: "batch"}, "states_c": {1: "batch"},
                                    "decoder_output": {0: "batch"}, "states_h_next": {1: "batch"},
                                    "states_c_next": {1: "batch"}},
                      opset_version=17, dynamo=False)  # fmt: skip
    durations = tdt_durations(model)
    outputs = fmt.JOINER_OUTPUTS if durations else fmt.JOINER_OUTPUTS[:1]
    example = (torch.randn(1, joint_hidden), torch.randn(1, joint_hidden))
    torch.onnx.export(JointExport(model, len(durations)).eval(), example, str(out / fmt.TRANSDUCER_JOINER_FILE),
                      input_names=fmt.JOINER_INPUTS, output_names=outputs,
                      dynamic_axes={name: {0: "batch"} for name in fmt.JOINER_INPUTS + outputs},
                      opset_version=17, dynamo=False)  # fmt: skip


def _dynamic_axes(inputs, outputs):
    axes = {}
    for name in inputs + outputs:
        if name == "audio_signal":
            axes[name] = {0: "batch", 2: "frames"}
        elif name in fmt.HEAD_OUTPUTS.values():
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
    outputs = fmt.encoder_outputs(wrapper.heads.heads, streaming=True)
    example = (
        torch.randn(1, encoder._feat_in, frames),
        torch.tensor([frames], dtype=torch.int64),
        channel.transpose(0, 1).contiguous(),
        time.transpose(0, 1).contiguous(),
        torch.zeros(1, dtype=torch.int64),
        torch.tensor(int(cfg.drop_extra_pre_encoded), dtype=torch.int64),
    )
    try:
        torch.onnx.export(wrapper, example, str(path), input_names=fmt.STREAMING_INPUTS, output_names=outputs,
                          dynamic_axes=_dynamic_axes(fmt.STREAMING_INPUTS, outputs),
                          opset_version=17, dynamo=False)
    finally:
        # Restore the encoder (the wrapper swapped in a dynamic-drop subsampling module).
        encoder.pre_encode = wrapper.encoder.pre_encode.inner
        encoder.setup_streaming_params()


def _export_offline(model, wrapper, path: Path) -> None:
    import torch

    encoder = model.encoder
    frames = 400
    outputs = fmt.encoder_outputs(wrapper.heads.heads, streaming=False)
    example = (torch.randn(1, encoder._feat_in, frames), torch.tensor([frames], dtype=torch.int64))
    torch.onnx.export(wrapper.eval(), example, str(path), input_names=fmt.OFFLINE_INPUTS, output_names=outputs,
                      dynamic_axes=_dynamic_axes(fmt.OFFLINE_INPUTS, outputs),
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
