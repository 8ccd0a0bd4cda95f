"""`paired`: several systems in one process, rounds alternating, ratios per round."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import PACKAGE_DIR, stamp, tiled_speech, write_json
from systems import BUILDERS, _chunk_samples, write_contract


def measure_paired_child(systems, model_dir: Path, threads: int, seconds: float, pairs: int) -> None:
    """Every system loaded in this one process; `pairs` rounds of one timed stream per system, the order
    rotating each round. Prints one JSON line."""
    first, later = _chunk_samples(model_dir / "nemo_fast")
    audio = tiled_speech(seconds)
    loaded = {}
    for name in systems:
        prepare, one_stream = BUILDERS[name](model_dir, threads)
        loaded[name] = (prepare(audio), one_stream)
        one_stream(loaded[name][0])  # warm-up
    times = {name: [] for name in systems}
    for round_index in range(pairs):
        order = systems[round_index % len(systems):] + systems[: round_index % len(systems)]
        for name in order:
            prepared, one_stream = loaded[name]
            start = time.perf_counter()
            one_stream(prepared)
            times[name].append(time.perf_counter() - start)
    print("RESULT " + json.dumps({"chunk_seconds": later / 16000, "times_s": times}), flush=True)



def paired(workdir: Path, threads_list, systems, models, seconds: float, pairs: int, output: str) -> None:
    """Side-by-side ratios in one process per model and thread count: the machine's slow and fast spells
    fall on every system within a round, so the per-round ratio is steadier than ratios of separate runs."""
    results = {"stamp": stamp(), "seconds": seconds, "pairs": pairs, "systems": systems, "runs": []}
    for model in models:
        write_contract(workdir / model / "nemo_fast")
        for threads in threads_list:
            cmd = [sys.executable, str(PACKAGE_DIR), "measure-paired", str(workdir / model), "--threads", str(threads),
                   "--seconds", str(seconds), "--pairs", str(pairs), "--systems", *systems]  # fmt: skip
            proc = subprocess.run(cmd, capture_output=True, text=True)
            line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
            if line is None:
                print(f"{model} {threads} thread(s) FAILED:\n{proc.stderr[-3000:]}", flush=True)
                continue
            times = json.loads(line[7:])["times_s"]
            row = {"model": model, "threads": threads,
                   "rtf": {name: statistics.median(t) / seconds for name, t in times.items()},
                   "times_s": times}  # fmt: skip
            results["runs"].append(row)
            write_json(output, results)
            print(f"{model:14s} {threads}t " + "  ".join(f"{k} {v:.4f}" for k, v in row["rtf"].items())
                  + "  | " + "  ".join(f"{a}/{b} {r}" for a, b, r in paired_ratios(row, systems)), flush=True)
    print(paired_table(results))



def paired_ratios(row: dict, systems) -> list[tuple[str, str, str]]:
    """nemo_fast (or, without it, the first system) against each other system, and nemo_fast_int8 against the
    other int8 systems: the median of the per-round ratios and their range."""
    first = "nemo_fast" if "nemo_fast" in systems else systems[0]
    out = []
    for other in systems:
        int8 = other.endswith("_int8") and other != "nemo_fast_int8" and "nemo_fast_int8" in systems
        ours = "nemo_fast_int8" if int8 else first
        if other == ours:
            continue
        ratios = sorted(a / b for a, b in zip(row["times_s"][ours], row["times_s"][other]))
        out.append((ours, other, f"{statistics.median(ratios):.3f} ({ratios[0]:.3f}-{ratios[-1]:.3f})"))
    return out



def paired_table(results: dict) -> str:
    systems = results["systems"]
    ratio_names = [f"{a} / {b}" for a, b, _ in paired_ratios(results["runs"][0], systems)] if results["runs"] else []
    lines = ["| model, threads | " + " | ".join(systems) + " | " + " | ".join(ratio_names) + " |",
             "|---|" + "---:|" * (len(systems) + len(ratio_names))]  # fmt: skip
    for row in results["runs"]:
        lines.append(f"| {row['model']}, {row['threads']} | " + " | ".join(f"{row['rtf'][s]:.4f}" for s in systems)
                     + " | " + " | ".join(r for _, _, r in paired_ratios(row, systems)) + " |")  # fmt: skip
    return "\n".join(lines)
