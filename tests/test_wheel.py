"""The binary wheel: scripts/build_wheels.sh builds a manylinux wheel for this interpreter that installs into a
clean virtual environment from local files only (no index, nothing built from source) and runs the main job."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
import zipfile
from importlib.metadata import version

import pytest
from conftest import importable, require
from shipped_model_cases import EXAMPLE_WAV, REPO, main_job_text

pytestmark = pytest.mark.skipif(os.environ.get("NEMO_FAST_SANITIZED") == "1",
                                reason="packaging, not memory safety: the sanitized build is not a wheel")


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_wheel_installs_offline_into_a_clean_venv_and_transcribes(tmp_path):
    require(importable("auditwheel"), "auditwheel (the test extra)")
    dist = tmp_path / "dist"
    run(["bash", str(REPO / "scripts" / "build_wheels.sh"), str(dist)],
        env={**os.environ, "NEMO_FAST_WHEEL_PYTHONS": sys.executable, "PYTHON": sys.executable})
    wheels = sorted(dist.glob("*.whl"))
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    assert len(wheels) == 1 and re.fullmatch(rf"nemo_fast-.+-{tag}-{tag}-manylinux_\d+_\d+_x86_64\.whl",
                                             wheels[0].name), wheels
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = wheel.namelist()
    assert not [n for n in names if "onnxruntime" in n.lower()], "ONNX Runtime must come from its own wheel"
    assert "nemo_fast/models/default/model.onnx" in names

    # The runtime dependencies as files, the same versions as here; then nothing but local files.
    deps = tmp_path / "deps"
    run([sys.executable, "-m", "pip", "download", "-q", "--only-binary", ":all:", "-d", str(deps),
         f"numpy=={version('numpy')}", f"tqdm=={version('tqdm')}", f"onnxruntime=={version('onnxruntime')}"])
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)  # no system site-packages
    python = env_dir / "bin" / "python"
    run([str(python), "-m", "pip", "install", "-q", "--no-index", "--only-binary", ":all:",
         "--find-links", str(dist), "--find-links", str(deps), "nemo_fast[cpu]"])

    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LD_PRELOAD", "ONNXRUNTIME_ROOT")}
    out = run([str(env_dir / "bin" / "nemo-fast"), "transcribe", str(EXAMPLE_WAV)],
              cwd=tmp_path, env=clean)
    assert out.stdout.strip() == main_job_text()
    where = run([str(python), "-c", "import nemo_fast; print(nemo_fast.__file__)"], cwd=tmp_path, env=clean)
    assert where.stdout.strip().startswith(str(env_dir)), where.stdout
