"""`nemo-fast import`: ONNX models that NeMo exported, as users already have them, rewritten into the model
directory nemo_fast runs. Needs the `onnx` package (``pip install nemo_fast[import]``); no NeMo, no torch.

Sources (a folder):

* sherpa-onnx's NeMo packages: streaming CTC (``model.onnx`` with sherpa-onnx's metadata keys) and streaming
  transducers (``encoder.onnx``, ``decoder.onnx``, ``joiner.onnx``), with ``tokens.txt``;
* NeMo's own ``model.export()``: one CTC graph, or ``encoder-*.onnx`` + ``decoder_joint-*.onnx`` for a
  transducer, cache-aware or offline, plus a tokens file (``tokens.txt`` or ``vocab.txt``);
* onnx-asr's NeMo folders (``config.json`` with a ``nemo-conformer-*`` model type, ``vocab.txt``): offline
  Parakeet CTC, RNN-T and TDT.

The graphs are kept as NeMo exported them, except at their edges: inputs and outputs take nemo_fast's names,
and a transducer's joint is split where its encoder and prediction branches meet, so that the encoder graph
returns the joint's projection of every frame and the prediction graph the projection of each token (the
arithmetic is NeMo's, moved, not changed). What the files do not say is taken from NeMo's defaults for these
models and recorded in the metadata (``import.assumptions``, printed by ``nemo-fast inspect``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from nemo_fast import model_format as fmt
from nemo_fast.errors import ConfigError, ModelError, NemoFastError

# Metadata keys sherpa-onnx writes into a NeMo streaming encoder (its export scripts).
_SHERPA_KEYS = ("window_size", "chunk_shift", "cache_last_channel_dim1", "cache_last_channel_dim2")
_ONNX_ASR_TYPES = {"nemo-conformer-ctc": "ctc", "nemo-conformer-rnnt": "rnnt", "nemo-conformer-tdt": "tdt"}
# NeMo's defaults where a checkpoint says nothing else (its FastConformer configs and greedy decoding).
_DEFAULT_MAX_SYMBOLS = 10
_PARAKEET_TDT_DURATIONS = (0, 1, 2, 3, 4)


@dataclass
class _Source:
    kind: str  # "sherpa-onnx", "nemo-export" or "onnx-asr"
    encoder: Path
    tokens: Path
    decoder: Path | None = None        # sherpa-onnx transducers: prediction network
    joiner: Path | None = None         # sherpa-onnx transducers: joint
    decoder_joint: Path | None = None  # NeMo's export: prediction network and joint in one graph
    config: dict = field(default_factory=dict)  # sherpa-onnx metadata or onnx-asr config.json
    config_origin: str = ""  # the file the config came from, for errors

    def whole_number(self, key: str, default: int | None = None, minimum: int = 1) -> int:
        """A setting of the package's metadata or config.json that must be a whole number >= minimum."""
        value = self.config.get(key, default)
        if isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ModelError(f"{self.config_origin}: {key} = {value!r} is not a whole number >= {minimum}")
        return value


def import_model(source_dir, out_dir, tokens=None, lookahead: int | None = None, int8: bool = False) -> Path:
    """Rewrites the NeMo ONNX model in source_dir into out_dir (a nemo_fast model directory); returns out_dir.

    tokens: the tokens file when the folder has none. lookahead: the right context (encoder frames) a bare
    NeMo export of a cache-aware model was exported with (sherpa-onnx packages say it; NeMo's files do not).
    int8: take the ``*.int8.onnx`` files of a folder that has both."""
    onnx = _onnx()
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"{out} exists and is not an empty folder: import writes a new model folder; give a new "
                          "path (or remove the old one)")
    source = _find_source(Path(source_dir), tokens, int8)
    tokens_list = _read_tokens(source.tokens)
    encoder = _load_graph(source.encoder)
    # Written beside OUT and renamed at the end: an import that fails or is interrupted leaves no half folder.
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.{os.getpid()}.importing"  # mkdir, not mkdtemp: the user's umask applies
    if staging.exists():
        shutil.rmtree(staging)  # left by a killed import of this process id
    staging.mkdir()
    try:
        try:
            _rewrite(onnx, source, encoder, tokens_list, lookahead, staging)
        except (NemoFastError, OSError):
            raise
        except Exception as e:  # onnx's inference and extraction, indexing of shapes NeMo's graphs do not have
            raise ModelError(f"{source.encoder.parent}: the graphs are not NeMo's export as nemo-fast import "
                             f"knows it ({type(e).__name__}: {e})") from e
        if out.is_dir():
            out.rmdir()  # empty (checked above); rename does not replace a folder on every system
        staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return out


def _rewrite(onnx, source: _Source, encoder, tokens_list: list[str], lookahead: int | None, out: Path) -> None:
    assumptions: list[str] = []
    streaming = _is_streaming(encoder)
    meta = _base_metadata(source, encoder, tokens_list, streaming, assumptions)
    if streaming:
        meta.update(_streaming_metadata(source, encoder, lookahead, assumptions))
    if not streaming and len(encoder.graph.output) == 1:
        _add_encoded_lengths(encoder, int(meta["subsampling_factor"]), assumptions)
    if source.decoder is None and source.decoder_joint is None:
        head = _ctc_output(encoder)
        _rename_tensor(encoder.graph, head, "log_probs")
        meta.update(fmt.head_keys(["ctc"], "ctc"))
    else:
        decoder, joiner, kind, transducer_meta = _split_transducer(onnx, source, encoder, len(tokens_list),
                                                                   assumptions)  # fmt: skip
        meta.update(fmt.head_keys([kind], kind), **transducer_meta)
        onnx.save(decoder, str(out / fmt.TRANSDUCER_DECODER_FILE))
        onnx.save(joiner, str(out / fmt.TRANSDUCER_JOINER_FILE))
    meta.update(fmt.import_keys(source.kind, assumptions))
    fmt.set_metadata(encoder, meta)
    fmt.save_model(encoder, out / fmt.MODEL_FILE)
    (out / fmt.TOKENS_FILE).write_text("\n".join(tokens_list) + "\n", encoding="utf-8")


def _onnx():
    try:
        import onnx
    except ImportError as e:
        raise ConfigError("nemo-fast import needs the onnx package: pip install nemo_fast[import]") from e
    return onnx


def _find_source(folder: Path, tokens, int8: bool) -> _Source:
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder")
    if (folder / fmt.MODEL_FILE).is_file() and "nemo_fast.schema_version" in _metadata(folder / fmt.MODEL_FILE):
        raise ConfigError(f"{folder} is a nemo_fast model folder already (exported or imported): use it as it is, "
                          f"e.g. nemo-fast transcribe --model {folder}")
    suffix = ".int8.onnx" if int8 else ".onnx"

    def pick(*names: str) -> Path | None:
        for name in names:
            path = folder / (name + suffix)
            if path.is_file():
                return path
        return None

    def glob_one(pattern: str) -> Path | None:
        hits = sorted(p for p in folder.glob(pattern + suffix) if int8 or not p.name.endswith(".int8.onnx"))
        if len(hits) > 1:
            raise ConfigError(f"{folder} holds several {pattern}{suffix} files: {', '.join(p.name for p in hits)}")
        return hits[0] if hits else None

    def tokens_file(*names: str) -> Path:
        if tokens is not None:
            return Path(tokens)
        for name in names:
            if (folder / name).is_file():
                return folder / name
        raise ConfigError(f"{folder} has no tokens file ({' or '.join(names)}); give one with --tokens")

    config_path = folder / "config.json"
    if config_path.is_file():
        config = _read_config(config_path)
        model_type = config.get("model_type")
        kind = _ONNX_ASR_TYPES.get(model_type) if isinstance(model_type, str) else None
        if kind is None:
            raise ModelError(f"{config_path}: model_type {model_type!r} is not a NeMo FastConformer CTC or "
                             f"transducer ({', '.join(_ONNX_ASR_TYPES)})")
        if kind == "ctc":
            encoder = pick("model")
            if encoder is None:
                raise ModelError(f"{folder}: an onnx-asr CTC folder needs model{suffix}")
            return _Source("onnx-asr", encoder, tokens_file("vocab.txt"), config=config,
                           config_origin=str(config_path))  # fmt: skip
        encoder, decoder_joint = pick("encoder-model"), pick("decoder_joint-model")
        if encoder is None or decoder_joint is None:
            raise ModelError(f"{folder}: an onnx-asr transducer folder needs encoder-model{suffix} and "
                             f"decoder_joint-model{suffix}")
        return _Source("onnx-asr", encoder, tokens_file("vocab.txt"), decoder_joint=decoder_joint, config=config,
                       config_origin=str(config_path))  # fmt: skip
    encoder, decoder, joiner = pick("encoder"), pick("decoder"), pick("joiner")
    if encoder is not None and decoder is not None and joiner is not None:
        return _Source("sherpa-onnx", encoder, tokens_file("tokens.txt"), decoder=decoder, joiner=joiner,
                       config=_metadata(encoder), config_origin=f"{encoder} (metadata)")  # fmt: skip
    encoder, decoder_joint = glob_one("encoder-*"), glob_one("decoder_joint-*")
    if encoder is not None and decoder_joint is not None:
        return _Source("nemo-export", encoder, tokens_file("tokens.txt", "vocab.txt"), decoder_joint=decoder_joint)
    candidates = sorted(p for p in folder.glob("*" + suffix) if int8 or not p.name.endswith(".int8.onnx"))
    if len(candidates) == 1:
        meta = _metadata(candidates[0])
        kind = "sherpa-onnx" if all(k in meta for k in _SHERPA_KEYS) else "nemo-export"
        return _Source(kind, candidates[0], tokens_file("tokens.txt", "vocab.txt"), config=meta,
                       config_origin=f"{candidates[0]} (metadata)")  # fmt: skip
    raise ModelError(f"{folder} holds no NeMo ONNX model nemo-fast import knows: a sherpa-onnx package (model.onnx, "
                     "or encoder.onnx + decoder.onnx + joiner.onnx, and tokens.txt), NeMo's export (one CTC graph, "
                     "or encoder-*.onnx + decoder_joint-*.onnx) or an onnx-asr folder (config.json)")


def _metadata(path: Path) -> dict[str, str]:
    return {p.key: p.value for p in _load_graph(path, load_external_data=False).metadata_props}


def _load_graph(path: Path, load_external_data: bool = True):
    """onnx.load with damage named: a file that is not a graph, a graph without nodes, weights whose stored
    bytes do not fill their shape (a truncated file or external data file)."""
    onnx = _onnx()
    try:
        model = onnx.load(str(path), load_external_data=load_external_data)
    except Exception as e:  # protobuf's DecodeError, missing external data, ... (onnx names no common base)
        raise ModelError(f"{path}: not a readable ONNX graph ({type(e).__name__}: {e})") from e
    if not model.graph.node or not model.graph.input:
        raise ModelError(f"{path}: not an ONNX graph (no nodes or no inputs: an empty or damaged file)")
    if load_external_data:
        for tensor in model.graph.initializer:
            _check_weight(path, tensor)
    return model


def _check_weight(path: Path, tensor) -> None:
    from onnx import TensorProto, helper

    if tensor.data_type in (TensorProto.STRING, TensorProto.UNDEFINED):
        return
    count = 1
    for d in tensor.dims:
        count *= d
    if tensor.HasField("raw_data"):
        itemsize = helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
        stored, expected = len(tensor.raw_data), count * itemsize
        if tensor.data_type in (TensorProto.INT4, TensorProto.UINT4):
            expected = (count + 1) // 2
    else:
        field_name = helper.tensor_dtype_to_field(tensor.data_type)
        stored, expected = len(getattr(tensor, field_name)), count
        if tensor.data_type in (TensorProto.COMPLEX64, TensorProto.COMPLEX128):
            expected *= 2
    if stored != expected:
        raise ModelError(f"{path}: weight {tensor.name!r} of shape {list(tensor.dims)} holds {stored} of its "
                         f"{expected} values or bytes (a truncated or damaged graph or external data file)")


def _read_config(path: Path) -> dict:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelError(f"{path}: not JSON ({e})") from e
    if not isinstance(config, dict):
        raise ModelError(f"{path}: holds a JSON {type(config).__name__}, not an object of settings")
    return config


def _read_tokens(path: Path) -> list[str]:
    """tokens.txt / vocab.txt as sherpa-onnx and onnx-asr write them ("piece id" per line), or one token per
    line in id order (nemo_fast's own). The blank must be the last id, as in NeMo's CTC and transducer heads."""
    if not path.is_file():
        raise ConfigError(f"tokens file {path} does not exist")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise ModelError(f"{path}: not UTF-8 text (byte {e.start}); a tokens file is UTF-8") from e
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    lines = [line for _, line in numbered]
    if any(" " in line.strip() for line in lines):  # "piece id" lines (a piece has no inner space)
        by_id: dict[int, str] = {}
        for n, line in numbered:
            piece, _, number = line.rpartition(" ")
            if not re.fullmatch(r"[0-9]+", number):
                raise ModelError(f"{path}, line {n}: {line!r} is not 'piece id' with an id of digits 0-9")
            if int(number) in by_id:
                raise ModelError(f"{path}, line {n}: id {number} is given twice")
            by_id[int(number)] = piece
        if sorted(by_id) != list(range(len(by_id))):
            raise ModelError(f"{path}: token ids are not 0..{len(by_id) - 1}")
        tokens = [by_id[i] for i in range(len(by_id))]
    else:
        tokens = lines
    if len(tokens) < 2:
        raise ModelError(f"{path} holds {len(tokens)} tokens; a model has at least one token and the blank")
    if tokens[-1] not in ("<blk>", "<blank>", "<b>"):
        raise ModelError(f"{path}: the last token is {tokens[-1]!r}, not the blank (<blk>) NeMo's heads put last")
    tokens[-1] = "<blk>"
    return tokens


def _is_streaming(encoder) -> bool:
    names = [i.name for i in encoder.graph.input]
    if names[:2] != ["audio_signal", "length"]:
        raise ModelError(f"the encoder's inputs are {names}, not NeMo's audio_signal, length[, caches]")
    if names[2:] == ["cache_last_channel", "cache_last_time", "cache_last_channel_len"]:
        return True
    if len(names) == 2:
        return False
    raise ModelError(f"the encoder's inputs are {names}: neither NeMo's offline nor its cache-aware export")


def _dims(value_info) -> list:
    return [d.dim_value if d.HasField("dim_value") else None for d in value_info.type.tensor_type.shape.dim]


def _input(graph, name: str):
    return next(i for i in graph.input if i.name == name)


def _base_metadata(source: _Source, encoder, tokens: list[str], streaming: bool, assumptions: list[str]) -> dict:
    from nemo_fast.config import fbank_options_from_nemo

    feat_in = _dims(_input(encoder.graph, "audio_signal"))[1]
    if not feat_in:
        key = next((k for k in ("feat_dim", "features_size") if k in source.config), None)
        if key is None:
            raise ModelError(f"{source.encoder}: the audio_signal input does not give the number of mel bins")
        feat_in = source.whole_number(key)
    normalize = "NA" if streaming else "per_feature"
    if "normalize_type" in source.config:  # sherpa-onnx: "" for NA
        normalize = source.config["normalize_type"] or "NA"
        if normalize == "None":
            normalize = "NA"
        if normalize not in ("NA", "per_feature", "all_features"):
            raise ModelError(f"{source.config_origin}: normalize_type = {normalize!r} is not one of NeMo's "
                             "normalizations ('' for none, per_feature, all_features)")
    assumptions.append(f"features: NeMo's AudioToMelSpectrogramPreprocessor defaults (16 kHz, 25 ms hann window, "
                       f"10 ms shift, n_fft 512, preemph 0.97, log guard 2^-24 added), {feat_in} mel bins, "
                       f"normalize {normalize}")
    features = fbank_options_from_nemo({"sample_rate": 16000, "normalize": normalize, "window_size": 0.025,
                                        "window_stride": 0.01, "window": "hann", "features": feat_in, "n_fft": 512,
                                        "log": True, "frame_splicing": 1, "dither": 0.0, "pad_to": 0})  # fmt: skip
    subsampling = source.whole_number("subsampling_factor", 8)
    if "subsampling_factor" not in source.config:
        assumptions.append("subsampling_factor 8 (FastConformer)")
    n_layers, d_model = _encoder_sizes(encoder, streaming, assumptions)
    vocabulary_type = "bpe" if any(t.startswith("\u2581") for t in tokens) else "char"
    return fmt.model_keys(
        model_class=source.config.get("model_type", "unknown"), nemo_version="unknown", streaming=streaming, feat_in=feat_in, subsampling_factor=subsampling, d_model=d_model,
        n_layers=n_layers, vocab_size=len(tokens), vocabulary_type=vocabulary_type, features=features,
    )  # fmt: skip


def _encoder_sizes(encoder, streaming: bool, assumptions: list[str]) -> tuple[int, int]:
    """(n_layers, d_model): from the cache inputs of a streaming graph, else from the weights' names."""
    if streaming:
        channel = _dims(_input(encoder.graph, "cache_last_channel"))
        time = _dims(_input(encoder.graph, "cache_last_time"))
        if channel[1] and time[2]:
            return channel[1], time[2]
    layers = {int(m.group(1)) for i in encoder.graph.initializer if (m := re.search(r"layers\.(\d+)\.", i.name))}
    widths = [i.dims[0] for i in encoder.graph.initializer if re.search(r"layers\.0\.norm_out\.weight$", i.name)]
    if layers and widths:
        return max(layers) + 1, int(widths[0])
    assumptions.append("n_layers and d_model unknown (informational only for an offline model)")
    return 1, 1


def _streaming_metadata(source: _Source, encoder, lookahead: int | None, assumptions: list[str]) -> dict:
    """NeMo's CacheAwareStreamingConfig for chunked_limited attention with causal dw_striding subsampling
    (setup_streaming_params), from the lookahead and the cache shapes."""
    channel = _dims(_input(encoder.graph, "cache_last_channel"))
    time = _dims(_input(encoder.graph, "cache_last_time"))
    cfg = source.config
    if all(k in cfg for k in ("cache_last_channel_dim1", "cache_last_channel_dim2", "cache_last_channel_dim3")):
        channel = [None, *(source.whole_number(f"cache_last_channel_dim{i}") for i in (1, 2, 3))]
        time = [None, *(source.whole_number(f"cache_last_time_dim{i}") for i in (1, 2, 3))]
    ss = source.whole_number("subsampling_factor", 8)
    pre_encode = ss + 1  # the causal subsampling's left context, NeMo's pre_encode_cache_size
    if "chunk_shift" in cfg:
        later = source.whole_number("chunk_shift")
        if "window_size" in cfg:
            pre_encode = source.whole_number("window_size", minimum=later + 1) - later
        if later % ss:
            raise ModelError(f"{source.config_origin}: chunk_shift {later} is not a multiple of the subsampling "
                             f"factor {ss}")
        right = later // ss - 1
        if lookahead is not None and lookahead != right:
            raise ConfigError(f"--lookahead {lookahead} disagrees with the package's chunk_shift ({right})")
    elif lookahead is None:
        raise ConfigError("NeMo's export of a cache-aware encoder does not say which lookahead it was exported with: "
                          "give it with --lookahead R (the right context of att_context_size [L, R], in encoder "
                          "frames: 0, 1, 6 or 13 for NVIDIA's multi-lookahead models)")
    else:
        right = lookahead
        assumptions.append(f"pre-encode cache {pre_encode} frames (causal dw_striding at {ss}x)")
    if not all(channel[1:]) or not all(time[1:]):
        channel, time = _cache_shapes_from_graph(encoder, channel, time)
    left = channel[2]
    drop = 1 + (pre_encode - 1) // ss
    assumptions.append(f"att_context_size [{left}, {right}], chunked_limited; the graph drops {drop} pre-encoded "
                       "frames on every chunk (NeMo's export), so it streams in the pad_and_drop_preencoded mode")
    first_chunk = 1 + ss * right
    later_chunk = ss + ss * right
    return fmt.streaming_keys(
        att_context_size=(left, right), att_context_sizes_available=[(left, right)],
        chunk_size=(first_chunk, later_chunk), shift_size=(first_chunk, later_chunk),
        pre_encode_cache_size=(0, pre_encode), sampling_frames=(1, ss), drop_extra_pre_encoded=drop,
        valid_out_len=right + 1, last_channel_cache_size=left, cache_last_channel_shape=channel[1:],
        cache_last_time_shape=time[1:], cache_last_channel_content="inputs", only_pad_and_drop_preencoded=True,
    )  # fmt: skip


def _cache_shapes_from_graph(encoder, channel: list, time: list) -> tuple[list, list]:
    """NeMo's export leaves the cache lengths open; its graph keeps the last last_channel_cache_size frames
    of the attention cache (a Slice before the output's Transpose) and the depthwise convolution's kernel
    - 1 columns of the convolution cache."""
    from onnx import numpy_helper

    layers, d_model = channel[1], time[2] or channel[3]
    producers = {o: n for n in encoder.graph.node for o in n.output}
    constants = {i.name: numpy_helper.to_array(i) for i in encoder.graph.initializer}
    constants.update({n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in encoder.graph.node
                      if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value"})
    frames = None
    node = producers.get("cache_last_channel_next")
    while node is not None and node.op_type in ("Transpose", "Identity", "Slice") and frames is None:
        if node.op_type == "Slice" and len(node.input) >= 2 and node.input[1] in constants:
            start = int(constants[node.input[1]].reshape(-1)[0])
            frames = -start if start < 0 else None
        node = producers.get(node.input[0])
    kernels = [i.dims[-1] for i in encoder.graph.initializer if re.search(r"depthwise_conv\.weight$", i.name)]
    if not layers or not d_model or frames is None or not kernels:
        raise ModelError("the encoder graph does not show its cache sizes (layers, width, attention frames, "
                         "convolution kernel): not a NeMo cache-aware FastConformer export nemo-fast import knows")
    return [None, layers, frames, d_model], [None, layers, d_model, int(kernels[0]) - 1]


def _add_encoded_lengths(encoder, subsampling: int, assumptions: list[str]) -> None:
    """NeMo's offline CTC export returns only the log-probs: the lengths are those of its (non-causal)
    subsampling, ceil(frames / subsampling_factor)."""
    from onnx import TensorProto, helper

    graph = encoder.graph
    graph.initializer.extend([helper.make_tensor("import_ss_minus_one", TensorProto.INT64, [], [subsampling - 1]),
                              helper.make_tensor("import_ss", TensorProto.INT64, [], [subsampling])])
    graph.node.extend([helper.make_node("Add", ["length", "import_ss_minus_one"], ["import_length_up"]),
                       helper.make_node("Div", ["import_length_up", "import_ss"], ["encoded_lengths"])])
    graph.output.append(helper.make_tensor_value_info("encoded_lengths", TensorProto.INT64, ["B"]))
    assumptions.append(f"encoded lengths ceil(frames / {subsampling}) (NeMo's non-causal subsampling)")


def _ctc_output(encoder) -> str:
    outputs = [o.name for o in encoder.graph.output]
    if len(outputs) < 2 or outputs[1] != "encoded_lengths":
        raise ModelError(f"the graph's outputs are {outputs}; NeMo's CTC export returns log-probs, encoded_lengths")
    return outputs[0]


# --- graph editing -------------------------------------------------------------------------------------------


def _rename_tensor(graph, old: str, new: str) -> None:
    for node in graph.node:
        node.input[:] = [new if n == old else n for n in node.input]
        node.output[:] = [new if n == old else n for n in node.output]
    for value in [*graph.input, *graph.output, *graph.value_info]:
        if value.name == old:
            value.name = new


def _descendants(graph, names) -> set[str]:
    """Every tensor computed from the given tensors."""
    reached = set(names)
    for node in graph.node:  # ONNX graphs are topologically sorted
        if any(i in reached for i in node.input if i):
            reached.update(node.output)
    return reached


def _meeting_point(graph, encoder_input: str, decoder_inputs) -> tuple[str, str]:
    """The joint's (encoder side, prediction side) tensors at the first node that combines both branches."""
    from_encoder = _descendants(graph, [encoder_input])
    from_decoder = _descendants(graph, decoder_inputs) - from_encoder
    for node in graph.node:
        enc = [i for i in node.input if i in from_encoder]
        dec = [i for i in node.input if i in from_decoder]
        if enc and dec:
            if len(enc) != 1 or len(dec) != 1:
                break
            return enc[0], dec[0]
    raise ModelError("the joint graph has no single node where the encoder and prediction branches meet")


def _extract(onnx, model, inputs, outputs):
    inferred = onnx.shape_inference.infer_shapes(model)
    return onnx.utils.Extractor(inferred).extract_model(list(inputs), list(outputs))


def _shape(onnx, model, name: str) -> list:
    inferred = onnx.shape_inference.infer_shapes(model)
    for value in [*inferred.graph.value_info, *inferred.graph.output, *inferred.graph.input]:
        if value.name == name:
            return _dims(value)
    raise ModelError(f"the shape of {name} in the joint graph is unknown")


def _append(graph, part, prefix: str, connect: dict[str, str]) -> dict[str, str]:
    """Copies part's nodes and weights into graph, its inputs wired to graph tensors (connect: part input ->
    graph tensor) and every other name prefixed; returns part output -> name in graph."""
    names: dict[str, str] = dict(connect)

    def name(n: str) -> str:
        if not n:
            return n
        return names.setdefault(n, prefix + n)

    for init in part.graph.initializer:
        copy = graph.initializer.add()
        copy.CopyFrom(init)
        copy.name = name(init.name)
    for node in part.graph.node:
        copy = graph.node.add()
        copy.CopyFrom(node)
        copy.name = prefix + node.name
        copy.input[:] = [name(n) for n in node.input]
        copy.output[:] = [name(n) for n in node.output]
    return {o.name: name(o.name) for o in part.graph.output}


def _check_opsets(encoder, joint) -> None:
    def version(model):
        return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)

    if version(encoder) < 13 or version(joint) < 13:
        raise ModelError(f"graphs of opset {version(encoder)} and {version(joint)}: import needs opset 13 or later")
    if version(joint) > version(encoder):
        for o in encoder.opset_import:
            if o.domain in ("", "ai.onnx"):
                o.version = version(joint)


def _split_transducer(onnx, source: _Source, encoder, vocab_size: int, assumptions: list[str]):
    """nemo_fast's three transducer graphs from NeMo's: the encoder (edited in place) returns the joint's
    projection of each frame, decoder.onnx the projection of each token, joiner.onnx the rest of the joint."""
    from onnx import TensorProto, helper

    if source.decoder_joint is not None:  # NeMo's export: one graph, joint(encoder_outputs, decoder(targets))
        joint_model = _load_graph(source.decoder_joint)
        names = [i.name for i in joint_model.graph.input]
        if len(names) != 5:
            raise ModelError(f"{source.decoder_joint.name} has inputs {names}; NeMo's decoder_joint export has "
                             "encoder_outputs, targets, target_length and two LSTM states")
        enc_in, targets, target_length, state_h, state_c = names
        outputs = [o.name for o in joint_model.graph.output]
        logits_name, state_h_out, state_c_out = outputs[0], outputs[2], outputs[3]
        meet_frame, meet_token = _meeting_point(joint_model.graph, enc_in, names[1:])
        prediction = _extract(onnx, joint_model, names[1:], [meet_token, state_h_out, state_c_out])
        token_out = meet_token
    else:  # sherpa-onnx: decoder.onnx (targets, target_length, states) and joiner.onnx (encoder, decoder outputs)
        joint_model = _load_graph(source.joiner)
        enc_in, dec_in = [i.name for i in joint_model.graph.input]
        logits_name = joint_model.graph.output[0].name
        meet_frame, meet_token = _meeting_point(joint_model.graph, enc_in, [dec_in])
        prediction = _load_graph(source.decoder)
        names = [i.name for i in prediction.graph.input]
        if len(names) != 4:
            raise ModelError(f"{source.decoder.name} has inputs {names}; NeMo's decoder export has targets, "
                             "target_length and two LSTM states")
        targets, target_length, state_h, state_c = names
        pred_outputs = [o.name for o in prediction.graph.output]
        _check_opsets(prediction, joint_model)
        token_projection = _extract(onnx, joint_model, [dec_in], [meet_token])
        token_out = _append(prediction.graph, token_projection, "joint_", {dec_in: pred_outputs[0]})[meet_token]
        state_h_out, state_c_out = pred_outputs[2], pred_outputs[3]
    _check_opsets(encoder, joint_model)
    frame_shape, token_shape = _shape(onnx, joint_model, meet_frame), _shape(onnx, joint_model, meet_token)
    if len(frame_shape) != 4 or len(token_shape) != 4:
        raise ModelError("the joint's branches do not meet as NeMo's (B, T, 1, H) + (B, 1, U, H)")
    joint_hidden = frame_shape[3] or token_shape[3]
    if not joint_hidden:
        raise ModelError("the joint's hidden width is not known from its graph")
    core = _extract(onnx, joint_model, [meet_frame, meet_token], [logits_name])
    logits_width = _dims(core.graph.output[0])[-1]

    # Encoder: NeMo's (B, D, T) output -> the joint's frame projection, (B, T, H).
    frame_projection = _extract(onnx, joint_model, [enc_in], [meet_frame])
    encoder_out = encoder.graph.output[0].name
    frame_out = _append(encoder.graph, frame_projection, "joint_", {enc_in: encoder_out})[meet_frame]
    axes = "joint_squeeze_axes"
    encoder.graph.initializer.append(helper.make_tensor(axes, TensorProto.INT64, [1], [2]))
    encoder.graph.node.append(helper.make_node("Squeeze", [frame_out, axes], ["transducer_encoder"]))
    head = helper.make_tensor_value_info("transducer_encoder", TensorProto.FLOAT, ["B", "T", joint_hidden])
    encoder.graph.output.remove(encoder.graph.output[0])
    encoder.graph.output.insert(0, head)

    # Prediction network: targets (B, 1) int64, states (L, B, H) -> decoder_output (B, H_joint), next states.
    graph = prediction.graph
    state_dims = _dims(_input(graph, state_h))
    if not ("pred_rnn_layers" in source.config or state_dims[0]) or not ("pred_hidden" in source.config
                                                                          or state_dims[2]):  # fmt: skip
        raise ModelError("the prediction network's state inputs do not give its layers and width")
    layers = source.whole_number("pred_rnn_layers", state_dims[0])
    pred_hidden = source.whole_number("pred_hidden", state_dims[2])
    for old, new in ((state_h, "states_h"), (state_c, "states_c"), (targets, "import_targets_int32"),
                     (target_length, "import_target_length")):
        _rename_tensor(graph, old, new)
    targets, target_length = "import_targets_int32", "import_target_length"
    for value in list(graph.input):
        if value.name in (targets, target_length):
            graph.input.remove(value)
    graph.input.insert(0, helper.make_tensor_value_info("targets", TensorProto.INT64, ["B", 1]))
    graph.initializer.extend([helper.make_tensor("import_first", TensorProto.INT64, [1], [0]),
                              helper.make_tensor("import_second", TensorProto.INT64, [1], [1])])
    graph.node.insert(0, helper.make_node("Cast", ["targets"], [targets], to=TensorProto.INT32))
    graph.node.insert(1, helper.make_node("Shape", ["targets"], ["import_targets_shape"]))
    graph.node.insert(2, helper.make_node("Slice", ["import_targets_shape", "import_first", "import_second"],
                                          ["import_batch"]))  # fmt: skip
    graph.node.insert(3, helper.make_node("ConstantOfShape", ["import_batch"], [target_length],
                                          value=helper.make_tensor("one", TensorProto.INT32, [1], [1])))
    graph.node.append(helper.make_node("Flatten", [token_out], ["decoder_output"], axis=1))
    graph.node.append(helper.make_node("Identity", [state_h_out], ["states_h_next"]))
    graph.node.append(helper.make_node("Identity", [state_c_out], ["states_c_next"]))
    del graph.output[:]
    graph.output.extend([
        helper.make_tensor_value_info("decoder_output", TensorProto.FLOAT, ["B", joint_hidden]),
        helper.make_tensor_value_info("states_h_next", TensorProto.FLOAT, [layers, "B", pred_hidden]),
        helper.make_tensor_value_info("states_c_next", TensorProto.FLOAT, [layers, "B", pred_hidden]),
    ])  # fmt: skip
    del graph.value_info[:]
    del prediction.metadata_props[:]

    # Joint: (B, H) + (B, H) -> log-probs (B, V) [and TDT duration log-probs].
    graph = core.graph
    frame_in, token_in = graph.input[0].name, graph.input[1].name
    del graph.input[:]
    graph.input.extend([helper.make_tensor_value_info("encoder_output", TensorProto.FLOAT, ["B", joint_hidden]),
                        helper.make_tensor_value_info("decoder_output", TensorProto.FLOAT, ["B", joint_hidden])])
    graph.initializer.append(helper.make_tensor("import_unsqueeze_axes", TensorProto.INT64, [2], [1, 2]))
    graph.node.insert(0, helper.make_node("Unsqueeze", ["encoder_output", "import_unsqueeze_axes"], [frame_in]))
    graph.node.insert(1, helper.make_node("Unsqueeze", ["decoder_output", "import_unsqueeze_axes"], [token_in]))
    graph.node.append(helper.make_node("Flatten", [logits_name], ["import_logits"], axis=1))
    extra = (logits_width or 0) - vocab_size
    durations: tuple[int, ...] = ()
    if extra < 0:
        raise ModelError(f"the joint has {logits_width} outputs for {vocab_size} tokens (with the blank)")
    del graph.output[:]
    if extra == 0:
        kind = "rnnt"
        graph.node.append(helper.make_node("LogSoftmax", ["import_logits"], ["log_probs"], axis=-1))
        graph.output.append(helper.make_tensor_value_info("log_probs", TensorProto.FLOAT, ["B", vocab_size]))
    else:
        kind = "tdt"
        if extra != len(_PARAKEET_TDT_DURATIONS):
            raise ModelError(f"the joint has {extra} duration outputs; nemo_fast knows TDT durations only for "
                             f"Parakeet's {list(_PARAKEET_TDT_DURATIONS)}")
        durations = _PARAKEET_TDT_DURATIONS
        assumptions.append(f"TDT durations {list(durations)} (Parakeet TDT's)")
        graph.initializer.append(helper.make_tensor("import_split", TensorProto.INT64, [2], [vocab_size, extra]))
        graph.node.append(helper.make_node("Split", ["import_logits", "import_split"],
                                           ["import_token_logits", "import_duration_logits"], axis=1))
        graph.node.append(helper.make_node("LogSoftmax", ["import_token_logits"], ["log_probs"], axis=-1))
        graph.node.append(helper.make_node("LogSoftmax", ["import_duration_logits"], ["duration_log_probs"], axis=-1))
        graph.output.extend([helper.make_tensor_value_info("log_probs", TensorProto.FLOAT, ["B", vocab_size]),
                             helper.make_tensor_value_info("duration_log_probs", TensorProto.FLOAT, ["B", extra])])
    del graph.value_info[:]
    max_symbols = source.whole_number("max_tokens_per_step", _DEFAULT_MAX_SYMBOLS)
    if "max_tokens_per_step" not in source.config:
        assumptions.append(f"greedy decoding emits at most {max_symbols} symbols per frame (NeMo's default)")
    meta = fmt.transducer_keys(pred_rnn_layers=layers, pred_hidden=pred_hidden, joint_hidden=joint_hidden,
                               max_symbols_per_step=max_symbols, durations=durations)  # fmt: skip
    return prediction, core, kind, meta
