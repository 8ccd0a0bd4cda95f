"""ONNX Runtime is loaded from the user's installed onnxruntime wheel (or ONNXRUNTIME_ROOT), and
runtime_info() says which."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import nemo_fast


def test_runtime_info_reports_the_wheel_library():
    info = nemo_fast.runtime_info()
    wheel_version = importlib.metadata.version("onnxruntime")
    assert info["version"] == wheel_version
    path = Path(info["library_path"])
    assert path.exists() and path.name.startswith("libonnxruntime.so")
    assert path.parent.name == "capi" and path.parent.parent.name == "onnxruntime"
    assert info["api_version"] >= 21


def run_python(code: str, tmp_path: Path, **env: str) -> str:
    """Runs code in a fresh interpreter outside the source tree (so the installed package is imported)."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                            env={**os.environ, **env})
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_onnxruntime_python_module_shares_the_same_library(tmp_path):
    """Importing onnxruntime after nemo_fast loads no second copy: both use the wheel's file."""
    code = (
        "import nemo_fast, onnxruntime, os\n"
        "info = nemo_fast.runtime_info()\n"
        "maps = open('/proc/self/maps').read()\n"
        "libs = {l.split()[-1] for l in maps.splitlines() if 'libonnxruntime.so' in l}\n"
        "print(len(libs), info['library_path'] in libs)\n"
    )
    assert run_python(code, tmp_path).split() == ["1", "True"]


def test_onnxruntime_root_without_library_is_a_clear_error(tmp_path):
    code = "import nemo_fast\ntry:\n    nemo_fast.runtime_info()\nexcept nemo_fast.errors.OnnxRuntimeError as e:\n    print('ERR', e)\n"
    out = run_python(code, tmp_path, ONNXRUNTIME_ROOT=str(tmp_path))
    assert out.startswith("ERR") and "lib/libonnxruntime.so" in out


def test_onnxruntime_root_is_honoured(tmp_path):
    """A user's own install: ONNXRUNTIME_ROOT/lib/libonnxruntime.so* is what gets loaded."""
    wheel_lib = Path(nemo_fast.runtime_info()["library_path"])
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / wheel_lib.name).symlink_to(wheel_lib)
    code = "import nemo_fast\nprint(nemo_fast.runtime_info()['library_path'])\n"
    out = run_python(code, tmp_path, ONNXRUNTIME_ROOT=str(tmp_path))
    assert out.strip() == str(tmp_path / "lib" / wheel_lib.name)


def test_a_file_that_is_not_onnxruntime_is_refused(tmp_path):
    fake = tmp_path / "libonnxruntime.so.1"
    fake.write_bytes(b"not a library")
    code = f"import nemo_fast._core as c\ntry:\n    c.load_onnxruntime({str(fake)!r})\nexcept Exception as e:\n    print(type(e).__name__, e)\n"
    out = run_python(code, tmp_path)
    assert out.startswith("OnnxRuntimeError") and "cannot load" in out


def test_package_imports_without_torch_or_nemo(tmp_path):
    code = "import sys, nemo_fast\nnemo_fast.runtime_info()\nprint('torch' in sys.modules, 'nemo' in sys.modules)"
    assert run_python(code, tmp_path).split() == ["False", "False"]
