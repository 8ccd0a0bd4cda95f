"""The metadata schema that `nemo-fast export` writes into model.onnx and the runtime reads (version 2).

Every value is a string. Keys:

=================================  =====================================================================
nemo_fast.schema_version           "2"
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

from nemo_fast.export.nemo_model import is_transducer, max_symbols_per_step, tdt_durations

SCHEMA_VERSION = 2
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


def encoder_outputs(heads, streaming: bool) -> list[str]:
    """Output names of the encoder graph for these heads ("ctc", "transducer")."""
    names = [HEAD_OUTPUTS[h] for h in ("ctc", "transducer") if h in heads] + ["encoded_lengths"]
    return names + (CACHE_OUTPUTS if streaming else [])


def pair(values) -> str:
    """NeMo streaming_cfg values are an int or [first, later]; both become "first,later"."""
    if isinstance(values, (list, tuple)):
        return f"{int(values[0])},{int(values[1])}"
    return f"{int(values)},{int(values)}"


# Protocol buffers cannot hold a model of 2 GB or more (fp32 models of about 500 M parameters and up): such a
# graph keeps its weights in one file beside it, model.onnx.data, which ONNX Runtime reads from there.
PROTOBUF_LIMIT_BYTES = 2_000_000_000


def external_data_file(onnx_path) -> str:
    return f"{Path(onnx_path).name}.data"


def write_metadata(onnx_path, metadata: dict[str, str], external_data: bool | None = None) -> bool:
    """Replaces the graph's metadata. external_data: keep the weights in ONNX_PATH.data (None: when the
    model would exceed protobuf's 2 GB). Returns whether the weights went to the external file."""
    import onnx

    model = onnx.load(str(onnx_path))
    del model.metadata_props[:]
    for key, value in sorted(metadata.items()):
        entry = model.metadata_props.add()
        entry.key = key
        entry.value = str(value)
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


def model_metadata(model, decoders: list[str], default_decoder: str, streaming: bool, tokens: list[str],
                   vocabulary_type: str) -> dict[str, str]:
    """The keys every exported model has: model, heads, encoder sizes, vocabulary, features, transducer."""
    import nemo

    encoder = model.encoder
    meta = {
        "nemo_fast.schema_version": str(SCHEMA_VERSION),
        "model_class": type(model).__name__,
        "nemo_version": nemo.__version__,
        "decoders": ",".join(decoders),
        "default_decoder": default_decoder,
        "mode": "streaming" if streaming else "offline",
        "feat_in": str(encoder._feat_in),
        "subsampling_factor": str(encoder.subsampling_factor),
        "d_model": str(encoder.d_model),
        "n_layers": str(encoder.n_layers),
        "vocab_size": str(len(tokens)),
        "blank_id": str(len(tokens) - 1),
        "vocabulary_type": vocabulary_type,
        "tokens_file": "tokens.txt",
        **feature_metadata(model),
    }
    if is_transducer(model):
        meta.update(transducer_metadata(model))
    return meta


def streaming_metadata(encoder, lookahead, channel, time, key_value_attentions: bool) -> dict[str, str]:
    """The streaming geometry (NeMo's streaming_cfg for the exported lookahead) and the cache layout."""
    cfg = encoder.streaming_cfg
    return {
        "att_context_size": f"{lookahead[0]},{lookahead[1]}",
        "att_context_sizes_available": ";".join(
            f"{a[0]},{a[1]}" for a in getattr(encoder, "att_context_size_all", [lookahead])),
        "streaming.chunk_size": pair(cfg.chunk_size),
        "streaming.shift_size": pair(cfg.shift_size),
        "streaming.pre_encode_cache_size": pair(cfg.pre_encode_cache_size),
        "streaming.sampling_frames": pair(encoder.pre_encode.get_sampling_frames()),
        "streaming.drop_extra_pre_encoded": str(int(cfg.drop_extra_pre_encoded)),
        "streaming.valid_out_len": str(int(cfg.valid_out_len)),
        "streaming.last_channel_cache_size": str(int(cfg.last_channel_cache_size)),
        "cache.last_channel_shape": f"{channel.shape[0]},{channel.shape[2]},{channel.shape[3]}",
        "cache.last_time_shape": f"{time.shape[0]},{time.shape[2]},{time.shape[3]}",
        "cache.last_channel_content": "keys_values" if key_value_attentions else "inputs",
    }  # fmt: skip


def offline_metadata(encoder) -> dict[str, str]:
    """The position limit of an offline graph, read from the encoder's sinusoid table as exported (local
    attention has none)."""
    table = encoder.pos_enc.pe.size(1)
    if encoder.self_attention_model == "rel_pos":
        return {"offline.max_encoder_frames": str(table // 2 + 1)}  # NeMo's centre: inputs of up to this length
    if encoder.self_attention_model == "abs_pos":
        return {"offline.max_encoder_frames": str(table)}
    return {}


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
