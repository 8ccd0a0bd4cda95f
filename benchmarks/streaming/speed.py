"""`speed`: every system in a fresh process, one after the other; real-time factors, latency and memory."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

from common import PACKAGE_DIR, stamp, write_json
from systems import LATENCY_POSITIONS, SYSTEMS, write_contract


def speed(workdir: Path, threads_list, repeats: int, rounds: int, seconds: float, systems, models, output: str,
          latency: bool) -> None:  # fmt: skip
    results = {"stamp": stamp(), "seconds": seconds, "repeats": repeats, "rounds": rounds, "runs": []}
    for model in models:
        write_contract(workdir / model / "nemo_fast")
    for round_index in range(rounds):
        for model in models:
            for threads in threads_list:
                for system in systems:
                    cmd = [sys.executable, str(PACKAGE_DIR), "measure", system, str(workdir / model), "--threads",
                           str(threads), "--seconds", str(seconds), "--repeats", str(repeats)]  # fmt: skip
                    cmd += [] if latency else ["--no-latency"]
                    proc = subprocess.run(cmd, capture_output=True, text=True)
                    line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
                    if line is None:
                        print(f"{model} {system} {threads} thread(s) FAILED:\n{proc.stderr[-3000:]}", flush=True)
                        continue
                    row = {"round": round_index, "model": model, "system": system, "threads": threads,
                           **json.loads(line[7:])}  # fmt: skip
                    results["runs"].append(row)
                    lat = " ".join(f"@{k}: {v['p50']:.1f}/{v['p95']:.1f} ms" for k, v in row["latency_ms"].items())
                    print(f"round {round_index + 1}/{rounds} {model:14s} {threads}t {system:17s} RTF {row['rtf']:.4f}"
                          f"  peak {row['peak_rss_mb']:.0f} MB, final {row['final_rss_mb']:.0f} MB"
                          f" (audio {row['audio_rss_mb']:.0f} MB)  latency p50/p95 {lat}", flush=True)
                    write_json(output, results)
    print(markdown_table(results))
    if latency:
        print()
        print(latency_memory_table(results))



def median_rtf(rows: list[dict], model: str, threads: int, system: str, round_index: int | None = None) -> float | None:
    """Median real-time factor of one system over every timed stream of every round, or of one round (None if
    not run)."""
    runs = [t for r in rows if (r["model"], r["threads"], r["system"]) == (model, threads, system)
            and round_index in (None, r.get("round", 0)) for t in r["rtf_runs"]]  # fmt: skip
    return statistics.median(runs) if runs else None



def markdown_table(results: dict) -> str:
    """Real-time factors (median over every round) and nemo_fast's time over each other system's; with
    several rounds also nemo_fast / bare within each round."""
    rows = results["runs"]
    keys = sorted({(r["model"], r["threads"]) for r in rows})
    systems = [s for s in SYSTEMS if any(r["system"] == s for r in rows)]
    others = [s for s in systems if s != "nemo_fast"]
    rounds = results.get("rounds", 1)
    lines = ["| model, threads | " + " | ".join(systems) + " | " + " | ".join(f"nemo_fast / {s}" for s in others)
             + " |" + (" nemo_fast / bare by round |" if rounds > 1 else ""),
             "|---|" + "---:|" * (len(systems) + len(others) + (rounds > 1))]  # fmt: skip

    def ratio(model: str, threads: int, other: str, round_index: int | None = None) -> str:
        ours = median_rtf(rows, model, threads, "nemo_fast", round_index)
        theirs = median_rtf(rows, model, threads, other, round_index)
        return f"{ours / theirs:.3f}" if ours and theirs else "–"

    for model, threads in keys:
        rtf = {s: median_rtf(rows, model, threads, s) for s in systems}
        cells = [f"{rtf[s]:.4f}" if rtf[s] is not None else "–" for s in systems]
        cells += [ratio(model, threads, s) for s in others]
        by_round = ", ".join(ratio(model, threads, "bare_onnxruntime", i) for i in range(rounds))
        lines.append(f"| {model}, {threads} | " + " | ".join(cells) + " |" + (f" {by_round} |" if rounds > 1 else ""))
    return "\n".join(lines)



def latency_memory_table(results: dict) -> str:
    """Per-chunk latency p50/p95 (ms) at each stream position, and peak and final resident memory (MB)."""
    lines = ["| model, threads, system | " + " | ".join(f"@{p}" for p in LATENCY_POSITIONS) + " | peak MB | final MB |",
             "|---|" + "---:|" * (len(LATENCY_POSITIONS) + 2)]  # fmt: skip
    for r in sorted(results["runs"], key=lambda r: (r["model"], r["threads"], SYSTEMS.index(r["system"]))):
        if r.get("round", 0) != 0 or not r["latency_ms"]:
            continue
        lat = [r["latency_ms"].get(str(p)) for p in LATENCY_POSITIONS]
        cells = [f"{v['p50']:.0f}/{v['p95']:.0f}" if v else "–" for v in lat]
        lines.append(f"| {r['model']}, {r['threads']}, {r['system']} | " + " | ".join(cells)
                     + f" | {r['peak_rss_mb']:.0f} | {r['final_rss_mb']:.0f} |")
    return "\n".join(lines)
