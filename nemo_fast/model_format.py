"""The model format: the metadata schema that `nemo-fast export` and `nemo-fast import` write into model.onnx
(through this module only) and the core reads, the files beside it and the graphs' tensor names.

Every value is a string. Keys:

=================================  =====================================================================
nemo_fast.schema_version           SCHEMA_VERSION (2)
model_class, nemo_version          the NeMo class and version that exported the model
decoders                           the decoders the model has, ","-separated: "ctc", "rnnt"
                                   (RNN-T) or "tdt" (token-and-duration transducer); "rnnt,ctc" for
                                   a hybrid
default_decoder                    the decoder used when none is chosen (NeMo's default: the transducer
                                   of a hybrid)
mode                               "streaming" (cache-aware graph) or "offline" (whole utterances)
feat_in, subsampling_factor        encoder input features and time reduction
d_model, n_layers                  encoder width and depth (checked against the cache shapes)
vocab_size, blank_id               output classes including the blank, and the blank's id
vocabulary_type, tokens_file       "bpe" (SentencePiece pieces) or "char"; the tokens file beside
                                   model.onnx, one token per line in id order
features.<key>                     ImprovedFbank options (FbankOptions.to_key_values()), including the
                                   checkpoint's window taps and mel matrix (base64 float32)
att_context_size                   "left,right" lookahead this graph was exported with (streaming)
att_context_sizes_available        every lookahead of a multi-lookahead checkpoint, ";"-separated
streaming.chunk_size               "first,later" feature frames per chunk (NeMo streaming_cfg)
streaming.shift_size               "first,later" frames the chunk start advances
streaming.pre_encode_cache_size    "first,later" frames of earlier features prepended to a chunk; in
                                   NeMo's default mode the first chunk uses the first value (0), with
                                   pad_and_drop_preencoded the later value (as zeros)
streaming.sampling_frames          "first,later": shorter final chunks are not run (NeMo's iterator)
streaming.drop_extra_pre_encoded   frames dropped after subsampling (0 for the default first chunk)
streaming.valid_out_len            outputs kept per chunk, all of them on the last chunk
streaming.last_channel_cache_size  attention cache frames
streaming.modes                    optional: "pad_and_drop_preencoded" when the graph drops
                                   drop_extra_pre_encoded frames on every chunk and has no such input
                                   (NeMo's own export, by `nemo-fast import`); absent: both modes
offline.max_encoder_frames         (offline graphs of relative- or absolute-position attention) the longest
                                   input in encoder frames the graph's position table covers (NeMo's
                                   pos_emb_max_len, or longer when the table was extended); longer inputs
                                   are cut into windows
import.source, import.assumptions  (`nemo-fast import`) the layout imported and what was taken from
                                   NeMo's defaults, " | "-separated
cache.last_channel_shape           "layers,frames,width" per batch row (batch-first layout); width is
                                   2*d_model when the cache holds keys and values, else d_model
cache.last_channel_content         "keys_values": each layer's projected keys then values of the past
                                   frames (nemo_fast's export of relative-position attention);
                                   "inputs": NeMo's own cache, the attention's normalized input
cache.last_time_shape              "layers,d_model,kernel-1" per batch row
quantization                       "int8" when the encoder graph was dynamically quantized (absent: float)
transducer.decoder_file            (transducers) the prediction-network step graph beside model.onnx
transducer.joiner_file             (transducers) the joint graph
transducer.pred_rnn_layers         LSTM layers L of the prediction network
transducer.pred_hidden             LSTM width H
transducer.joint_hidden            width of the joint's projections
transducer.max_symbols_per_step    NeMo's greedy limit of symbols per frame (-1: none)
transducer.durations               TDT durations in frames, ","-separated ("" for RNN-T)
=================================  =====================================================================

Encoder graph inputs (streaming): audio_signal (B,F,T) float32, length (B) int64, cache_last_channel
(B,L,C,D), cache_last_time (B,L,D,K), cache_last_channel_len (B) int64, drop_extra_pre_encoded () int64.
Outputs, for every output frame: log_probs (B,T',V) when the model has a CTC head, transducer_encoder
(B,T',H) (the joint's projection of the encoder output) when it has a transducer; then encoded_lengths
(B), cache_last_channel_next, cache_last_time_next, cache_last_channel_next_len. Offline graphs take
audio_signal and length and return the head outputs and encoded_lengths.

Transducer graphs: decoder.onnx takes targets (B,1) int64 (the blank id for NeMo's start-of-sequence
step), states_h and states_c (L,B,H) and returns decoder_output (B,H_joint) and the next states.
joiner.onnx takes encoder_output and decoder_output (B,H_joint) and returns log_probs (B,V), and for TDT
also duration_log_probs (B,len(durations)).
"""

from __future__ import annotations

from pathlib import Path

SCHEMA_VERSION = 2
MODEL_FILE = "model.onnx"
TOKENS_FILE = "tokens.txt"
TRANSDUCER_DECODER_FILE = "decoder.onnx"
TRANSDUCER_JOINER_FILE = "joiner.onnx"

STREAMING_INPUTS = ["audio_signal", "length", "cache_last_channel", "cache_last_time", "cache_last_channel_len",
                    "drop_extra_pre_encoded"]  # fmt: skip
HEAD_OUTPUTS = {"ctc": "log_probs", "transducer": "transducer_encoder"}
CACHE_OUTPUTS = ["cache_last_channel_next", "cache_last_time_next", "cache_last_channel_next_len"]
OFFLINE_INPUTS = ["audio_signal", "length"]
DECODER_INPUTS = ["targets", "states_h", "states_c"]
DECODER_OUTPUTS = ["decoder_output", "states_h_next", "states_c_next"]
JOINER_INPUTS = ["encoder_output", "decoder_output"]
JOINER_OUTPUTS = ["log_probs", "duration_log_probs"]

# Every key but the features.* ones (FbankOptions.to_key_values() names those).
KEYS = (
    "nemo_fast.schema_version", "model_class", "nemo_version", "decoders", "default_decoder", "mode", "feat_in",
    "subsampling_factor", "d_model", "n_layers", "vocab_size", "blank_id", "vocabulary_type", "tokens_file",
    "att_context_size", "att_context_sizes_available", "streaming.chunk_size", "streaming.shift_size",
    "streaming.pre_encode_cache_size", "streaming.sampling_frames", "streaming.drop_extra_pre_encoded",
    "streaming.valid_out_len", "streaming.last_channel_cache_size", "streaming.modes", "offline.max_encoder_frames",
    "import.source", "import.assumptions", "cache.last_channel_shape", "cache.last_channel_content",
    "cache.last_time_shape", "quantization", "transducer.decoder_file", "transducer.joiner_file",
    "transducer.pred_rnn_layers", "transducer.pred_hidden", "transducer.joint_hidden",
    "transducer.max_symbols_per_step", "transducer.durations",
)  # fmt: skip
CACHE_CONTENTS = ("keys_values", "inputs")
ASSUMPTIONS_SEPARATOR = " | "


def encoder_outputs(heads, streaming: bool) -> list[str]:
    """Output names of the encoder graph for these heads ("ctc", "transducer")."""
    names = [HEAD_OUTPUTS[h] for h in ("ctc", "transducer") if h in heads] + ["encoded_lengths"]
    return names + (CACHE_OUTPUTS if streaming else [])


def _joined(values) -> str:
    return ",".join(str(int(v)) for v in values)


def pair(values) -> str:
    """An int or [first, later] (NeMo's streaming_cfg values) as "first,later"."""
    if isinstance(values, (list, tuple)):
        return _joined(values[:2]) if len(values) == 2 else _bad("a pair", values)
    return _joined((values, values))


def _bad(what: str, value):
    raise ValueError(f"expected {what}, got {value!r}")


def model_keys(*, model_class: str, nemo_version: str, streaming: bool, feat_in: int, subsampling_factor: int,
               d_model: int, n_layers: int, vocab_size: int, vocabulary_type: str, features) -> dict[str, str]:
    """The keys every model has but its heads (head_keys). features: the _core.FbankOptions the core computes
    its features with. The blank is the last class (NeMo's convention for every head)."""
    return {
        "nemo_fast.schema_version": str(SCHEMA_VERSION),
        "model_class": model_class,
        "nemo_version": nemo_version,
        "mode": "streaming" if streaming else "offline",
        "feat_in": str(int(feat_in)),
        "subsampling_factor": str(int(subsampling_factor)),
        "d_model": str(int(d_model)),
        "n_layers": str(int(n_layers)),
        "vocab_size": str(int(vocab_size)),
        "blank_id": str(int(vocab_size) - 1),
        "vocabulary_type": vocabulary_type,
        "tokens_file": TOKENS_FILE,
        **{f"features.{k}": v for k, v in features.to_key_values().items()},
    }


def head_keys(decoders, default_decoder: str) -> dict[str, str]:
    """The decoders the model has ("ctc", "rnnt", "tdt") and the one used when none is chosen."""
    if default_decoder not in decoders:
        _bad(f"one of {list(decoders)}", default_decoder)
    return {"decoders": ",".join(decoders), "default_decoder": default_decoder}


def streaming_keys(*, att_context_size, att_context_sizes_available, chunk_size, shift_size, pre_encode_cache_size,
                   sampling_frames, drop_extra_pre_encoded: int, valid_out_len: int, last_channel_cache_size: int,
                   cache_last_channel_shape, cache_last_time_shape, cache_last_channel_content: str,
                   only_pad_and_drop_preencoded: bool = False) -> dict[str, str]:
    """The streaming geometry (NeMo's streaming_cfg for the exported lookahead, pairs as (first, later) or one
    value for both) and the cache layout (shapes per batch row)."""
    if cache_last_channel_content not in CACHE_CONTENTS:
        _bad(f"one of {CACHE_CONTENTS}", cache_last_channel_content)
    keys = {
        "att_context_size": _joined(att_context_size),
        "att_context_sizes_available": ";".join(_joined(a) for a in att_context_sizes_available),
        "streaming.chunk_size": pair(chunk_size),
        "streaming.shift_size": pair(shift_size),
        "streaming.pre_encode_cache_size": pair(pre_encode_cache_size),
        "streaming.sampling_frames": pair(sampling_frames),
        "streaming.drop_extra_pre_encoded": str(int(drop_extra_pre_encoded)),
        "streaming.valid_out_len": str(int(valid_out_len)),
        "streaming.last_channel_cache_size": str(int(last_channel_cache_size)),
        "cache.last_channel_shape": _joined(cache_last_channel_shape),
        "cache.last_time_shape": _joined(cache_last_time_shape),
        "cache.last_channel_content": cache_last_channel_content,
    }
    if only_pad_and_drop_preencoded:
        keys["streaming.modes"] = "pad_and_drop_preencoded"
    return keys


def offline_keys(max_encoder_frames: int | None) -> dict[str, str]:
    """An offline graph's position limit in encoder frames (None: it has none, e.g. local attention)."""
    return {} if max_encoder_frames is None else {"offline.max_encoder_frames": str(int(max_encoder_frames))}


def transducer_keys(*, pred_rnn_layers: int, pred_hidden: int, joint_hidden: int, max_symbols_per_step: int,
                    durations=()) -> dict[str, str]:
    """The prediction network and joint of an RNN-T (durations empty) or TDT head."""
    return {
        "transducer.decoder_file": TRANSDUCER_DECODER_FILE,
        "transducer.joiner_file": TRANSDUCER_JOINER_FILE,
        "transducer.pred_rnn_layers": str(int(pred_rnn_layers)),
        "transducer.pred_hidden": str(int(pred_hidden)),
        "transducer.joint_hidden": str(int(joint_hidden)),
        "transducer.max_symbols_per_step": str(int(max_symbols_per_step)),
        "transducer.durations": _joined(durations),
    }


def import_keys(source: str, assumptions) -> dict[str, str]:
    """What `nemo-fast import` read and what it took from NeMo's defaults."""
    return {"import.source": source, "import.assumptions": ASSUMPTIONS_SEPARATOR.join(assumptions)}


def quantization_keys(quantization: str | None) -> dict[str, str]:
    if quantization not in (None, "int8"):
        _bad("None or 'int8'", quantization)
    return {} if quantization is None else {"quantization": quantization}


def assumptions(metadata: dict[str, str]) -> list[str]:
    """import.assumptions as a list (empty for an exported model)."""
    text = metadata.get("import.assumptions", "")
    return text.split(ASSUMPTIONS_SEPARATOR) if text else []


# Protocol buffers cannot hold a model of 2 GB or more (fp32 models of about 500 M parameters and up): such a
# graph keeps its weights in one file beside it, model.onnx.data, which ONNX Runtime reads from there.
PROTOBUF_LIMIT_BYTES = 2_000_000_000


def external_data_file(onnx_path) -> str:
    return f"{Path(onnx_path).name}.data"


def set_metadata(model, metadata: dict[str, str]) -> None:
    """Replaces an onnx ModelProto's metadata (sorted by key)."""
    del model.metadata_props[:]
    for key, value in sorted(metadata.items()):
        model.metadata_props.add(key=key, value=str(value))


def write_metadata(onnx_path, metadata: dict[str, str], external_data: bool | None = None) -> bool:
    """Replaces the graph file's metadata. external_data: keep the weights in ONNX_PATH.data (None: when the
    model would exceed protobuf's 2 GB). Returns whether the weights went to the external file."""
    import onnx

    model = onnx.load(str(onnx_path))
    set_metadata(model, metadata)
    return save_model(model, onnx_path, external_data)


def save_model(model, onnx_path, external_data: bool | None = None) -> bool:
    """Saves an ONNX model, its weights in ONNX_PATH.data when external_data (None: when it would exceed
    protobuf's 2 GB). Returns whether they went there."""
    import onnx

    if external_data is None:
        try:
            external_data = model.ByteSize() >= PROTOBUF_LIMIT_BYTES
        except Exception:  # protobuf refuses to even measure a message over 2 GB (EncodeError)
            external_data = True
    data = Path(onnx_path).with_name(external_data_file(onnx_path))
    data.unlink(missing_ok=True)
    onnx.save(model, str(onnx_path), save_as_external_data=external_data, all_tensors_to_one_file=True,
              location=data.name, size_threshold=0)
    return external_data


def read_metadata(onnx_path) -> dict[str, str]:
    import onnx

    model = onnx.load(str(onnx_path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}
