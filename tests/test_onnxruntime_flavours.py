"""nemo_fast runs on whichever ONNX Runtime wheel is installed: the CPU wheel (the `cpu` extra) or the GPU wheel
(the `gpu` extra), whose library runs the CPU provider too; both provide the module `onnxruntime`."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
from conftest import require
from recognizer_cases import audio_cases

import nemo_fast

ROOT = Path(__file__).resolve().parents[1]
WHEELS = ROOT / "build" / "wheels"  # scripts/setup_test_env.sh downloads the onnxruntime-gpu wheel here


def isolated_python(code: str, paths: list[Path]) -> subprocess.CompletedProcess:
    """Python without site-packages (-S): only `paths` on sys.path."""
    bootstrap = f"import sys; sys.path[:0] = {[str(p) for p in paths]!r}\n"
    return subprocess.run([sys.executable, "-S", "-c", bootstrap + code], capture_output=True, text=True)


def test_an_environment_with_only_onnxruntime_gpu_works(tmp_path):
    wheels = sorted(WHEELS.glob("onnxruntime_gpu-*.whl"))
    require(bool(wheels), f"the onnxruntime-gpu wheel in {WHEELS} (scripts/setup_test_env.sh downloads it)")
    gpu = tmp_path / "gpu"
    with zipfile.ZipFile(wheels[-1]) as wheel:  # all but the CUDA provider (270 MB, needs CUDA to load)
        wheel.extractall(gpu, [m for m in wheel.namelist() if "providers_cuda" not in m])
    # This environment's numpy and nemo_fast, without its onnxruntime wheel.
    packages = tmp_path / "packages"
    packages.mkdir()
    for module in (np, nemo_fast):
        (packages / module.__name__).symlink_to(Path(module.__file__).parent)
    speech = tmp_path / "speech.npy"
    np.save(speech, audio_cases()["speech"])
    model = ROOT / "models" / "default"
    run = isolated_python(textwrap.dedent(f"""
        import importlib.metadata, json, numpy as np, nemo_fast
        result = nemo_fast.Recognizer({str(model)!r}).transcribe(np.load({str(speech)!r}), sample_rate=16000)
        flavours = [d.metadata["Name"] for d in importlib.metadata.distributions() if "onnxruntime" in d.metadata["Name"]]
        print(json.dumps({{"library": nemo_fast.runtime_info()["library_path"], "text": result.text,
                          "flavours": flavours}}))
    """), [gpu, packages])
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["flavours"] == ["onnxruntime-gpu"] or out["flavours"] == ["onnxruntime_gpu"]
    assert out["library"].startswith(str(gpu))
    assert out["text"] == nemo_fast.Recognizer(model).transcribe(audio_cases()["speech"], sample_rate=16000).text


def test_no_onnxruntime_names_the_extras(tmp_path):
    packages = tmp_path / "packages"
    packages.mkdir()
    for module in (np, nemo_fast):
        (packages / module.__name__).symlink_to(Path(module.__file__).parent)
    run = isolated_python("import nemo_fast\nnemo_fast.runtime_info()", [packages])
    assert run.returncode != 0 and "OnnxRuntimeError" in run.stderr
    assert 'pip install "nemo_fast[cpu]"' in run.stderr and "nemo_fast[gpu]" in run.stderr


def test_the_package_does_not_force_the_cpu_wheel():
    """A hard dependency on `onnxruntime` would be installed next to a user's `onnxruntime-gpu` and clash with
    it: each flavour comes through its own extra."""
    import importlib.metadata

    requirements = importlib.metadata.requires("nemo_fast") or []
    unconditional = [r for r in requirements if "onnxruntime" in r and "extra ==" not in r]
    assert unconditional == []
    assert any(r.startswith("onnxruntime>") and 'extra == "cpu"' in r for r in requirements)
    assert any(r.startswith("onnxruntime-gpu") and 'extra == "gpu"' in r for r in requirements)
