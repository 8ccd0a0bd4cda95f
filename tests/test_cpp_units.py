"""Builds the C++ unit tests (GoogleTest: FFT, mel filterbank, ImprovedFbank, resampler, decoding) with the
project's CMake and runs them, so they belong to the same test command as everything else."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import require

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "cpp-tests"
GENERATOR = ["-G", "Ninja"] if shutil.which("ninja") else []


def build_target(target: str, *options: str) -> None:
    """Configures the project's CMake build in BUILD (with these options switched on) and builds one target."""
    require(shutil.which("cmake") is not None, "cmake")
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(BUILD), *GENERATOR, "-DCMAKE_BUILD_TYPE=Release",
                    *(f"-D{option}=ON" for option in options)], check=True, capture_output=True, text=True)
    build = subprocess.run(["cmake", "--build", str(BUILD), "--target", target, "-j", "2"], capture_output=True,
                           text=True)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]


@pytest.mark.cpp
def test_cpp_unit_tests_pass():
    require(any(Path(p).exists() for p in ["/usr/lib/x86_64-linux-gnu/libgtest.a", "/usr/lib/aarch64-linux-gnu/libgtest.a",
                                           "/usr/lib/libgtest.a", "/usr/local/lib/libgtest.a"])
            or os.environ.get("GTEST_ROOT"), "GoogleTest (Debian: libgtest-dev)")
    build_target("nemo_fast_cpp_tests", "NEMO_FAST_BUILD_TESTS")
    run = subprocess.run([str(BUILD / "nemo_fast_cpp_tests")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-6000:]
    assert "[  PASSED  ]" in run.stdout and "FAILED" not in run.stdout


@pytest.mark.cpp
@pytest.mark.parametrize("decoder, head", [("default", "rnnt"), ("ctc", "ctc")])
def test_bench_recognizer_takes_the_decoder_its_usage_names(decoder, head):
    """`bench_recognizer ... [decoder=default]`: the literal word `default` picks the model's default head."""
    from nemo_fast._runtime import find_onnxruntime_library

    build_target("bench_recognizer", "NEMO_FAST_BUILD_BENCHMARKS")
    model = ROOT / "tests" / "models" / "exported" / "hybrid_bpe_d48_80mel_70_1"
    run = subprocess.run([str(BUILD / "bench_recognizer"), str(find_onnxruntime_library()), str(model), "2", "1", "1",
                          decoder], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert f"decoder {head})" in run.stdout


@pytest.mark.cpp
def test_installed_package_builds_and_runs_the_example_program(tmp_path):
    """`cmake --install` gives find_package(nemo_fast); examples/cpp builds against it and transcribes the
    example as the Python package does: both decode as the model folder's decoding.json says (the shipped
    model's beam search with its language model)."""
    import nemo_fast
    from nemo_fast._runtime import find_onnxruntime_library

    build_target("nemo_fast_core")
    for step in (["cmake", "--install", str(BUILD), "--prefix", str(tmp_path / "prefix")],
                 ["cmake", "-S", str(ROOT / "examples" / "cpp"), "-B", str(tmp_path / "example"), *GENERATOR,
                  f"-DCMAKE_PREFIX_PATH={tmp_path / 'prefix'}"],
                 ["cmake", "--build", str(tmp_path / "example")]):
        run = subprocess.run(step, capture_output=True, text=True)
        assert run.returncode == 0, " ".join(step) + "\n" + run.stdout[-3000:] + run.stderr[-3000:]
    installed = sorted(p.relative_to(tmp_path / "prefix").as_posix() for p in (tmp_path / "prefix").rglob("*.h"))
    assert installed == ["include/nemo_fast/common/error.h", "include/nemo_fast/nemo_fast.h",
                         "include/nemo_fast/runtime/onnxruntime_loader.h"]  # no ONNX Runtime header
    model, wav = ROOT / "models" / "default", ROOT / "examples" / "speech_example.wav"
    run = subprocess.run([str(tmp_path / "example" / "transcribe"), str(find_onnxruntime_library()), str(model),
                          str(wav)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    python = nemo_fast.Recognizer(model)
    assert python.decoding == "beam"
    assert run.stdout.strip() == python.transcribe(wav).text
