"""Helpers shared by the benchmark scripts: repeated timing with medians, and result stamps."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent / "streaming"  # python benchmarks/streaming ...
RESULTS_DIR = Path(__file__).resolve().parent / "results"
TESTS_DIR = Path(__file__).resolve().parents[1] / "tests"


def tiled_speech(seconds: float, sample_rate: int = 16000):
    """The test speech clip tiled to the given length at random gains, with a low noise floor (seeded)."""
    import sys

    import numpy as np

    sys.path.insert(0, str(TESTS_DIR))
    from feature_cases import speech

    clip = speech(sample_rate)
    n = int(seconds * sample_rate)
    rng = np.random.default_rng(0)
    reps = n // len(clip) + 1
    x = np.concatenate([clip * g for g in rng.uniform(0.2, 1.5, reps).astype(np.float32)])[:n]
    return (x + rng.normal(0, 1e-4, n).astype(np.float32)).astype(np.float32)


def limit_threads(n: int) -> None:
    """One knob for every library's thread pool; call before importing numpy/torch."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(n)


def median_seconds(fn, repeats: int, warmup: int = 1) -> dict:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "repeats": repeats}


def stamp() -> dict:
    import nemo_fast

    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).parent).stdout.strip()
    except OSError:
        rev = ""
    cpu = ""
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "git_revision": rev,
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "onnxruntime": nemo_fast.runtime_info()["version"],
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def write_json(name: str, data: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path
