"""What a loaded NeMo ASR model is, read in one place for the exporter, its graph wrappers, the metadata and the
NeMo reference loops: its class, its decoders (heads) and which module is the CTC one, its vocabulary, its
transducer settings. Reads only; needs NeMo where it loads a checkpoint."""

from __future__ import annotations

import tarfile
from pathlib import Path

from nemo_fast.errors import ConfigError, MissingDependencyError, ModelError, ModelFileNotFoundError

SUPPORTED_CLASSES = ("EncDecCTCModel", "EncDecCTCModelBPE", "EncDecHybridRNNTCTCModel", "EncDecHybridRNNTCTCBPEModel",
                     "EncDecRNNTModel", "EncDecRNNTBPEModel")


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


def max_symbols_per_step(model) -> int:
    """NeMo's greedy transducer limit on symbols emitted at one frame (-1: none)."""
    value = getattr(getattr(model.decoding, "decoding", None), "max_symbols", None)
    if value is None:
        greedy = model.cfg.decoding.get("greedy", {}) if model.cfg.get("decoding") is not None else {}
        value = greedy.get("max_symbols", None)
    return -1 if value is None else int(value)
