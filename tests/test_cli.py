"""The nemo-fast command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import require_module
from feature_cases import SPEECH_WAV
from recognizer_cases import MODELS_DIR, load_golden

MODEL = MODELS_DIR / "char_d32_80mel_70_13"


def nemo_fast_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "nemo_fast.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)


def test_transcribe_prints_the_transcript(tmp_path):
    _, texts = load_golden("char_d32_80mel_70_13")
    out = nemo_fast_cli("transcribe", SPEECH_WAV, "--model", MODEL, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == texts["speech.default"]


def test_transcribe_json_has_tokens_and_times(tmp_path):
    out = nemo_fast_cli("transcribe", SPEECH_WAV, SPEECH_WAV, "--model", MODEL, "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 2 and rows[0]["text"] == rows[1]["text"]
    assert len(rows[0]["token_ids"]) == len(rows[0]["token_times_seconds"])


def test_inspect_prints_the_contract(tmp_path):
    require_module("onnxruntime")
    out = nemo_fast_cli("inspect", MODEL, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    for words in ["mode: streaming", "chunk_size: (105, 112)", "pre_encode_cache_size: (0, 9)",
                  "drop_extra_pre_encoded: 2", "valid_out_len: 14", "input  cache_last_channel",
                  "output log_probs", "att_context_size: (70, 13)", "num_mel_bins: 80"]:
        assert words in out.stdout, words


def test_errors_are_one_clear_line(tmp_path):
    out = nemo_fast_cli("transcribe", tmp_path / "missing.wav", "--model", MODEL, cwd=tmp_path)
    assert out.returncode == 1 and "audio file not found" in out.stderr and "Traceback" not in out.stderr
    out = nemo_fast_cli("transcribe", SPEECH_WAV, "--model", tmp_path / "nomodel", cwd=tmp_path)
    assert out.returncode == 2 and "model file not found" in out.stderr
    out = nemo_fast_cli("export", tmp_path / "missing.nemo", tmp_path / "out", cwd=tmp_path)
    assert out.returncode == 2 and ".nemo file not found" in out.stderr


def test_exporter_rejects_unsupported_model_classes(tmp_path):
    from nemo_fast.errors import ModelError
    from nemo_fast.export import export_model

    unsupported = type("EncDecMultiTaskModel", (), {})()
    with pytest.raises(ModelError, match="EncDecMultiTaskModel is not supported"):
        export_model(None, tmp_path, model=unsupported)


def test_version_comes_from_the_one_version_file(tmp_path):
    from pathlib import Path

    version = (Path(__file__).resolve().parents[1] / "VERSION").read_text().strip()
    out = nemo_fast_cli("--version", cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.strip() == f"nemo-fast {version}"
