"""The typed public surface: the model's contract as a type, the extension's committed type stub, py.typed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import require_module
from recognizer_cases import MODELS_DIR

import nemo_fast

ROOT = Path(__file__).resolve().parents[1]


def test_model_spec_is_a_typed_value():
    spec = nemo_fast.Recognizer(MODELS_DIR / "hybrid_bpe_d48_80mel_70_13").spec
    assert isinstance(spec, nemo_fast.ModelSpec)
    assert set(spec.decoders) == {"ctc", "rnnt"} and spec.default_decoder == "rnnt" and spec.streaming
    assert isinstance(spec.geometry, nemo_fast.StreamingGeometry) and spec.geometry.chunk_size == (105, 112)
    assert isinstance(spec.transducer, nemo_fast.TransducerSpec) and spec.transducer.durations == ()
    offline = nemo_fast.Recognizer(MODELS_DIR / "offline_char_d32_80mel_offline").spec
    assert not offline.streaming and offline.geometry is None and offline.transducer is None


def test_the_committed_stub_matches_the_extension(tmp_path):
    require_module("pybind11_stubgen")
    run = subprocess.run([sys.executable, "-m", "pybind11_stubgen", "nemo_fast._core", "-o", str(tmp_path)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    fresh = (tmp_path / "nemo_fast" / "_core.pyi").read_text()
    assert fresh == (ROOT / "nemo_fast" / "_core.pyi").read_text(), "stale stub: run scripts/make_stubs.sh"


def test_the_installed_package_is_typed():
    package = Path(nemo_fast.__file__).parent
    assert (package / "py.typed").exists() and (package / "_core.pyi").exists()


def test_importing_from_the_source_tree_says_what_to_do():
    run = subprocess.run([sys.executable, "-c", "import nemo_fast"], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode != 0 and "extension is not built in" in run.stderr
