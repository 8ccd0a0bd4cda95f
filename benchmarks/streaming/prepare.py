"""`prepare`: the large streaming FastConformer architecture built with NeMo and exported per lookahead
(fp32, int8, and NeMo's stock export with the metadata sherpa-onnx reads); the shipped model likewise."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from common import TESTS_DIR

LARGE_LOOKAHEADS = ((70, 13), (70, 1))


def prepare(workdir: Path, shipped_nemo: Path | None) -> None:
    sys.path.insert(0, str(TESTS_DIR / "models"))
    from nemo_model_factory import ModelRecipe, build_model

    workdir.mkdir(parents=True, exist_ok=True)
    large = workdir / "large.nemo"
    if not large.exists():
        recipe = ModelRecipe(
            name="large", model_class="EncDecCTCModelBPE", features=80, d_model=512, n_layers=17, n_heads=8,
            subsampling_channels=256, att_context_size=LARGE_LOOKAHEADS, vocab_size=1024, seed=7,
        )  # fmt: skip
        model = build_model(recipe, workdir)
        print(f"large model: {sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters", flush=True)
        model.save_to(str(large))
    for lookahead in LARGE_LOOKAHEADS:
        _export_all(large, workdir / f"large_{lookahead[0]}_{lookahead[1]}", lookahead)
    if shipped_nemo is not None:
        _export_all(shipped_nemo, workdir / "shipped", None)



def _export_all(nemo_path: Path, out: Path, lookahead) -> None:
    from nemo_fast.export.exporter import export_model

    if not (out / "nemo_fast" / "model.onnx").exists():
        export_model(nemo_path, out / "nemo_fast", att_context_size=lookahead)
    if not (out / "nemo_fast_int8" / "model.onnx").exists():
        # The float graph passed the parity check just above; int8 accuracy is measured separately.
        export_model(nemo_path, out / "nemo_fast_int8", att_context_size=lookahead, quantize="int8",
                     parity_check=False)
    if not (out / "sherpa_onnx" / "model.onnx").exists():
        _export_for_sherpa(nemo_path, out / "sherpa_onnx", lookahead)
    (out / "source.json").write_text(json.dumps({"nemo": str(nemo_path.resolve()), "lookahead": lookahead}))



def _export_for_sherpa(nemo_path: Path, out: Path, lookahead) -> None:
    """NeMo's stock cache-aware export plus the metadata keys and tokens.txt that sherpa-onnx reads."""
    import onnx

    from nemo_fast.export.nemo_model import load_nemo_model

    model = load_nemo_model(nemo_path)
    if lookahead is not None:
        model.encoder.set_default_att_context_size(list(lookahead))
    model.encoder.setup_streaming_params()
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.set_export_config({"cache_support": "True"})
    path = out / "model.onnx"
    model.export(str(path))
    cfg = model.encoder.streaming_cfg
    later = lambda v: v[1] if isinstance(v, (list, tuple)) else v  # noqa: E731
    vocabulary = list(model.decoder.vocabulary)
    meta = {
        "vocab_size": len(vocabulary),
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
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    for key, value in meta.items():
        proto.metadata_props.add(key=key, value=str(value))
    onnx.save(proto, str(path))
    tokens = [f"{piece} {i}" for i, piece in enumerate(vocabulary)] + [f"<blk> {len(vocabulary)}"]
    (out / "tokens.txt").write_text("\n".join(tokens) + "\n")
