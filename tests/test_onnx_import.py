"""`nemo-fast import`: ONNX packages NeMo's own exporter wrote (as sherpa-onnx packages them, as NeMo's
model.export() leaves them, as onnx-asr ships them) run in nemo_fast with NeMo's tokens (marker `nemo`: the
packages and the references are made with live NeMo)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
from nemo_onnx_layouts import write_nemo_export, write_onnx_asr, write_sherpa_onnx
from recognizer_cases import MODEL_SPECS, audio_cases

import nemo_fast
from nemo_fast.errors import ConfigError, ModelError

pytestmark = pytest.mark.nemo

# NeMo's greedy default; the imported packages do not carry the test recipes' smaller limits.
RECIPES = {s.name: dataclasses.replace(s, max_symbols=10) for s in MODEL_SPECS}

STREAMING_CASES = [  # (recipe, lookahead, layout)
    ("rnnt_bpe_d48_80mel", (70, 6), "sherpa-onnx"),
    ("rnnt_bpe_d48_80mel", (70, 6), "nemo-export"),
    ("bpe_d48_128mel", (70, 6), "sherpa-onnx"),
    ("char_d32_80mel", (70, 1), "nemo-export"),
    ("hybrid_bpe_d48_80mel", (70, 13), "sherpa-onnx"),
]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from nemo_model_factory import build_model

    tmp = tmp_path_factory.mktemp("import_models")
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = build_model(RECIPES[name], tmp)
        return cache[name]

    return get


def speech() -> np.ndarray:
    x = audio_cases()["speech"]
    return np.concatenate([x, 0.6 * x[: len(x) // 3]]).astype(np.float32)


def nemo_streaming_tokens(model, lookahead, audio) -> list[int]:
    """NeMo's conformer_stream_step in the pad_and_drop_preencoded mode (the one NeMo's export serves)."""
    from nemo_fast.export import reference

    model.encoder.set_default_att_context_size(list(lookahead))
    model.encoder.setup_streaming_params()
    if hasattr(model, "joint"):
        reference.use_head(model, "rnnt")
        return reference.nemo_streaming_transducer_tokens(model, audio, pad_and_drop_preencoded=True)
    return reference.nemo_streaming_log_probs(model, audio, pad_and_drop_preencoded=True)[1]


@pytest.mark.parametrize("name,lookahead,layout", STREAMING_CASES, ids=[f"{n}-{l}" for n, _, l in STREAMING_CASES])
def test_imported_streaming_package_matches_nemo(models, tmp_path, name, lookahead, layout):
    """Streaming tokens of the imported package equal NeMo's own streaming of the checkpoint, fed in pieces."""
    from nemo_fast.onnx_import import import_model

    model = models(name)
    source = tmp_path / "source"
    if layout == "sherpa-onnx":
        write_sherpa_onnx(model, source, lookahead)
        out = import_model(source, tmp_path / "imported")
    else:
        write_nemo_export(model, source, lookahead)
        out = import_model(source, tmp_path / "imported", lookahead=lookahead[1])
    audio = speech()
    expected = nemo_streaming_tokens(model, lookahead, audio)
    recognizer = nemo_fast.Recognizer(out)
    assert recognizer.spec.att_context_size == lookahead
    assert recognizer.spec.geometry.streaming_modes == ("pad_and_drop_preencoded",)
    stream = recognizer.create_stream()
    for start in range(0, len(audio), 2731):
        stream.accept_waveform(audio[start : start + 2731], 16000)
    stream.input_finished()
    assert list(stream.result().token_ids) == expected
    assert len(expected) > 5


@pytest.mark.parametrize("name,model_type", [("tdt_bpe_d48_80mel", "nemo-conformer-tdt"),
                                             ("offline_char_d32_80mel", "nemo-conformer-ctc")])
def test_imported_onnx_asr_folder_matches_nemo(models, tmp_path, name, model_type):
    """onnx-asr's offline folders (NeMo's export, vocab.txt, config.json): NeMo's whole-utterance tokens."""
    from nemo_fast.export import reference
    from nemo_fast.onnx_import import import_model

    model = models(name)
    out = import_model(write_onnx_asr(model, tmp_path / "source", model_type), tmp_path / "imported")
    audio = speech()
    if hasattr(model, "joint"):
        expected = reference.nemo_offline_transducer_tokens(model, audio)
    else:
        expected = reference.nemo_offline_log_probs(model, audio)[1]
    result = nemo_fast.Recognizer(out).transcribe(audio, sample_rate=16000)
    assert list(result.token_ids) == expected
    assert len(expected) > 5


def test_import_command_and_inspect_print_what_was_assumed(models, tmp_path):
    """The CLI imports a bare NeMo export, transcribes with it and `inspect` lists every assumption."""
    import soundfile

    model = models("rnnt_bpe_d48_80mel")
    source = write_nemo_export(model, tmp_path / "source", (70, 6))
    cli = [sys.executable, "-m", "nemo_fast.cli"]
    missing = subprocess.run([*cli, "import", str(source), str(tmp_path / "x")], capture_output=True, text=True)
    assert missing.returncode == 2 and "--lookahead" in missing.stderr
    done = subprocess.run([*cli, "import", str(source), str(tmp_path / "m"), "--lookahead", "6"], capture_output=True,
                          text=True, check=True)  # fmt: skip
    assert "assumed: features: NeMo's AudioToMelSpectrogramPreprocessor defaults" in done.stdout
    wav = tmp_path / "a.wav"
    audio = speech()
    soundfile.write(wav, audio, 16000, subtype="FLOAT")
    text = subprocess.run([*cli, "transcribe", str(wav), "--model", str(tmp_path / "m")], capture_output=True,
                          text=True, check=True).stdout.strip()  # fmt: skip
    expected = nemo_fast.Recognizer(tmp_path / "m").transcribe(audio, sample_rate=16000).text
    assert text.split() == expected.split() and text
    shown = subprocess.run([*cli, "inspect", str(tmp_path / "m")], capture_output=True, text=True, check=True).stdout
    assert "taken from NeMo's defaults" in shown and "pad_and_drop_preencoded" in shown


def test_import_refuses_what_it_cannot_run(models, tmp_path):
    from nemo_fast.onnx_import import import_model

    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="no NeMo ONNX model"):
        import_model(tmp_path / "empty", tmp_path / "out")
    source = write_sherpa_onnx(models("bpe_d48_128mel"), tmp_path / "sherpa", (70, 6))
    (tmp_path / "sherpa" / "tokens.txt").write_text("a 0\nb 1\n")
    with pytest.raises(ModelError, match="not the blank"):
        import_model(source, tmp_path / "out")
    (tmp_path / "sherpa" / "tokens.txt").unlink()
    with pytest.raises(ConfigError, match="--tokens"):
        import_model(source, tmp_path / "out")
    write_sherpa_onnx(models("bpe_d48_128mel"), tmp_path / "ok", (70, 6))
    out = import_model(tmp_path / "ok", tmp_path / "imported")
    with pytest.raises(ConfigError, match="pad_and_drop_preencoded"):
        nemo_fast.Recognizer(out, streaming_mode="default")
    with pytest.raises(ConfigError, match="is a nemo_fast model folder already"):
        import_model(out, tmp_path / "again")


def test_imported_int8_package_runs_quantized(models, tmp_path):
    """sherpa-onnx ships *.int8.onnx beside the float files (ONNX Runtime's dynamic quantization); --int8 takes
    them: the imported encoder runs integer products and decodes nearly NeMo's tokens. (A CTC model: the test
    transducers' noisy random joints turn int8 rounding into different tokens, with nemo_fast's own int8 export
    as much as with an imported one.)"""
    import difflib

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from nemo_fast.onnx_import import import_model

    lookahead = (70, 6)
    model = models("bpe_d48_128mel")
    source = write_sherpa_onnx(model, tmp_path / "source", lookahead)
    for name in ("model",):
        quantize_dynamic(str(source / f"{name}.onnx"), str(source / f"{name}.int8.onnx"), weight_type=QuantType.QUInt8)
    out = import_model(source, tmp_path / "imported", int8=True)
    ops = {node.op_type for node in onnx.load(str(out / "model.onnx")).graph.node}
    assert "MatMulInteger" in ops or "DynamicQuantizeMatMul" in ops
    audio = speech()
    expected = nemo_streaming_tokens(model, lookahead, audio)
    tokens = list(nemo_fast.Recognizer(out).transcribe(audio, sample_rate=16000).token_ids)
    assert difflib.SequenceMatcher(a=expected, b=tokens, autojunk=False).ratio() > 0.6
