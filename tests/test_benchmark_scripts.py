"""The benchmark scripts stay runnable: every module imports and the saved results print as tables (the
measurements themselves are scripts run by hand, not timed tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run(*args):
    return subprocess.run([sys.executable, str(BENCHMARKS / "streaming"), *args], capture_output=True, text=True)


def run_script(script, *args, timeout=300):
    """One of the standalone benchmark scripts, bounded in time."""
    return subprocess.run([sys.executable, str(BENCHMARKS / script), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)  # fmt: skip


def test_every_subcommand_is_listed():
    out = run("--help")
    assert out.returncode == 0, out.stderr
    for command in ["prepare", "speed", "paired", "capacity", "profile", "matmul-floor", "static-shapes",
                    "int8-kernels", "table"]:  # fmt: skip
        assert command in out.stdout


@pytest.mark.parametrize(
    "name", ["streaming", "paired_shipped_run9", "profile", "matmul_floor", "static_shapes", "int8_kernels",
             "sherpa_paired_nemotron"]
)  # fmt: skip
def test_saved_results_print_as_tables(name):
    out = run("table", name)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("|") and "---" in out.stdout


def test_the_server_load_benchmark_runs(tmp_path):
    """A bounded run of benchmarks/server_load.py on the shipped model: both sides measured, a result written."""
    import json

    from conftest import require_module

    require_module("aiohttp")
    output = tmp_path / "load.json"
    out = run_script("server_load.py", BENCHMARKS.parent / "models" / "default", "--seconds", "1.2", "--warmup", "0.6",
                     "--max-streams", "2", "--repeats", "1", "--output", output)  # fmt: skip
    assert out.returncode == 0, out.stderr
    result = json.loads(output.read_text())
    assert set(result["in_process"]["p95_chunk_latency_ms"]) == {"1", "2"}
    assert set(result["server"]["p95_chunk_latency_ms"]) == {"1", "2"}


def test_the_bulk_transcription_benchmark_runs(tmp_path):
    """A bounded run of benchmarks/bulk_transcribe.py on the shipped model (without NeMo; with Ray): every
    configuration timed, a result written."""
    import json

    # Ray's worker processes do not run under the sanitizer runtime (a CI run waited past the bound): local rows only.
    sanitized = os.environ.get("NEMO_FAST_SANITIZED") == "1"
    output = tmp_path / "bulk.json"
    out = run_script("bulk_transcribe.py", BENCHMARKS.parent / "models" / "default", "--entries", "3", "--seconds", "1",
                     "--repeats", "1", "--output", output, *(["--no-ray"] if sanitized else []))  # fmt: skip
    assert out.returncode == 0, out.stderr
    runs = json.loads(output.read_text())["runs"]
    assert len(runs) == (4 if sanitized else 6)  # 4 local, Ray with 1 and 2 actors
    assert all(r["audio_s_per_wall_s"] > 0 for r in runs.values())


def test_the_batch_decoding_benchmark_compares_two_builds(tmp_path):
    """A bounded run of benchmarks/batch_decoding.py with this install as its own baseline: both timed in
    alternating processes, their ratio written."""
    import json

    import nemo_fast

    output = tmp_path / "batch.json"
    site = Path(nemo_fast.__file__).resolve().parents[1]
    model = BENCHMARKS.parent / "tests" / "models" / "exported" / "rnnt_bpe_d48_80mel_70_6"
    out = run_script("batch_decoding.py", model, "--baseline", site, "--streams", "4", "--seconds", "2", "--rounds",
                     "1", "--output", output)  # fmt: skip
    assert out.returncode == 0, out.stderr
    result = json.loads(output.read_text())
    assert set(result["seconds"]) == {"this", "baseline"} and result["this_over_baseline"] > 0


def test_the_joint_threads_benchmark_runs(tmp_path):
    """A bounded run of benchmarks/joint_threads.py on a test model's joint: both thread counts timed, and their
    outputs bitwise equal (what lets nemo_fast give the heads more threads beside a GPU encoder)."""
    import json

    output = tmp_path / "joint.json"
    model = BENCHMARKS.parent / "tests" / "models" / "exported" / "rnnt_bpe_d48_80mel_70_6"
    out = run_script("joint_threads.py", model, "--rows", "4", "64", "--calls", "3", "--output", output)
    assert out.returncode == 0, out.stderr
    result = json.loads(output.read_text())
    assert len(result["median_ms"]) == 4 and all(result["bitwise_equal"].values())


@pytest.mark.nemo
def test_the_gpu_capacity_benchmark_runs_on_the_cpu(tmp_path, nemo_available):
    """benchmarks/gpu_capacity.py is measured only where a GPU is lent; its CPU smoke run on a toy replica keeps
    every stage working: build, export, float16 copy, nemo_fast and NeMo stream counts, a result written."""
    import json

    output = tmp_path / "gpu.json"
    out = run_script("gpu_capacity.py", tmp_path / "work", "--device", "cpu", "--models", "tiny", "--ticks", "2",
                     "--warmup", "1", "--max-streams", "8", "--profile-streams", "2", "--threads", "2", "--output",
                     output, timeout=600)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(output.read_text())
    assert not result["skipped"], result["skipped"]
    rows = {row["system"]: row for row in result["rows"]}
    assert set(rows) == {"nemo_fast_fp32", "nemo_fast_fp16", "nemo_fp32", "nemo_fp16"}
    # Timings on a shared CPU are not asserted: each system measured its first level and read the chunk.
    assert all("8" in row["p95_tick_ms"] and row["chunk_ms"] == 160 for row in rows.values())
    # nemo_fast rows carry ONNX Runtime's profile of their encoder: every node ran on the CPU here.
    for system in ("nemo_fast_fp32", "nemo_fast_fp16"):
        profile = rows[system]["encoder_profile"]
        assert profile["streams"] == 2 and set(profile["nodes_per_run_by_provider"]) == {"CPUExecutionProvider"}
        assert rows[system]["threads"] == 2
