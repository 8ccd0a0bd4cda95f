"""Sums up an ONNX Runtime profile (written by Recognizer(..., profile=PREFIX)): per encoder run,
the wall time against the nodes' own time, the nodes per execution provider, the host-device copies, and the
op types that take the most time. A GPU session whose runs last far longer than its nodes waits on the host
(launches, copies, shape nodes on the CPU).

    python benchmarks/ort_profile_summary.py PROFILE.json [--top 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import Counter, defaultdict
from pathlib import Path


def summarize(events: list[dict], top: int = 15) -> dict:
    """The profile's figures; the first run (warm-up: allocations, kernel selection) is left out."""
    runs = sorted((e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"),
                  key=lambda e: e["ts"])  # fmt: skip
    if len(runs) < 2:
        raise ValueError("the profile holds fewer than two encoder runs")
    runs = runs[1:]
    start, end = runs[0]["ts"], runs[-1]["ts"] + runs[-1]["dur"]
    nodes = [e for e in events if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")
             and start <= e["ts"] <= end]  # fmt: skip
    by_provider: Counter = Counter()
    by_op: defaultdict = defaultdict(float)
    copies = 0
    for e in nodes:
        args = e.get("args", {})
        by_provider[args.get("provider", "?")] += 1
        op = args.get("op_name", "?")
        by_op[op] += e["dur"]
        copies += op.startswith("Memcpy")
    n = len(runs)
    total_node_us = sum(e["dur"] for e in nodes)
    return {
        "runs": n,
        "run_ms_median": statistics.median(r["dur"] for r in runs) / 1000,
        "run_ms_mean": statistics.mean(r["dur"] for r in runs) / 1000,
        "node_ms_per_run": total_node_us / n / 1000,
        "nodes_per_run": len(nodes) / n,
        "nodes_per_run_by_provider": {p: c / n for p, c in by_provider.most_common()},
        "host_device_copies_per_run": copies / n,
        "top_ops_ms_per_run": {op: us / n / 1000 for op, us in sorted(by_op.items(), key=lambda kv: -kv[1])[:top]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    print(json.dumps(summarize(json.loads(args.profile.read_text()), args.top), indent=1))


if __name__ == "__main__":
    main()
