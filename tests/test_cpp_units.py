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


@pytest.mark.cpp
def test_cpp_unit_tests_pass():
    require(shutil.which("cmake") is not None, "cmake")
    require(any(Path(p).exists() for p in ["/usr/lib/x86_64-linux-gnu/libgtest.a", "/usr/lib/aarch64-linux-gnu/libgtest.a",
                                           "/usr/lib/libgtest.a", "/usr/local/lib/libgtest.a"])
            or os.environ.get("GTEST_ROOT"), "GoogleTest (Debian: libgtest-dev)")
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(BUILD), *generator, "-DNEMO_FAST_BUILD_TESTS=ON",
                    "-DCMAKE_BUILD_TYPE=Release"], check=True, capture_output=True, text=True)
    build = subprocess.run(["cmake", "--build", str(BUILD), "--target", "nemo_fast_cpp_tests", "-j", "2"],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    run = subprocess.run([str(BUILD / "nemo_fast_cpp_tests")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-6000:]
    assert "[  PASSED  ]" in run.stdout and "FAILED" not in run.stdout


@pytest.mark.cpp
@pytest.mark.parametrize("decoder, head", [("default", "rnnt"), ("ctc", "ctc")])
def test_bench_recognizer_takes_the_decoder_its_usage_names(decoder, head):
    """`bench_recognizer ... [decoder=default]`: the literal word `default` picks the model's default head."""
    require(shutil.which("cmake") is not None, "cmake")
    from nemo_fast._runtime import find_onnxruntime_library

    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(BUILD), *generator, "-DNEMO_FAST_BUILD_BENCHMARKS=ON",
                    "-DCMAKE_BUILD_TYPE=Release"], check=True, capture_output=True, text=True)
    build = subprocess.run(["cmake", "--build", str(BUILD), "--target", "bench_recognizer", "-j", "2"],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    model = ROOT / "tests" / "models" / "exported" / "hybrid_bpe_d48_80mel_70_1"
    run = subprocess.run([str(BUILD / "bench_recognizer"), str(find_onnxruntime_library()), str(model), "2", "1", "1",
                          decoder], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert f"decoder {head})" in run.stdout


@pytest.mark.cpp
def test_installed_package_builds_and_runs_the_example_program(tmp_path):
    """`cmake --install` gives find_package(nemo_fast); examples/cpp builds against it and transcribes the
    example as the Python package does."""
    require(shutil.which("cmake") is not None, "cmake")
    import nemo_fast
    from nemo_fast._runtime import find_onnxruntime_library

    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(BUILD), *generator, "-DCMAKE_BUILD_TYPE=Release"],
                   check=True, capture_output=True, text=True)
    for step in (["cmake", "--build", str(BUILD), "--target", "nemo_fast_core", "-j", "2"],
                 ["cmake", "--install", str(BUILD), "--prefix", str(tmp_path / "prefix")],
                 ["cmake", "-S", str(ROOT / "examples" / "cpp"), "-B", str(tmp_path / "example"), *generator,
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
    assert run.stdout.strip() == nemo_fast.Recognizer(model).transcribe(wav).text
