"""The transducer joint alone at a server's batch sizes, on 1 and more CPU threads: the host side of a GPU tick,
where the encoder runs on the device and the joint on the CPU with the recognizer's num_threads. Each thread
count runs the joint as nemo_fast configures it beside a GPU encoder (intra-op threads, no spinning between
calls, one inter-op thread) on the same random rows; medians of the calls, and whether every output is
bitwise the first thread count's output.

    python benchmarks/joint_threads.py MODEL [--rows 8 64 256 896] [--threads 1 2] [--calls 30]

MODEL: a model folder with a transducer (joiner.onnx), or `large-heads:WORK` (the large model's heads, built
in WORK as by benchmarks/batch_decoding.py). Results: benchmarks/results/joint_threads.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch_decoding import large_heads_replica  # noqa: E402
from common import stamp, write_json  # noqa: E402


def joint_session(path: Path, threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if threads != 1:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--rows", type=int, nargs="+", default=[8, 64, 256, 896])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--output", type=Path, help="result file (default: benchmarks/results/joint_threads.json)")
    args = parser.parse_args()
    import numpy as np

    model = large_heads_replica(Path(args.model.split(":", 1)[1])) if args.model.startswith("large-heads:") \
        else Path(args.model)  # fmt: skip
    sessions = {threads: joint_session(model / "joiner.onnx", threads) for threads in args.threads}
    inputs = sessions[args.threads[0]].get_inputs()
    rng = np.random.default_rng(0)
    results = {"model": str(args.model), "calls": args.calls, "machine": stamp(), "median_ms": {}, "bitwise_equal": {}}
    for rows in args.rows:
        feeds = {i.name: rng.standard_normal((rows, i.shape[1])).astype(np.float32) for i in inputs}
        outputs = {threads: session.run(None, feeds)[0] for threads, session in sessions.items()}  # and warm-up
        times = {threads: [] for threads in sessions}
        for _ in range(args.calls):  # the thread counts alternate, so a noisy moment hits them all
            for threads, session in sessions.items():
                start = time.perf_counter()
                session.run(None, feeds)
                times[threads].append(time.perf_counter() - start)
        for threads in sessions:
            key = f"{rows} rows, {threads} threads"
            results["median_ms"][key] = round(1000 * statistics.median(times[threads]), 3)
            results["bitwise_equal"][key] = bool(np.array_equal(outputs[threads], outputs[args.threads[0]]))
            print(f"{key}: {results['median_ms'][key]} ms, bitwise the first: {results['bitwise_equal'][key]}",
                  flush=True)
    if args.output:
        import json

        args.output.write_text(json.dumps(results, indent=2) + "\n")
    else:
        write_json("joint_threads", results)


if __name__ == "__main__":
    main()
