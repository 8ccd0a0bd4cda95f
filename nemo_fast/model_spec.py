"""What an exported model says about itself (its ONNX metadata, validated by the core when it loads)."""

from __future__ import annotations

from dataclasses import dataclass

from nemo_fast import _core


@dataclass(frozen=True)
class StreamingGeometry:
    """NeMo's cache-aware streaming configuration for the exported lookahead, in feature frames.

    Pairs are (first chunk, later chunks)."""

    chunk_size: tuple[int, int]
    shift_size: tuple[int, int]
    pre_encode_cache_size: tuple[int, int]
    sampling_frames: tuple[int, int]  # a final chunk shorter than this is not run (NeMo's iterator stops)
    drop_extra_pre_encoded: int       # encoder frames made of pre-encode cache, dropped from later chunks
    valid_out_len: int                # encoder frames kept per chunk, except the last
    last_channel_cache_size: int      # attention cache frames
    streaming_modes: tuple[str, ...]  # "default" and "pad_and_drop_preencoded", or only the latter (NeMo's
                                      # own export, whose graph drops pre-encoded frames on every chunk)


@dataclass(frozen=True)
class TransducerSpec:
    """The RNN-T or TDT head: prediction network (decoder.onnx) and joint (joiner.onnx)."""

    decoder_file: str  # beside model.onnx
    joiner_file: str
    pred_rnn_layers: int
    pred_hidden: int
    joint_hidden: int
    max_symbols_per_step: int  # NeMo's greedy limit per frame; -1: none (bounded at 100 by nemo_fast)
    durations: tuple[int, ...]  # TDT durations in frames; empty for RNN-T


@dataclass(frozen=True)
class ModelSpec:
    """The contract of an exported model: features, decoders, vocabulary, streaming geometry and caches."""

    schema_version: int
    model_class: str
    nemo_version: str
    decoders: tuple[str, ...]  # the decoders (heads) the model has: "ctc", "rnnt", "tdt"
    default_decoder: str
    streaming: bool            # cache-aware streaming graph, else whole utterances
    features: _core.FbankOptions
    feat_in: int
    subsampling_factor: int
    vocab_size: int            # output classes, blank included
    blank_id: int
    vocabulary_type: str       # "bpe" or "char"
    tokens_file: str           # beside model.onnx, one token per line in id order
    frame_shift_seconds: float  # seconds per encoder output frame
    att_context_size: tuple[int, int] | None = None        # streaming models
    geometry: StreamingGeometry | None = None              # streaming models
    cache_last_channel_shape: tuple[int, int, int] | None = None  # per stream: layers, frames, width
    cache_last_time_shape: tuple[int, int, int] | None = None     # per stream: layers, d_model, kernel - 1
    transducer: TransducerSpec | None = None               # models with an RNN-T or TDT head
    # Offline models: the longest input the graph's position table covers, in encoder frames (None: not recorded).
    max_encoder_frames: int | None = None

    @classmethod
    def from_metadata(cls, metadata: dict[str, str], source: str = "the metadata") -> ModelSpec:
        """The spec the core reads from a model's metadata (nemo_fast.model_format). Raises ModelError
        naming every missing or malformed key."""
        return cls._from_core(_core.model_spec_from_metadata(metadata, source))

    @classmethod
    def _from_core(cls, d: dict) -> ModelSpec:
        geometry = d.get("streaming")
        transducer = d.get("transducer")
        return cls(
            schema_version=d["schema_version"], model_class=d["model_class"], nemo_version=d["nemo_version"],
            decoders=tuple(d["decoders"]), default_decoder=d["default_decoder"], streaming=d["mode"] == "streaming",
            features=d["features"], feat_in=d["feat_in"], subsampling_factor=d["subsampling_factor"],
            vocab_size=d["vocab_size"], blank_id=d["blank_id"], vocabulary_type=d["vocabulary_type"],
            tokens_file=d["tokens_file"], frame_shift_seconds=d["frame_shift_seconds"],
            att_context_size=d.get("att_context_size"),
            geometry=StreamingGeometry(**{**geometry, "streaming_modes": tuple(geometry["streaming_modes"])})
            if geometry else None,
            cache_last_channel_shape=d.get("cache_last_channel_shape"),
            cache_last_time_shape=d.get("cache_last_time_shape"),
            transducer=TransducerSpec(**{**transducer, "durations": tuple(transducer["durations"])})
            if transducer else None,
            max_encoder_frames=d.get("max_encoder_frames"),
        )
