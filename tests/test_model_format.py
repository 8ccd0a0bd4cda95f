"""The model format (nemo_fast/model_format.py), the one module export and import write metadata with: every key
it writes is documented, comes back from an ONNX file unchanged and reads back in the core as the values given."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nemo_fast import model_format as fmt
from nemo_fast.config import fbank_options_from_nemo
from nemo_fast.errors import ModelError
from nemo_fast.model_spec import ModelSpec

EXPORTED = Path(__file__).resolve().parent / "models" / "exported"

PREPROCESSOR = {"sample_rate": 16000, "normalize": "NA", "window_size": 0.025, "window_stride": 0.01,
                "window": "hann", "features": 80, "n_fft": 512, "log": True, "frame_splicing": 1, "dither": 0.0,
                "pad_to": 0}  # fmt: skip
TRANSDUCER = {"pred_rnn_layers": 2, "pred_hidden": 320, "joint_hidden": 96, "max_symbols_per_step": 7,
              "durations": (0, 1, 2, 4)}  # fmt: skip


def _streaming_tdt() -> dict[str, str]:
    """A streaming TDT model of 3 layers, 176 wide, lookahead 6 (values as NeMo's setup_streaming_params gives
    them for att_context_size [70, 6] at 8x), keys and values in the attention cache."""
    return {
        **fmt.model_keys(model_class="EncDecRNNTBPEModel", nemo_version="3.0.0", streaming=True, feat_in=80,
                         subsampling_factor=8, d_model=176, n_layers=3, vocab_size=129, vocabulary_type="bpe",
                         features=fbank_options_from_nemo(PREPROCESSOR)),
        **fmt.head_keys(["tdt"], "tdt"),
        **fmt.streaming_keys(att_context_size=(70, 6), att_context_sizes_available=[(70, 6), (70, 1)],
                             chunk_size=(49, 56), shift_size=(49, 56), pre_encode_cache_size=(0, 9),
                             sampling_frames=(1, 8), drop_extra_pre_encoded=2, valid_out_len=7,
                             last_channel_cache_size=70, cache_last_channel_shape=(3, 70, 352),
                             cache_last_time_shape=(3, 176, 8), cache_last_channel_content="keys_values"),
        **fmt.transducer_keys(**TRANSDUCER),
        **fmt.quantization_keys("int8"),
    }  # fmt: skip


def _imported_offline_ctc() -> dict[str, str]:
    return {
        **fmt.model_keys(model_class="unknown", nemo_version="unknown", streaming=False, feat_in=80,
                         subsampling_factor=8, d_model=1, n_layers=1, vocab_size=1025, vocabulary_type="char",
                         features=fbank_options_from_nemo({**PREPROCESSOR, "normalize": "per_feature"})),
        **fmt.head_keys(["ctc"], "ctc"),
        **fmt.offline_keys(5000),
        **fmt.import_keys("onnx-asr", ["subsampling_factor 8 (FastConformer)", "n_layers and d_model unknown"]),
    }  # fmt: skip


def test_the_core_reads_back_every_value_the_module_writes():
    spec = ModelSpec.from_metadata(_streaming_tdt())
    assert spec.schema_version == fmt.SCHEMA_VERSION
    assert (spec.model_class, spec.nemo_version, spec.decoders, spec.default_decoder) == (
        "EncDecRNNTBPEModel", "3.0.0", ("tdt",), "tdt")
    assert (spec.streaming, spec.feat_in, spec.subsampling_factor) == (True, 80, 8)
    assert (spec.vocab_size, spec.blank_id, spec.vocabulary_type, spec.tokens_file) == (129, 128, "bpe", "tokens.txt")
    assert spec.features.to_key_values() == fbank_options_from_nemo(PREPROCESSOR).to_key_values()
    assert spec.att_context_size == (70, 6)
    g = spec.geometry
    assert (g.chunk_size, g.shift_size, g.pre_encode_cache_size, g.sampling_frames) == ((49, 56), (49, 56), (0, 9),
                                                                                        (1, 8))  # fmt: skip
    assert (g.drop_extra_pre_encoded, g.valid_out_len, g.last_channel_cache_size) == (2, 7, 70)
    assert g.streaming_modes == ("default", "pad_and_drop_preencoded")
    assert (spec.cache_last_channel_shape, spec.cache_last_time_shape) == ((3, 70, 352), (3, 176, 8))
    t = spec.transducer
    assert (t.decoder_file, t.joiner_file) == (fmt.TRANSDUCER_DECODER_FILE, fmt.TRANSDUCER_JOINER_FILE)
    assert {k: getattr(t, k) for k in TRANSDUCER} == TRANSDUCER

    offline = ModelSpec.from_metadata(_imported_offline_ctc())
    assert (offline.streaming, offline.decoders, offline.max_encoder_frames, offline.transducer) == (
        False, ("ctc",), 5000, None)
    assert fmt.assumptions(_imported_offline_ctc()) == ["subsampling_factor 8 (FastConformer)",
                                                        "n_layers and d_model unknown"]  # fmt: skip

    only_drop = {**_streaming_tdt(), **fmt.streaming_keys(
        att_context_size=(70, 6), att_context_sizes_available=[(70, 6)], chunk_size=(49, 56), shift_size=(49, 56),
        pre_encode_cache_size=(0, 9), sampling_frames=(1, 8), drop_extra_pre_encoded=2, valid_out_len=7,
        last_channel_cache_size=70, cache_last_channel_shape=(3, 70, 176), cache_last_time_shape=(3, 176, 8),
        cache_last_channel_content="inputs", only_pad_and_drop_preencoded=True)}  # fmt: skip
    assert ModelSpec.from_metadata(only_drop).geometry.streaming_modes == ("pad_and_drop_preencoded",)


def test_every_key_written_is_documented_and_listed():
    written = set(_streaming_tdt()) | set(_imported_offline_ctc()) | {"streaming.modes"}
    plain = {k for k in written if not k.startswith("features.")}
    assert plain == set(fmt.KEYS)
    documented = set(re.findall(r"^([a-z_]+(?:\.[a-z_]+)?)\s", fmt.__doc__, re.M))
    documented |= {k for line in re.findall(r"^([a-z_., ]+?)\s{2,}", fmt.__doc__, re.M)
                   for k in re.split(r",\s*", line)}  # fmt: skip
    assert set(fmt.KEYS) - documented == set()


def test_metadata_comes_back_from_an_onnx_file_unchanged(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])  # fmt: skip
    path = tmp_path / fmt.MODEL_FILE
    onnx.save(helper.make_model(graph), str(path))
    for metadata in (_streaming_tdt(), _imported_offline_ctc()):
        assert fmt.write_metadata(path, metadata) is False  # small: the weights stay in the graph
        assert fmt.read_metadata(path) == metadata


@pytest.mark.parametrize("model", sorted(p.name for p in EXPORTED.iterdir() if (p / fmt.MODEL_FILE).is_file()))
def test_the_exported_test_models_hold_only_the_module_keys(model):
    pytest.importorskip("onnx")
    metadata = fmt.read_metadata(EXPORTED / model / fmt.MODEL_FILE)
    assert {k for k in metadata if not k.startswith("features.")} <= set(fmt.KEYS)
    assert metadata["nemo_fast.schema_version"] == str(fmt.SCHEMA_VERSION)
    ModelSpec.from_metadata(metadata, model)


def test_the_builders_refuse_values_the_format_has_no_spelling_for():
    with pytest.raises(ValueError, match="one of"):
        fmt.head_keys(["ctc"], "rnnt")
    with pytest.raises(ValueError, match="keys_values"):
        fmt.streaming_keys(att_context_size=(70, 6), att_context_sizes_available=[(70, 6)], chunk_size=49,
                           shift_size=49, pre_encode_cache_size=0, sampling_frames=1, drop_extra_pre_encoded=0,
                           valid_out_len=7, last_channel_cache_size=70, cache_last_channel_shape=(3, 70, 176),
                           cache_last_time_shape=(3, 176, 8), cache_last_channel_content="values")  # fmt: skip
    with pytest.raises(ValueError, match="int8"):
        fmt.quantization_keys("int4")


def test_the_core_names_every_broken_key():
    metadata = {**_streaming_tdt(), "streaming.valid_out_len": "seven", "transducer.pred_hidden": "-1"}
    del metadata["feat_in"]
    with pytest.raises(ModelError) as error:
        ModelSpec.from_metadata(metadata, "probe.onnx")
    message = str(error.value)
    assert "probe.onnx" in message
    for key in ("streaming.valid_out_len", "feat_in", "transducer sizes"):
        assert key in message
