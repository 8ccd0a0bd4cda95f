"""`capacity`: the most real-time streams in lock step, batched against one stream at a time. Its two pieces,
`lockstep_p95_tick` and `most_streams`, also serve benchmarks/gpu_capacity.py."""

from __future__ import annotations

import time
from pathlib import Path

from common import stamp, tiled_speech, write_json
from systems import _chunk_samples, write_contract


def lockstep_p95_tick(recognizer, audio, first: int, later: int, n: int, warmup_ticks: int, ticks: int,
                      batched: bool = True) -> float:  # fmt: skip
    """p95 over `ticks` ticks of the time to take one chunk of audio from each of n streams (first chunk
    `first` samples, later ones `later`), decoded together (batched) or each as it is fed."""
    import numpy as np

    streams = [recognizer.create_stream() for _ in range(n)]
    offsets = [(i * 7919 * 16) % (16000 * 30) for i in range(n)]  # each stream its own stretch of speech
    times = []
    for tick in range(warmup_ticks + ticks):
        lo = first + (tick - 1) * later if tick else 0
        hi = first + tick * later
        start = time.perf_counter()
        if batched:
            for stream, off in zip(streams, offsets):
                stream.accept_waveform_only(audio[off + lo : off + hi], 16000)
            recognizer.decode_streams(streams)
        else:
            for stream, off in zip(streams, offsets):
                stream.accept_waveform(audio[off + lo : off + hi], 16000)
        if tick >= warmup_ticks:
            times.append(time.perf_counter() - start)
    return float(np.percentile(times, 95))


def most_streams(p95_tick, chunk_s: float, label: str, start: int = 1, limit: int | None = None,
                 bisections: int | None = None) -> tuple[int, dict]:  # fmt: skip
    """The most streams whose p95 tick stays under the chunk: doubles from `start` until too slow (or past
    `limit`), then bisects (at most `bisections` steps, stopping within 1/16). Returns the count and every
    p95 tick measured (ms)."""
    seen, n, good = {}, start, 0
    while limit is None or n <= limit:
        seen[n] = p95_tick(n)
        print(f"  {label}: {n} streams p95 tick {1000 * seen[n]:.1f} ms (chunk {1000 * chunk_s:.0f} ms)", flush=True)
        if seen[n] >= chunk_s:
            break
        good, n = n, n * 2
    lo, hi = good, n if limit is None else min(n, limit)
    steps = 0
    while hi - lo > (1 if bisections is None else max(1, lo // 16)) and (bisections is None or steps < bisections):
        mid = (lo + hi) // 2
        seen[mid] = p95_tick(mid)
        print(f"  {label}: {mid} streams p95 tick {1000 * seen[mid]:.1f} ms", flush=True)
        lo, hi = (mid, hi) if seen[mid] < chunk_s else (lo, mid)
        steps += 1
    return lo, {str(k): 1000 * v for k, v in sorted(seen.items())}


def capacity(workdir: Path, model: str, threads: int, warmup_ticks: int, ticks: int) -> None:
    import nemo_fast

    model_dir = workdir / model / "nemo_fast"
    write_contract(model_dir)
    recognizer = nemo_fast.Recognizer(model_dir, num_threads=threads, max_batch_size=1024, decoding="greedy")
    first, later = _chunk_samples(model_dir)
    chunk_s = later / 16000
    audio = tiled_speech((first + later * (warmup_ticks + ticks + 2)) / 16000 + 30)

    def largest(batched: bool) -> tuple[int, dict]:
        return most_streams(
            lambda n: lockstep_p95_tick(recognizer, audio, first, later, n, warmup_ticks, ticks, batched),
            chunk_s, "batched" if batched else "one at a time",
        )  # fmt: skip

    sequential, seq_ticks = largest(False)
    batched, batch_ticks = largest(True)
    result = {
        "stamp": stamp(), "model": model, "threads": threads, "chunk_ms": 1000 * chunk_s,
        "warmup_ticks": warmup_ticks, "ticks": ticks,
        "one_at_a_time": {"streams": sequential, "p95_tick_ms": seq_ticks},
        "batched": {"streams": batched, "p95_tick_ms": batch_ticks},
        "batched_over_one_at_a_time": batched / max(sequential, 1),
    }  # fmt: skip
    write_json(f"capacity_{model}_{threads}t", result)
    print(f"{model}, {threads} thread(s): {sequential} real-time streams one at a time, {batched} batched "
          f"({result['batched_over_one_at_a_time']:.1f}x)")
