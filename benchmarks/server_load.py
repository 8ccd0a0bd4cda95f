"""How many real-time streams `nemo-fast serve` sustains, against in-process `decode_streams` on the same model.

A stream is sustained while the p95 of its chunk latency stays under the chunk duration. Chunk latency is
measured the same way on both sides: from the moment a chunk of audio is due (sent by the client; for in-process,
its tick) to the moment a decode that had it returns (the server's `progress` event reaches the client; for
in-process, `decode_streams` returns).

- server: `nemo-fast serve` in a subprocess on loopback; N WebSocket clients in this process (one asyncio loop)
  send one chunk of audio per chunk duration (s16le, the nemo_fast protocol with `progress: true`), all started
  together; clients and server share the machine's cores.
- in-process: N streams fed in lock step, one chunk each per tick, decoded together with `decode_streams` (the
  upper bound: perfect batching, no I/O).

For each side the most streams is found by doubling until too slow, then bisecting, each stream count judged by
the median p95 of `--repeats` trials. Bounded: every trial lasts `--seconds` of audio (after `--warmup` seconds)
and N stops at `--max-streams`.

    python benchmarks/server_load.py MODEL_DIR [--threads 2] [--seconds 8] [--name shipped]
    python benchmarks/server_load.py --plot    # results/server_load.png from the results/server_load_*.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from common import RESULTS_DIR, stamp, tiled_speech

import nemo_fast


def chunk_samples(recognizer) -> int:
    """Audio samples of one chunk after the first (the model's chunk duration)."""
    spec = recognizer.spec
    hop = round(spec.frame_shift_seconds / spec.subsampling_factor * spec.features.sample_rate)
    return spec.geometry.shift_size[1] * hop


def stream_audio(n: int, seconds: float) -> list[np.ndarray]:
    speech = tiled_speech(seconds + 40)
    return [speech[(i * 7919 * 16) % (16000 * 30):][: int(seconds * 16000)] for i in range(n)]


def in_process_p95(recognizer, n: int, seconds: float, warmup: float) -> float:
    chunk = chunk_samples(recognizer)
    tick = chunk / 16000
    streams = [recognizer.create_stream() for _ in range(n)]
    audio = stream_audio(n, seconds + warmup)
    latencies = []
    start = time.perf_counter()
    for k in range(len(audio[0]) // chunk):
        due = start + (k + 1) * tick  # the chunk is complete at this moment of a live stream
        if time.perf_counter() < due:
            time.sleep(due - time.perf_counter())
        for stream, a in zip(streams, audio):
            stream.accept_waveform_only(a[k * chunk:(k + 1) * chunk], 16000)
        recognizer.decode_streams(streams)
        if (k + 1) * tick > warmup:
            latencies.append(time.perf_counter() - due)
    return float(np.percentile(latencies, 95))


def server_p95(address: str, chunk: int, n: int, seconds: float, warmup: float) -> float:
    import aiohttp

    tick = chunk / 16000
    audio = [(a * 32767).astype("<i2") for a in stream_audio(n, seconds + warmup)]
    latencies: list[float] = []

    async def client(http, a: np.ndarray, start: float):
        async with http.ws_connect(f"ws://{address}/v1/stream", max_msg_size=0) as ws:
            await ws.send_str(json.dumps({"sample_rate": 16000, "encoding": "s16le", "progress": True}))
            sent_at: dict[int, float] = {}  # samples sent -> when they were due

            async def read():
                async for message in ws:
                    event = json.loads(message.data)
                    if event["type"] == "progress":
                        samples = round(event["seconds"] * 16000)
                        if samples in sent_at and samples / 16000 > warmup:
                            latencies.append(time.perf_counter() - sent_at[samples])

            reader = asyncio.create_task(read())
            for k in range(len(a) // chunk):
                due = start + (k + 1) * tick
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                sent_at[(k + 1) * chunk] = due
                await ws.send_bytes(a[k * chunk:(k + 1) * chunk].tobytes())
            await ws.send_str('{"type": "end"}')
            await reader

    async def run():
        async with aiohttp.ClientSession() as http:
            start = time.perf_counter() + 0.5
            await asyncio.gather(*(client(http, a, start) for a in audio))

    asyncio.run(run())
    return float(np.percentile(latencies, 95))


def largest(p95, chunk_s: float, max_streams: int, repeats: int, label: str) -> tuple[int, dict]:
    seen: dict[int, float] = {}

    def trial(n: int) -> bool:
        seen[n] = float(np.median([p95(n) for _ in range(repeats)]))
        print(f"  {label}: {n} streams, p95 chunk latency {1000 * seen[n]:.1f} ms (chunk {1000 * chunk_s:.0f} ms)",
              flush=True)
        return seen[n] < chunk_s

    good, n = 0, 1
    while n <= max_streams and trial(n):
        good, n = n, n * 2
    lo, hi = good, min(n, max_streams + 1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if trial(mid) else (lo, mid)
    return lo, {str(k): round(1000 * v, 2) for k, v in sorted(seen.items())}


def plot() -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = [json.loads(p.read_text()) for p in sorted(RESULTS_DIR.glob("server_load_*.json"))]
    fig, axes = plt.subplots(1, len(results), figsize=(5.5 * len(results), 4), squeeze=False)
    for ax, r in zip(axes[0], results):
        for side, style in (("in_process", "o-"), ("server", "s--")):
            seen = {int(k): v for k, v in r[side]["p95_chunk_latency_ms"].items()}
            capped = "≥" if r[side]["streams"] == r["max_streams"] else ""
            ax.plot(sorted(seen), [seen[k] for k in sorted(seen)], style,
                    label=f"{side.replace('_', '-')} ({capped}{r[side]['streams']} streams)")
        ax.axhline(r["chunk_ms"], color="gray", linestyle=":", label=f"chunk {r['chunk_ms']:.0f} ms")
        ax.set_xscale("log", base=2)
        ax.set_ylim(0, 2.5 * r["chunk_ms"])  # past the chunk duration only the crossing matters
        ax.set_xlabel("concurrent real-time streams")
        ax.set_ylabel("p95 chunk latency (ms)")
        ax.set_title(f"{r['model']}, {r['threads']} threads")
        ax.legend()
    fig.tight_layout()
    path = RESULTS_DIR / "server_load.png"
    fig.savefig(path, dpi=90)
    return path


def main() -> None:
    if sys.argv[1:] == ["--plot"]:
        print(f"wrote {plot()}")
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--name", help="the result's name (default: the model folder's)")
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads (both sides)")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured audio per trial")
    parser.add_argument("--warmup", type=float, default=2.0, help="audio before measuring, per trial")
    parser.add_argument("--max-streams", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3, help="trials per stream count (the median p95 decides)")
    parser.add_argument("--output", type=Path, help="result file (default: results/server_load_NAME.json)")
    args = parser.parse_args()
    name = args.name or args.model_dir.name

    recognizer = nemo_fast.Recognizer(args.model_dir, num_threads=args.threads, max_batch_size=1024,
                                      decoding="greedy")
    chunk = chunk_samples(recognizer)
    chunk_s = chunk / 16000
    print(f"{name}: chunk {1000 * chunk_s:.0f} ms, {args.threads} threads", flush=True)
    in_process, in_process_seen = largest(lambda n: in_process_p95(recognizer, n, args.seconds, args.warmup),
                                          chunk_s, args.max_streams, args.repeats, "in-process")
    recognizer = None  # the server loads its own

    output = args.output or RESULTS_DIR / f"server_load_{name}.json"
    log = open(output.with_suffix(".log"), "w")  # noqa: SIM115
    server = subprocess.Popen([sys.executable, "-m", "nemo_fast.cli", "serve", "--model", str(args.model_dir),
                               "--port", "0", "--threads", str(args.threads), "--max-connections", "1024",
                               "--decoding", "greedy",
                               "--log-format", "text"], stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        address = server.stdout.readline().strip().rsplit("//", 1)[-1]
        served, served_seen = largest(lambda n: server_p95(address, chunk, n, args.seconds, args.warmup),
                                      chunk_s, args.max_streams, args.repeats, "server")
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
        Path(log.name).unlink()

    result = {
        "stamp": stamp(), "model": name, "threads": args.threads, "chunk_ms": round(1000 * chunk_s, 1),
        "seconds": args.seconds, "warmup": args.warmup, "repeats": args.repeats, "max_streams": args.max_streams,
        "in_process": {"streams": in_process, "p95_chunk_latency_ms": in_process_seen},
        "server": {"streams": served, "p95_chunk_latency_ms": served_seen},
        "server_over_in_process": round(served / in_process, 3) if in_process else None,
    }  # fmt: skip
    print(json.dumps({k: result[k] for k in ("in_process", "server", "server_over_in_process")}), flush=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
