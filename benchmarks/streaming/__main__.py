"""Streaming speed of nemo_fast against what users would run instead, on the same model and audio.

    python benchmarks/streaming prepare WORKDIR [--shipped-nemo MODEL.nemo]   # needs NeMo
    python benchmarks/streaming speed WORKDIR [--threads 1 2] [--repeats 3] [--rounds 1] [--seconds 60]
        [--systems ...] [--models ...] [--no-latency] [--output NAME]
    python benchmarks/streaming paired WORKDIR [--threads 1 2] [--pairs 7] [--systems ...] [--models ...]
    python benchmarks/streaming capacity WORKDIR [--model large_70_1] [--threads 2]
    python benchmarks/streaming profile WORKDIR [--threads 1 2] [--seconds 20] [--models ...]
    python benchmarks/streaming matmul-floor WORKDIR [--threads 1 2] [--rounds 7] [--models ...]
    python benchmarks/streaming static-shapes WORKDIR [--threads 1 2] [--rounds 7] [--models ...]  # onnxsim
    python benchmarks/streaming int8-kernels WORKDIR [--threads 1 2] [--rounds 7] [--models ...]  # onnx_ir
    python benchmarks/streaming table [NAME]     # the tables of results/NAME.json again
    python benchmarks/streaming plot

`prepare` builds NVIDIA's large streaming FastConformer architecture with NeMo (d_model 512, 17 layers,
8 heads, 256 subsampling channels, 1024-piece BPE CTC head, lookaheads [70,13] and [70,1]; random weights,
which cost the same as trained ones), exports it with nemo_fast's exporter per lookahead (fp32 and
`--quantize int8`), and writes a copy in NeMo's stock cache-aware export with the metadata and tokens file
sherpa-onnx reads. With `--shipped-nemo` it does the same for the shipped model.

`speed` runs, for every model, lookahead and thread count, each system in a fresh process (so that its
peak memory is its own), one after the other:

* nemo_fast: `Recognizer` + `Stream`, audio in, text out; the audio arrives in pieces of one chunk shift,
  as from a live source;
* bare ONNX Runtime loop (the floor): `onnxruntime.InferenceSession` on the same `model.onnx`, features
  computed beforehand, caches carried, nothing else;
* NeMo: `CacheAwareStreamingAudioBuffer` + `conformer_stream_step`, as NeMo's own streaming script runs it;
* sherpa-onnx: `OnlineRecognizer.from_nemo_ctc` on the stock export, pieces of one chunk shift.

Real-time factor = compute seconds / audio seconds over `--seconds` of speech, median of `--repeats` after
a warm-up; with `--rounds R` the whole sequence runs R times, the median pools all R x repeats streams
and the table also gives the nemo_fast / bare ratio within each round. Latency: the time from handing over
one chunk's audio to having its result, at stream positions 1, 100 and 1000 (p50/p95 over the 20 chunks from each position, one long stream); for NeMo and the bare
loop the time of one encoder step (their features are computed up front). Peak memory: the process's
maximum resident set size. Results: benchmarks/results/streaming.json (`--output NAME`: NAME.json).

`paired` loads several systems (default nemo_fast, the bare loop and nemo_fast int8) into one process per
model and thread count and runs `--pairs` rounds of one 60 s stream per system, the order rotating each
round; it reports each system's median real-time factor and, per round, nemo_fast's time over each other
system's: the ratios the targets are about, measured seconds apart on the same machine state (the `speed`
mode's separate processes run minutes apart). Peak memory is not measured there. Results:
benchmarks/results/paired.json (`--output NAME`: NAME.json).

`capacity` feeds N simulated real-time streams in lock step, one chunk each per tick, and finds the most
streams whose p95 tick time stays under the chunk duration: batched (`Recognizer.decode_streams`, one
encoder call per tick) against one stream at a time. Results: benchmarks/results/capacity.json.

`matmul-floor` times the bare loop's step against a graph of only that step's matrix products (same shapes,
weights pre-packed alike), neither under the profiler, alternating `--rounds` times in one process, and gives
the profiled ratio beside it. Results: benchmarks/results/matmul_floor.json.

`static-shapes` asks whether a graph specialized to one chunk size would run faster: it fixes every input
shape of the exported graph (fp32 and int8) to the later chunks' and folds the shape arithmetic that
becomes constant (onnxsim, `pip install onnxsim`; not a dependency of nemo_fast), then times the bare
loop's later chunks on both graphs in one process, alternating `--rounds` times. Results:
benchmarks/results/static_shapes.json.

`int8-kernels` times ONNX Runtime's two int8 forms of the encoder's weight products on the bare loop's later
chunks, in one process, alternating `--rounds` times: the exporter's dynamic quantization (DynamicQuantizeMatMul,
as `--quantize int8` ships it) and MatMulNBits with 8-bit blocks (weight-only quantization with int8
activations, the kernel ONNX Runtime optimizes for products of few rows; its quantizer needs
`pip install onnx_ir`), each against the fp32 graph. Results: benchmarks/results/int8_kernels.json.

`profile` runs the bare loop on the fp32 and the int8 graph with ONNX Runtime's profiler and splits one
encoder step into time per operator type and the time outside any operator (the session's own overhead
between nodes). It gives the most any MatMul-only speed-up (int8 included) can bring: the step's time over
its time without MatMuls. Results: benchmarks/results/profile.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # benchmarks/common.py

from capacity import capacity  # noqa: E402
from common import RESULTS_DIR, limit_threads  # noqa: E402
from nemo_speech_cpp import agreement as nemo_speech_cpp_agreement  # noqa: E402
from nemo_speech_cpp import prepare as prepare_nemo_speech_cpp  # noqa: E402
from nemo_speech_cpp import speed_table as nemo_speech_cpp_table  # noqa: E402
from paired import measure_paired_child, paired  # noqa: E402
from prepare import prepare  # noqa: E402
from probes import int8_kernels, matmul_floor, profile, static_shapes  # noqa: E402
from report import plot, show_tables  # noqa: E402
from speed import speed  # noqa: E402
from systems import SYSTEMS, measure_child  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("workdir", type=Path)
    p.add_argument("--shipped-nemo", type=Path)
    p = sub.add_parser("prepare-nemo-speech-cpp")
    p.add_argument("workdir", type=Path)
    p.add_argument("--source", type=Path, required=True, help="a NeMo-Speech.cpp checkout (its convert_model.py)")
    p.add_argument("--nemotron", action="store_true", help="the 600 M Nemotron-class replica instead")
    p.add_argument("--lookaheads", nargs="+", default=["70,13", "70,6", "70,1", "70,0"])
    p = sub.add_parser("nemo-speech-cpp-table", help="the table of results/NAME.json")
    p.add_argument("name", nargs="?", default="nemo_speech_cpp_paired")
    p = sub.add_parser("nemo-speech-cpp-agreement")
    p.add_argument("workdir", type=Path)
    p.add_argument("--seconds", type=float, default=20.0)
    p = sub.add_parser("speed")
    p.add_argument("workdir", type=Path)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--rounds", type=int, default=1,
                   help="run every system this many times, interleaved, so that a slow spell of a shared machine "
                        "hits all systems alike; medians pool every round")
    p.add_argument("--output", default="streaming", help="results/NAME.json")
    p.add_argument("--no-latency", dest="latency", action="store_false",
                   help="skip the per-chunk latencies (and their 1,000-chunk stream): real-time factors only")
    p.add_argument("--seconds", type=float, default=60.0)
    # sherpa-onnx's int8 encoder exists for the transducer replicas only: asked for by name.
    p.add_argument("--systems", nargs="+", default=[s for s in SYSTEMS if s != "sherpa_onnx_int8"], choices=SYSTEMS)
    p.add_argument("--models", nargs="+", default=["large_70_13", "large_70_1", "shipped"])
    p = sub.add_parser("measure")  # internal: one measurement in a fresh process
    p.add_argument("system", choices=SYSTEMS)
    p.add_argument("model_dir", type=Path)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--repeats", type=int, required=True)
    p.add_argument("--no-latency", dest="latency", action="store_false")
    p = sub.add_parser("paired")
    p.add_argument("workdir", type=Path)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--pairs", type=int, default=7, help="rounds of one stream per system")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--systems", nargs="+", default=["nemo_fast", "bare_onnxruntime", "nemo_fast_int8"],
                   choices=SYSTEMS)
    p.add_argument("--models", nargs="+", default=["large_70_13", "large_70_1", "shipped"])
    p.add_argument("--output", default="paired", help="results/NAME.json")
    p = sub.add_parser("measure-paired")  # internal: one paired measurement in a fresh process
    p.add_argument("model_dir", type=Path)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--pairs", type=int, required=True)
    p.add_argument("--systems", nargs="+", required=True, choices=SYSTEMS)
    p = sub.add_parser("capacity")
    p.add_argument("workdir", type=Path)
    p.add_argument("--model", default="large_70_1")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup-ticks", type=int, default=40)
    p.add_argument("--ticks", type=int, default=60)
    for mode in ("profile", "matmul-floor", "static-shapes", "int8-kernels"):  # the bare-loop probes of the encoder step
        p = sub.add_parser(mode)
        p.add_argument("workdir", type=Path)
        p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
        p.add_argument("--seconds", type=float, default=20.0)
        if mode != "profile":
            p.add_argument("--rounds", type=int, default=7)
        p.add_argument("--models", nargs="+", default=["large_70_13", "large_70_1", "shipped"])
    p = sub.add_parser("table", help="print the tables of a saved result")
    p.add_argument("name", nargs="?", default="streaming", help="results/NAME.json")
    sub.add_parser("plot")
    args = parser.parse_args()

    if args.command == "measure":
        limit_threads(args.threads)
        measure_child(args.system, args.model_dir, args.threads, args.seconds, args.repeats, args.latency)
    elif args.command == "measure-paired":
        limit_threads(args.threads)
        measure_paired_child(args.systems, args.model_dir, args.threads, args.seconds, args.pairs)
    elif args.command == "paired":
        paired(args.workdir, args.threads, args.systems, [m for m in args.models if (args.workdir / m).exists()],
               args.seconds, args.pairs, args.output)
    elif args.command == "prepare":
        prepare(args.workdir, args.shipped_nemo)
    elif args.command == "nemo-speech-cpp-table":
        print(nemo_speech_cpp_table(json.loads((RESULTS_DIR / f"{args.name}.json").read_text())))
    elif args.command == "nemo-speech-cpp-agreement":
        nemo_speech_cpp_agreement(args.workdir, args.seconds)
    elif args.command == "prepare-nemo-speech-cpp":
        prepare_nemo_speech_cpp(args.workdir, args.source, args.nemotron,
                                [tuple(int(v) for v in a.split(",")) for a in args.lookaheads])
    elif args.command == "speed":
        speed(args.workdir, args.threads, args.repeats, args.rounds, args.seconds, args.systems,
              [m for m in args.models if (args.workdir / m).exists()], args.output, args.latency)
    elif args.command == "capacity":
        limit_threads(args.threads)
        capacity(args.workdir, args.model, args.threads, args.warmup_ticks, args.ticks)
    elif args.command == "profile":
        profile(args.workdir, args.threads, [m for m in args.models if (args.workdir / m).exists()], args.seconds)
    elif args.command == "matmul-floor":
        matmul_floor(args.workdir, args.threads, [m for m in args.models if (args.workdir / m).exists()],
                     args.seconds, args.rounds)
    elif args.command == "static-shapes":
        static_shapes(args.workdir, args.threads, [m for m in args.models if (args.workdir / m).exists()],
                      args.seconds, args.rounds)
    elif args.command == "int8-kernels":
        int8_kernels(args.workdir, args.threads, [m for m in args.models if (args.workdir / m).exists()],
                     args.seconds, args.rounds)
    elif args.command == "table":
        show_tables(args.name)
    else:
        plot()


if __name__ == "__main__":
    main()
