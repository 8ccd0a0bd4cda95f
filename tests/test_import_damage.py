"""`nemo-fast import` on damaged packages: every file it reads (graphs, their external data, tokens and vocab
files, sherpa-onnx's metadata keys, onnx-asr's config.json) damaged one way at a time ends in one line naming
the file and the field, exit status 2, and no output folder (nor a half-written one). The packages are small
graphs with the layout of each source (no NeMo needed: the damage is found before any graph arithmetic)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
import numpy as np  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from nemo_fast import cli  # noqa: E402

TOKENS = "\u2581a 0\n\u2581b 1\n<blk> 2\n"
SHERPA_METADATA = {  # a cache-aware CTC model: 2 layers of width 16, att_context_size [70, 6], 8x subsampling
    "model_type": "EncDecCTCModelBPE", "vocab_size": "3", "subsampling_factor": "8", "normalize_type": "",
    "window_size": "65", "chunk_shift": "56",
    "cache_last_channel_dim1": "2", "cache_last_channel_dim2": "70", "cache_last_channel_dim3": "16",
    "cache_last_time_dim1": "2", "cache_last_time_dim2": "16", "cache_last_time_dim3": "8",
}  # fmt: skip


def _ctc_graph(streaming: bool, feat_in) -> onnx.ModelProto:
    """log_probs = log_softmax(audio_signal^T W): the edges of NeMo's CTC export, not its arithmetic."""
    f = lambda name, shape: helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)  # noqa: E731
    i64 = lambda name, shape: helper.make_tensor_value_info(name, TensorProto.INT64, shape)  # noqa: E731
    inputs = [f("audio_signal", ["B", feat_in, "T"]), i64("length", ["B"])]
    outputs = [f("logprobs", ["B", "T", 3])]
    nodes = [helper.make_node("Transpose", ["audio_signal"], ["frames"], perm=[0, 2, 1]),
             helper.make_node("MatMul", ["frames", "weight"], ["logits"]),
             helper.make_node("LogSoftmax", ["logits"], ["logprobs"], axis=-1)]
    weight = numpy_helper.from_array(np.linspace(-1, 1, 80 * 3, dtype=np.float32).reshape(80, 3), "weight")
    if streaming:
        inputs += [f("cache_last_channel", ["B", 2, 70, 16]), f("cache_last_time", ["B", 2, 16, 8]),
                   i64("cache_last_channel_len", ["B"])]
        outputs += [i64("encoded_lengths", ["B"]), f("cache_last_channel_next", ["B", 2, 70, 16]),
                    f("cache_last_time_next", ["B", 2, 16, 8]), i64("cache_last_channel_next_len", ["B"])]
        nodes += [helper.make_node("Identity", ["length"], ["encoded_lengths"]),
                  helper.make_node("Identity", ["cache_last_channel"], ["cache_last_channel_next"]),
                  helper.make_node("Identity", ["cache_last_time"], ["cache_last_time_next"]),
                  helper.make_node("Identity", ["cache_last_channel_len"], ["cache_last_channel_next_len"])]
    graph = helper.make_graph(nodes, "encoder", inputs, outputs, [weight])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _joiner_graph() -> onnx.ModelProto:
    """Two branches meeting at one Add, as in NeMo's joint."""
    f = lambda name, shape: helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)  # noqa: E731
    weights = [numpy_helper.from_array(np.ones((16, 8), np.float32), "w_enc"),
               numpy_helper.from_array(np.ones((8, 8), np.float32), "w_pred"),
               numpy_helper.from_array(np.ones((8, 3), np.float32), "w_out")]
    nodes = [helper.make_node("MatMul", ["encoder_outputs", "w_enc"], ["frame"]),
             helper.make_node("MatMul", ["decoder_outputs", "w_pred"], ["token"]),
             helper.make_node("Add", ["frame", "token"], ["both"]),
             helper.make_node("MatMul", ["both", "w_out"], ["logit"])]
    graph = helper.make_graph(nodes, "joiner", [f("encoder_outputs", ["B", 16]), f("decoder_outputs", ["B", 8])],
                              [f("logit", ["B", 3])], weights)  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _with_metadata(model: onnx.ModelProto, meta: dict) -> onnx.ModelProto:
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    return model


def sherpa_ctc(folder: Path, external: bool = False) -> Path:
    folder.mkdir(parents=True)
    model = _with_metadata(_ctc_graph(True, 80), SHERPA_METADATA)
    if external:
        onnx.save(model, str(folder / "model.onnx"), save_as_external_data=True, location="model.onnx.data",
                  size_threshold=0)  # fmt: skip
    else:
        onnx.save(model, str(folder / "model.onnx"))
    (folder / "tokens.txt").write_text(TOKENS, encoding="utf-8")
    return folder


def sherpa_transducer(folder: Path) -> Path:
    folder.mkdir(parents=True)
    onnx.save(_with_metadata(_ctc_graph(True, 80), SHERPA_METADATA), str(folder / "encoder.onnx"))
    onnx.save(_ctc_graph(False, 80), str(folder / "decoder.onnx"))  # loaded, then damaged: its content unused
    onnx.save(_joiner_graph(), str(folder / "joiner.onnx"))
    (folder / "tokens.txt").write_text(TOKENS, encoding="utf-8")
    return folder


def onnx_asr_ctc(folder: Path) -> Path:
    folder.mkdir(parents=True)
    onnx.save(_ctc_graph(False, "F"), str(folder / "model.onnx"))  # mel bins from config.json
    (folder / "config.json").write_text(json.dumps({"model_type": "nemo-conformer-ctc", "features_size": 80,
                                                    "subsampling_factor": 8}))  # fmt: skip
    (folder / "vocab.txt").write_text(TOKENS, encoding="utf-8")
    return folder


def onnx_asr_tdt(folder: Path) -> Path:
    """onnx-asr's transducer layout: encoder-model.onnx, decoder_joint-model.onnx (its content unused: the
    probes damage it or the encoder), config.json, vocab.txt."""
    folder.mkdir(parents=True)
    onnx.save(_ctc_graph(False, 80), str(folder / "encoder-model.onnx"))
    onnx.save(_joiner_graph(), str(folder / "decoder_joint-model.onnx"))
    (folder / "config.json").write_text(json.dumps({"model_type": "nemo-conformer-tdt", "subsampling_factor": 8}))
    (folder / "vocab.txt").write_text(TOKENS, encoding="utf-8")
    return folder


def nemo_export(folder: Path) -> Path:
    """NeMo's own model.export() of an offline transducer: encoder-*.onnx, decoder_joint-*.onnx, tokens.txt."""
    folder.mkdir(parents=True)
    onnx.save(_ctc_graph(False, 80), str(folder / "encoder-Model.onnx"))
    onnx.save(_joiner_graph(), str(folder / "decoder_joint-Model.onnx"))
    (folder / "tokens.txt").write_text(TOKENS, encoding="utf-8")
    return folder


LAYOUTS = {"sherpa_ctc": sherpa_ctc, "sherpa_transducer": sherpa_transducer, "onnx_asr_ctc": onnx_asr_ctc,
           "onnx_asr_tdt": onnx_asr_tdt, "nemo_export": nemo_export}


def import_cli(source: Path, out: Path, capsys) -> tuple[int, str]:
    code = cli.main(["import", str(source), str(out)])
    return code, capsys.readouterr().err


def assert_refused(source: Path, out: Path, capsys, *names: str) -> str:
    code, err = import_cli(source, out, capsys)
    assert code == 2, err
    assert err.startswith("nemo-fast: error: ") and err.count("\n") == 1, err  # one line, no traceback
    for name in names:
        assert name in err, (name, err)
    assert not out.exists(), "a failed import left an output folder"
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".importing")], "staging folder left behind"
    return err


def test_undamaged_packages_import(tmp_path, capsys):
    """The control: the same packages, undamaged, import (so each refusal below is the damage's)."""
    for name, make in (("sherpa", sherpa_ctc), ("external", lambda p: sherpa_ctc(p, external=True)),
                       ("onnx_asr", onnx_asr_ctc)):
        out = tmp_path / f"{name}_out"
        code, err = import_cli(make(tmp_path / name), out, capsys)
        assert code == 0, err
        assert (out / "model.onnx").is_file() and (out / "tokens.txt").read_text().split() == ["\u2581a", "\u2581b",
                                                                                                 "<blk>"]


GRAPH_DAMAGE = {
    "random_bytes": lambda p: p.write_bytes(np.random.default_rng(0).bytes(4096)),
    "truncated_at_half": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "empty": lambda p: p.write_bytes(b""),
    "json_text": lambda p: p.write_text('{"not": "a graph"}'),
}


@pytest.mark.parametrize("damage", GRAPH_DAMAGE)
@pytest.mark.parametrize("layout,graph", [("sherpa_ctc", "model.onnx"), ("sherpa_transducer", "encoder.onnx"),
                                          ("sherpa_transducer", "decoder.onnx"), ("sherpa_transducer", "joiner.onnx"),
                                          ("onnx_asr_ctc", "model.onnx"), ("onnx_asr_tdt", "encoder-model.onnx"),
                                          ("onnx_asr_tdt", "decoder_joint-model.onnx"),
                                          ("nemo_export", "encoder-Model.onnx"),
                                          ("nemo_export", "decoder_joint-Model.onnx")])  # fmt: skip
def test_damaged_graph_is_named(tmp_path, capsys, layout, graph, damage):
    source = LAYOUTS[layout](tmp_path / "src")
    GRAPH_DAMAGE[damage](source / graph)
    err = assert_refused(source, tmp_path / "out", capsys, graph)
    assert "ONNX graph" in err or "weight" in err


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_damaged_external_data_is_named(tmp_path, capsys, damage):
    source = sherpa_ctc(tmp_path / "src", external=True)
    data = source / "model.onnx.data"
    if damage == "missing":
        data.unlink()
    else:
        data.write_bytes(data.read_bytes()[:100])
    assert_refused(source, tmp_path / "out", capsys, "model.onnx")


TOKENS_DAMAGE = {  # damaged tokens file -> what the error names
    "superscript_id": ("\u2581a 0\n\u2581b \u00b9\n<blk> 2\n", "line 2"),
    "letters_as_id": ("\u2581a 0\n\u2581b one\n<blk> 2\n", "line 2"),
    "negative_id": ("\u2581a 0\n\u2581b -1\n<blk> 2\n", "line 2"),
    "id_twice": ("\u2581a 0\n\u2581b 0\n<blk> 2\n", "line 2"),
    "id_missing": ("\u2581a 0\n\u2581b 3\n<blk> 2\n", "not 0..2"),
    "not_utf8": (b"\xff\xfe\x00a 0\n", "not UTF-8"),
    "blank_not_last": ("<blk> 0\n\u2581a 1\n\u2581b 2\n", "not the blank"),
    "one_token": ("<blk> 0\n", "1 tokens"),
    "empty": ("", "0 tokens"),
}


@pytest.mark.parametrize("damage", TOKENS_DAMAGE)
@pytest.mark.parametrize("layout,name", [("sherpa_ctc", "tokens.txt"), ("onnx_asr_ctc", "vocab.txt")])
def test_damaged_tokens_file_is_named(tmp_path, capsys, layout, name, damage):
    source = {"sherpa_ctc": sherpa_ctc, "onnx_asr_ctc": onnx_asr_ctc}[layout](tmp_path / "src")
    content, field = TOKENS_DAMAGE[damage]
    path = source / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    assert_refused(source, tmp_path / "out", capsys, name, field)


SHERPA_NUMBERS = [k for k in SHERPA_METADATA if k.startswith(("cache_", "window", "chunk", "subsampling"))]


@pytest.mark.parametrize("value", ["abc", "0", "1.5", "-8", ""])
@pytest.mark.parametrize("key", SHERPA_NUMBERS)
def test_damaged_sherpa_metadata_is_named(tmp_path, capsys, key, value):
    source = tmp_path / "src"
    source.mkdir()
    meta = dict(SHERPA_METADATA, **{key: value})
    onnx.save(_with_metadata(_ctc_graph(True, 80), meta), str(source / "model.onnx"))
    (source / "tokens.txt").write_text(TOKENS, encoding="utf-8")
    assert_refused(source, tmp_path / "out", capsys, "model.onnx", key)


def test_sherpa_window_shorter_than_its_shift_is_named(tmp_path, capsys):
    source = tmp_path / "src"
    source.mkdir()
    onnx.save(_with_metadata(_ctc_graph(True, 80), dict(SHERPA_METADATA, window_size="40")),
              str(source / "model.onnx"))  # fmt: skip
    (source / "tokens.txt").write_text(TOKENS, encoding="utf-8")
    assert_refused(source, tmp_path / "out", capsys, "window_size = 40")


def test_unknown_sherpa_normalization_is_named(tmp_path, capsys):
    source = tmp_path / "src"
    source.mkdir()
    onnx.save(_with_metadata(_ctc_graph(True, 80), dict(SHERPA_METADATA, normalize_type="loudest")),
              str(source / "model.onnx"))  # fmt: skip
    (source / "tokens.txt").write_text(TOKENS, encoding="utf-8")
    assert_refused(source, tmp_path / "out", capsys, "loudest")


CONFIG_DAMAGE = {  # config.json text -> what the error names
    "not_json": ("{model_type: ctc", "not JSON"),
    "a_list": ('["nemo-conformer-ctc"]', "JSON list"),
    "null": ("null", "JSON NoneType"),
    "not_utf8": (b"\xff{}", "not JSON"),
    "model_type_list": ('{"model_type": ["nemo-conformer-ctc"]}', "model_type"),
    "model_type_unknown": ('{"model_type": "whisper"}', "model_type 'whisper'"),
    "subsampling_letters": ('{"model_type": "nemo-conformer-ctc", "features_size": 80, "subsampling_factor": "x"}',
                            "subsampling_factor = 'x'"),
    "subsampling_zero": ('{"model_type": "nemo-conformer-ctc", "features_size": 80, "subsampling_factor": 0}',
                         "subsampling_factor = 0"),
    "subsampling_fraction": ('{"model_type": "nemo-conformer-ctc", "features_size": 80, "subsampling_factor": 1.5}',
                             "subsampling_factor = 1.5"),
    "subsampling_bool": ('{"model_type": "nemo-conformer-ctc", "features_size": 80, "subsampling_factor": true}',
                         "subsampling_factor = True"),
    "features_letters": ('{"model_type": "nemo-conformer-ctc", "features_size": "eighty"}', "features_size"),
    "features_list": ('{"model_type": "nemo-conformer-ctc", "features_size": [80]}', "features_size"),
    "features_missing": ('{"model_type": "nemo-conformer-ctc"}', "mel bins"),
}  # fmt: skip


@pytest.mark.parametrize("damage", CONFIG_DAMAGE)
def test_damaged_onnx_asr_config_is_named(tmp_path, capsys, damage):
    source = onnx_asr_ctc(tmp_path / "src")
    content, field = CONFIG_DAMAGE[damage]
    (source / "config.json").write_bytes(content if isinstance(content, bytes) else content.encode())
    err = assert_refused(source, tmp_path / "out", capsys, field)
    assert "config.json" in err or "model.onnx" in err


def test_import_into_a_non_empty_folder_is_refused_before_any_work(tmp_path, capsys):
    source = sherpa_ctc(tmp_path / "src")
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code, err = import_cli(source, out, capsys)
    assert code == 2 and "not an empty folder" in err
    assert [p.name for p in out.iterdir()] == ["notes.txt"] and (out / "notes.txt").read_text() == "mine"
    (out / "notes.txt").unlink()  # an empty folder is taken
    code, err = import_cli(source, out, capsys)
    assert code == 0, err
    assert (out / "model.onnx").is_file()


def test_damaged_import_exits_2_as_a_process(tmp_path):
    source = sherpa_ctc(tmp_path / "src")
    (source / "model.onnx").write_bytes(b"\x00" * 10)
    run = subprocess.run([sys.executable, "-m", "nemo_fast.cli", "import", str(source), str(tmp_path / "out")],
                         capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 2 and "Traceback" not in run.stderr and "model.onnx" in run.stderr
