"""Builds the C++ unit tests (GoogleTest: FFT, mel filterbank, ImprovedFbank, resampler, decoding) with the
project's CMake and runs them, so they belong to the same test command as everything else."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
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


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The C++ package as `cmake --install` writes it (static core, C API library, public headers)."""
    build_target("nemo_fast_core")
    build_target("nemo_fast_c")
    prefix = tmp_path_factory.mktemp("installed")
    run = subprocess.run(["cmake", "--install", str(BUILD), "--prefix", str(prefix)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return prefix


def _build_example(source: Path, prefix: Path, out: Path) -> Path:
    for step in (["cmake", "-S", str(source), "-B", str(out), *GENERATOR, f"-DCMAKE_PREFIX_PATH={prefix}"],
                 ["cmake", "--build", str(out)]):
        run = subprocess.run(step, capture_output=True, text=True)
        assert run.returncode == 0, " ".join(step) + "\n" + run.stdout[-3000:] + run.stderr[-3000:]
        assert "warning" not in run.stdout + run.stderr, run.stdout[-3000:]
    return out / "transcribe"


@pytest.mark.cpp
def test_installed_package_builds_and_runs_the_example_program(installed, tmp_path):
    """`cmake --install` gives find_package(nemo_fast); examples/cpp builds against it and transcribes the
    example as the Python package does, words and their times too: both decode as the model folder's
    decoding.json says (the shipped model's beam search with its language model)."""
    import nemo_fast
    from nemo_fast._runtime import find_onnxruntime_library

    headers = sorted(p.relative_to(installed).as_posix() for p in installed.rglob("*.h"))
    assert headers == ["include/nemo_fast/c_api.h", "include/nemo_fast/common/error.h", "include/nemo_fast/nemo_fast.h",
                       "include/nemo_fast/runtime/onnxruntime_loader.h"]  # no ONNX Runtime header
    program = _build_example(ROOT / "examples" / "cpp", installed, tmp_path / "example")
    model, wav = ROOT / "models" / "default", ROOT / "examples" / "speech_example.wav"
    run = subprocess.run([str(program), str(find_onnxruntime_library()), str(model), str(wav)], capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    python = nemo_fast.Recognizer(model)
    assert python.decoding == "beam"
    text, *word_lines = run.stdout.splitlines()
    segments = python.transcribe_segments(wav)
    assert text == python.transcribe(wav).text == " ".join(s.text for s in segments)
    assert word_lines == [f"{w.start:.3f} {w.end:.3f} {w.text}" for s in segments for w in s.words]


@pytest.mark.cpp
def test_the_c_example_builds_against_the_installed_c_api_and_gives_pythons_words(installed, tmp_path):
    """examples/c (C99, warnings on) links nemo_fast::c_api; its transcript and words with their times are the
    Python API's for the same model and file."""
    import nemo_fast
    from nemo_fast._runtime import find_onnxruntime_library

    program = _build_example(ROOT / "examples" / "c", installed, tmp_path / "example_c")
    model, wav = ROOT / "models" / "default", ROOT / "examples" / "speech_example.wav"
    run = subprocess.run([str(program), str(find_onnxruntime_library()), str(model), str(wav)], capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    text, *word_lines = run.stdout.splitlines()
    segments = nemo_fast.Recognizer(model).transcribe_segments(wav)
    assert text == " ".join(s.text for s in segments)
    assert word_lines == [f"{w.start:.3f} {w.end:.3f} {w.text}" for s in segments for w in s.words]
    assert len(word_lines) == len(text.split())
    missing = subprocess.run([str(program), str(find_onnxruntime_library()), str(tmp_path / "nothing"), str(wav)],
                             capture_output=True, text=True)
    assert missing.returncode == 1 and str(tmp_path / "nothing") in missing.stderr


CTYPES_DRIVER = r"""
import ctypes, json, sys
import numpy as np
import soundfile as sf

lib = ctypes.CDLL(sys.argv[1])
class Options(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("decoder", ctypes.c_char_p), ("num_threads", ctypes.c_int),
                ("decoding", ctypes.c_int), ("beam_size", ctypes.c_int), ("lm_path", ctypes.c_char_p),
                ("lm_weight", ctypes.c_float), ("word_bonus", ctypes.c_float), ("hotwords_file", ctypes.c_char_p),
                ("endpoints", ctypes.c_int)]
class Word(ctypes.Structure):
    _fields_ = [("text", ctypes.c_char_p), ("start_seconds", ctypes.c_double), ("end_seconds", ctypes.c_double),
                ("confidence", ctypes.c_float)]
class Segment(ctypes.Structure):
    _fields_ = [("text", ctypes.c_char_p), ("start_seconds", ctypes.c_double), ("end_seconds", ctypes.c_double),
                ("final", ctypes.c_int), ("num_words", ctypes.c_size_t), ("words", ctypes.POINTER(Word))]
class Result(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("text", ctypes.c_char_p), ("num_tokens", ctypes.c_size_t),
                ("token_ids", ctypes.POINTER(ctypes.c_int)), ("token_times_seconds", ctypes.POINTER(ctypes.c_double)),
                ("token_confidences", ctypes.POINTER(ctypes.c_float)), ("num_segments", ctypes.c_size_t),
                ("segments", ctypes.POINTER(Segment))]
lib.nf_last_error.restype = ctypes.c_char_p
lib.nf_model_decoding.restype = ctypes.c_char_p
lib.nf_model_decoder.restype = ctypes.c_char_p
Handle = ctypes.c_void_p
for name in ("nf_model_destroy", "nf_stream_destroy"):
    getattr(lib, name).argtypes = [Handle]
lib.nf_stream_create.argtypes = [Handle, ctypes.POINTER(Handle)]
lib.nf_model_decoding.argtypes = lib.nf_model_decoder.argtypes = lib.nf_model_sample_rate.argtypes = [Handle]
for name in ("nf_stream_accept_waveform", "nf_stream_accept_waveform_only"):
    getattr(lib, name).argtypes = [Handle, ctypes.POINTER(ctypes.c_float), ctypes.c_size_t, ctypes.c_int]
lib.nf_stream_input_finished.argtypes = [Handle]
lib.nf_stream_get_result.argtypes = [Handle, ctypes.POINTER(Result)]
lib.nf_decode_streams.argtypes = [Handle, ctypes.POINTER(Handle), ctypes.c_size_t]

def check(status):
    if status != 0:
        raise SystemExit(f"status {status}: {lib.nf_last_error().decode()}")

out = {"version": lib.nf_c_api_version()}
out["no_runtime"] = [lib.nf_model_create(sys.argv[3].encode(), None, ctypes.byref(Handle())),
                     lib.nf_last_error().decode()]
check(lib.nf_load_onnxruntime(sys.argv[2].encode()))
model_dir, wavs = sys.argv[3], sys.argv[4:]
out["missing_model"] = [lib.nf_model_create(b"/nonexistent/model", None, ctypes.byref(Handle())),
                        lib.nf_last_error().decode()]
unsized = Options()
out["unsized_options"] = [lib.nf_model_create(model_dir.encode(), ctypes.byref(unsized), ctypes.byref(Handle())),
                          lib.nf_last_error().decode()]

def transcripts(options):
    model = Handle()
    check(lib.nf_model_create(model_dir.encode(), options, ctypes.byref(model)))
    streams = []
    for wav in wavs:
        stream = Handle()
        check(lib.nf_stream_create(model, ctypes.byref(stream)))
        streams.append(stream)
    audio = [sf.read(wav, dtype="float32") for wav in wavs]
    piece = 1600
    longest = max(len(a) for a, _ in audio)
    for start in range(0, longest, piece):  # lock step, one batch per piece
        for stream, (samples, rate) in zip(streams, audio):
            part = np.ascontiguousarray(samples[start:start + piece])
            if len(part):
                check(lib.nf_stream_accept_waveform_only(stream, part.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                                         len(part), rate))
        check(lib.nf_decode_streams(model, (Handle * len(streams))(*streams), len(streams)))
    results = []
    for stream in streams:
        check(lib.nf_stream_input_finished(stream))
        r = Result(struct_size=ctypes.sizeof(Result))
        check(lib.nf_stream_get_result(stream, ctypes.byref(r)))
        words = [[w.text.decode(), w.start_seconds, w.end_seconds]
                 for s in r.segments[:r.num_segments] for w in s.words[:s.num_words]]
        results.append({"text": r.text.decode(), "tokens": r.token_ids[:r.num_tokens], "words": words})
        lib.nf_stream_destroy(stream)
    decoding = lib.nf_model_decoding(model).decode()
    lib.nf_model_destroy(model)
    return decoding, results

out["default"] = transcripts(None)
greedy = Options()
lib.nf_model_options_init(ctypes.byref(greedy))
greedy.decoding = 1
out["greedy"] = transcripts(ctypes.byref(greedy))
print(json.dumps(out))
"""


@pytest.mark.cpp
def test_the_c_api_driven_through_ctypes_gives_the_python_apis_transcripts(installed, tmp_path):
    """libnemo_fast.so from Python's ctypes, in a process without nemo_fast imported: two streams fed in lock step
    and decoded in batches give the Python API's texts, tokens and words, with the model's default decoding and
    with greedy; failures are status codes with a message."""
    import json

    import nemo_fast
    from nemo_fast._runtime import find_onnxruntime_library

    model = ROOT / "models" / "default"
    wavs = [ROOT / "examples" / "speech_example.wav", ROOT / "tests" / "data" / "speech_16k.wav"]
    driver = tmp_path / "driver.py"
    driver.write_text(CTYPES_DRIVER)
    library = next(installed.rglob("libnemo_fast.so"))  # lib/ or lib64/, as GNUInstallDirs has it
    run = subprocess.run([sys.executable, str(driver), str(library), str(find_onnxruntime_library()), str(model),
                          *map(str, wavs)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout)
    assert out["version"] == 1
    assert out["no_runtime"][0] == 6 and "ONNX Runtime" in out["no_runtime"][1]  # NF_ERROR_RUNTIME
    assert out["missing_model"][0] == 3 and "/nonexistent/model" in out["missing_model"][1]  # NF_ERROR_MODEL
    assert out["unsized_options"][0] == 1 and "struct_size" in out["unsized_options"][1]
    for decoding, kwargs in (("default", {}), ("greedy", {"decoding": "greedy"})):
        recognizer = nemo_fast.Recognizer(model, **kwargs)
        method, results = out[decoding]
        assert method == recognizer.decoding
        for wav, result in zip(wavs, results):
            segments = recognizer.transcribe_segments(wav)
            assert result["text"] == " ".join(s.text for s in segments)
            assert result["tokens"] == [t for s in segments for t in s.token_ids]
            expected = [[w.text, w.start, w.end] for s in segments for w in s.words]
            assert [w[0] for w in result["words"]] == [w[0] for w in expected]
            assert np.allclose([w[1:] for w in result["words"]], [w[1:] for w in expected], atol=1e-9)
