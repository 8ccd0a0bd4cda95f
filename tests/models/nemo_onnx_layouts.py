"""ONNX packages of a NeMo model as users already have them, written with NeMo's own exporter: sherpa-onnx's
layouts (its metadata keys and tokens.txt, as its NeMo export scripts write them), the files of NeMo's
`model.export()` with a tokens file, and onnx-asr's folders (config.json, vocab.txt). Test and benchmark use."""

from __future__ import annotations

import json
from pathlib import Path


def _vocabulary(model) -> list[str]:
    if hasattr(model, "tokenizer"):
        return [model.tokenizer.ids_to_tokens([i])[0] for i in range(model.tokenizer.vocab_size)]
    return list(model.joint.vocabulary if hasattr(model, "joint") else model.decoder.vocabulary)


def _write_tokens(model, path: Path) -> None:
    pieces = _vocabulary(model)
    lines = [f"{piece} {i}" for i, piece in enumerate(pieces)] + [f"<blk> {len(pieces)}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _set_metadata(path: Path, meta: dict) -> None:
    import onnx

    # The graph only: a model over 2 GB keeps the weight files torch wrote beside it, referenced as they are.
    proto = onnx.load(str(path), load_external_data=False)
    del proto.metadata_props[:]
    for key, value in meta.items():
        proto.metadata_props.add(key=key, value=str(value))
    onnx.save(proto, str(path))


def _prepare(model, lookahead) -> None:
    if lookahead is not None:
        model.encoder.set_default_att_context_size(list(lookahead))
    model.encoder.setup_streaming_params()
    model.eval()


def _sherpa_metadata(model) -> dict:
    cfg = model.encoder.streaming_cfg
    later = lambda v: v[1] if isinstance(v, (list, tuple)) else v  # noqa: E731
    meta = {
        "vocab_size": len(_vocabulary(model)),
        "window_size": later(cfg.chunk_size) + later(cfg.pre_encode_cache_size),
        "chunk_shift": later(cfg.chunk_size),
        "normalize_type": "" if model.cfg.preprocessor.normalize == "NA" else model.cfg.preprocessor.normalize,
        "cache_last_channel_dim1": len(model.encoder.layers),
        "cache_last_channel_dim2": cfg.last_channel_cache_size,
        "cache_last_channel_dim3": model.encoder.d_model,
        "cache_last_time_dim1": len(model.encoder.layers),
        "cache_last_time_dim2": model.encoder.d_model,
        "cache_last_time_dim3": model.encoder.conv_context_size[0],
        "subsampling_factor": model.encoder.subsampling_factor,
        "model_type": type(model).__name__,
    }
    if hasattr(model, "joint"):
        meta.update(pred_rnn_layers=model.decoder.pred_rnn_layers, pred_hidden=model.decoder.pred_hidden)
    return meta


def write_sherpa_onnx(model, out: Path, lookahead) -> Path:
    """A sherpa-onnx NeMo streaming package: model.onnx (CTC) or encoder/decoder/joiner.onnx (transducer)."""
    _prepare(model, lookahead)
    out.mkdir(parents=True, exist_ok=True)
    model.set_export_config({"cache_support": "True"})
    if hasattr(model, "joint"):
        model.encoder.export(str(out / "encoder.onnx"))
        model.decoder.export(str(out / "decoder.onnx"))
        model.joint.export(str(out / "joiner.onnx"))
        _set_metadata(out / "encoder.onnx", _sherpa_metadata(model))
    else:
        model.export(str(out / "model.onnx"))
        _set_metadata(out / "model.onnx", _sherpa_metadata(model))
    _write_tokens(model, out / "tokens.txt")
    return out


def write_nemo_export(model, out: Path, lookahead, cache_support: bool = True) -> Path:
    """NeMo's `model.export("model.onnx")` (model.onnx, or encoder-model.onnx + decoder_joint-model.onnx)
    and a tokens.txt."""
    _prepare(model, lookahead)
    out.mkdir(parents=True, exist_ok=True)
    if cache_support:
        model.set_export_config({"cache_support": "True"})
    model.export(str(out / "model.onnx"))
    _write_tokens(model, out / "tokens.txt")
    return out


def write_onnx_asr(model, out: Path, model_type: str) -> Path:
    """An onnx-asr folder of an offline model: NeMo's export, vocab.txt and config.json."""
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.export(str(out / "model.onnx"))
    _write_tokens(model, out / "vocab.txt")
    config = {"model_type": model_type, "features_size": model.cfg.preprocessor.features,
              "subsampling_factor": model.encoder.subsampling_factor}
    (out / "config.json").write_text(json.dumps(config))
    return out
