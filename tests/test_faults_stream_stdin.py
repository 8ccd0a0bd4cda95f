"""Fault sweep of `nemo-fast stream -`: garbage bytes as either encoding, odd trailing bytes, bad arguments,
and input much faster than real time. Each ends in the documented output or one line naming the problem,
never a traceback or a hang; memory stays flat however long the input runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from nemo_fast.audio import read_audio

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "speech_example.wav"
SANITIZED = os.environ.get("NEMO_FAST_SANITIZED") == "1"


def _stream(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "nemo_fast.cli", "stream", *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT / "tests")


def _run(data: bytes, *args: str) -> tuple[int, list[dict], str]:
    process = _stream("-", "--format", "json", *args)
    out, err = process.communicate(data, timeout=300)
    return process.returncode, [json.loads(line) for line in out.decode().splitlines()], err.decode()


def test_random_bytes_as_16_bit_pcm_are_noise_decoded_to_the_end():
    code, events, err = _run(np.random.default_rng(0).bytes(16000 * 2 * 20))
    assert code == 0, err
    assert events[0]["type"] == "ready" and "Traceback" not in err


def test_random_bytes_as_float_pcm_stop_at_the_first_non_finite_sample_in_one_line():
    """Random bytes as f32le hold NaN and infinite values: the stream stops with the error, after printing what
    came before it."""
    rng = np.random.default_rng(1)
    speech, _ = read_audio(EXAMPLE)
    good = (speech.astype(np.float32) / 32768).astype("<f4").tobytes()
    garbage = rng.bytes(16000 * 4)
    code, events, err = _run(good + garbage, "--encoding", "f32le")
    assert code == 2, err
    assert err.startswith("nemo-fast: error:") and "non-finite sample" in err and err.count("\n") == 1, err
    assert " ".join(e["text"] for e in events if e["type"] == "final").strip()  # the speech before it is printed


@pytest.mark.parametrize("args,message", [(["--encoding", "mulaw"], "invalid choice"),
                                          (["--sample-rate", "0"], "sample-rate"),
                                          (["--sample-rate", "-16000"], "sample-rate"),
                                          (["--sample-rate", "abc"], "sample-rate")])  # fmt: skip
def test_bad_stream_arguments_are_one_line(args, message):
    code, _, err = _run(b"\x00\x00" * 1600, *args)
    assert code == 2 and message in err and "Traceback" not in err, err


@pytest.mark.parametrize("extra", [1, 3])
def test_odd_trailing_bytes_of_float_input_are_named_after_the_words(extra):
    speech, _ = read_audio(EXAMPLE)
    data = (speech.astype(np.float32) / 32768).astype("<f4").tobytes() + b"\x01" * extra
    code, events, err = _run(data, "--encoding", "f32le")
    assert code == 2 and f"{extra} stray byte" in err, err
    assert any(e["type"] == "final" and e["text"] for e in events)


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def test_input_faster_than_real_time_keeps_memory_flat():
    """Minutes of speech and pauses written as fast as the pipe takes them: the reader decodes as it reads (the
    pipe holds the writer back), so the memory after the last minute is that after the first."""
    speech, _ = read_audio(EXAMPLE)
    minute = np.tile(np.concatenate([speech, np.zeros(16000, np.int16)]), 60 * 16000 // (len(speech) + 16000) + 1)
    minute = minute[: 60 * 16000].tobytes()
    minutes = 2 if SANITIZED else 6
    process = _stream("-", "--format", "json")
    finals = []
    reader = threading.Thread(target=lambda: finals.extend(line for line in process.stdout if b'"final"' in line))
    reader.start()
    rss = []
    started = time.monotonic()
    for _ in range(minutes):
        process.stdin.write(minute)
        process.stdin.flush()
        rss.append(_rss_mb(process.pid))
    process.stdin.close()
    reader.join(timeout=600)
    assert process.wait(timeout=60) == 0, process.stderr.read()
    elapsed = time.monotonic() - started
    print(f"{minutes} min of audio in {elapsed:.1f} s; RSS after each minute (MB): {[round(r) for r in rss]}")
    assert len(finals) >= minutes * 5  # every sentence of every minute came out
    assert rss[-1] <= rss[0] * 1.10 + 5, rss
