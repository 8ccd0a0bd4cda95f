"""`table` and `plot`: the saved results again."""

from __future__ import annotations

import json

from common import RESULTS_DIR
from paired import paired_table
from probes import int8_kernels_table, matmul_floor_table, profile_table, static_shapes_table
from speed import latency_memory_table, markdown_table, median_rtf
from systems import SYSTEMS


def show_tables(name: str) -> None:
    results = json.loads((RESULTS_DIR / f"{name}.json").read_text())
    if results.get("kind") == "profile":
        print(profile_table(results))
    elif results.get("kind") == "matmul_floor":
        print(matmul_floor_table(results))
    elif results.get("kind") == "static_shapes":
        print(static_shapes_table(results))
    elif results.get("kind") == "int8_kernels":
        print(int8_kernels_table(results))
    elif "pairs" in results:
        print(paired_table(results))
    else:
        print(markdown_table(results))
        print()
        print(latency_memory_table(results))



def plot() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = json.loads((RESULTS_DIR / "streaming.json").read_text())
    rows = results["runs"]
    keys = sorted({(r["model"], r["threads"]) for r in rows})
    systems = [s for s in SYSTEMS if any(r["system"] == s for r in rows)]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / len(systems)
    for i, system in enumerate(systems):
        values = [median_rtf(rows, *k, system) or 0 for k in keys]
        ax.bar([x + i * width for x in range(len(keys))], values, width, label=system)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(keys))])
    ax.set_xticklabels([f"{m}\n{t} thread{'s' if t > 1 else ''}" for m, t in keys], fontsize=8)
    ax.set_ylabel("real-time factor (lower is faster)")
    ax.set_title(f"Streaming CTC, {results['stamp']['cores']}-core CPU, median of {results['repeats'] * results.get('rounds', 1)}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = RESULTS_DIR / "streaming.png"
    fig.savefig(path, dpi=120)
    print(path)
