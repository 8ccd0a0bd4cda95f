"""decode_streams of this install against another build of nemo_fast, side by side: many streams fed in lock
step (0.16 s of audio per stream and tick, as a server feeds them) and the time spent in decode_streams over
the whole run, in alternating processes; medians of the rounds and their ratio.

    python benchmarks/batch_decoding.py MODEL --baseline OTHER_SITE [--streams 64] [--rounds 5]

MODEL: a model folder, or `large-heads:WORK`, a replica built in WORK with a 2-layer, 64-wide encoder and the
large model's prediction network and joint (blank logit biased, as the other replicas): the decoding side of a
large model's batch at a small encoder's cost. OTHER_SITE: a folder holding another build (`pip install
--no-deps --target OTHER_SITE .` at another commit). Results: benchmarks/results/batch_decoding_<model>.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import TESTS_DIR, stamp, tiled_speech, write_json  # noqa: E402

TICK_SAMPLES = 2560  # 0.16 s at 16 kHz


def large_heads_replica(workdir: Path) -> Path:
    sys.path.insert(0, str(TESTS_DIR / "models"))
    sys.path.insert(0, str(Path(__file__).resolve().parent / "streaming"))
    from nemo_model_factory import build_model
    from nemo_speech_cpp import BLANK_BIAS, _replica_recipe

    from nemo_fast.export.exporter import export_model

    out = workdir / "large_heads_70_1"
    if not (out / "model.onnx").exists():
        recipe = dataclasses.replace(_replica_recipe("large_rnnt", BLANK_BIAS["large_rnnt"]), name="large_heads",
                                     d_model=64, n_layers=2, n_heads=4, subsampling_channels=64)  # fmt: skip
        workdir.mkdir(parents=True, exist_ok=True)
        build_model(recipe, workdir).save_to(str(workdir / "large_heads.nemo"))
        export_model(workdir / "large_heads.nemo", out, att_context_size=(70, 1), parity_check=False)
    return out


def decode_seconds(model: str, streams: int, seconds: float, decoding: str, threads: int) -> float:
    """Seconds spent in decode_streams while `streams` streams are fed `seconds` of speech in lock step."""
    import nemo_fast

    recognizer = nemo_fast.Recognizer(model, num_threads=threads, max_batch_size=streams, decoding=decoding)
    audio = tiled_speech(seconds + 20)
    offsets = [(i * 7919 * 16) % (16000 * 20) for i in range(streams)]
    active = [recognizer.create_stream() for _ in range(streams)]
    spent = 0.0
    for start in range(0, int(seconds * 16000), TICK_SAMPLES):
        for stream, offset in zip(active, offsets):
            stream.accept_waveform_only(audio[offset + start : offset + start + TICK_SAMPLES], 16000)
        begin = time.perf_counter()
        recognizer.decode_streams(active)
        spent += time.perf_counter() - begin
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--baseline", type=Path, help="a folder holding the other build (pip install --target)")
    parser.add_argument("--streams", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=12.0, help="audio per stream")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--decoding", default="greedy")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", type=Path, help="result file (default: benchmarks/results/batch_decoding_<model>.json)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child process: one measurement
    args = parser.parse_args()
    if args.one:
        print(json.dumps(decode_seconds(args.model, args.streams, args.seconds, args.decoding, args.threads)))
        return
    model = args.model
    if model.startswith("large-heads:"):
        model = str(large_heads_replica(Path(model.split(":", 1)[1])))
    builds = {"this": None, "baseline": args.baseline} if args.baseline else {"this": None}
    child = [sys.executable, __file__, model, "--one", "--streams", str(args.streams), "--seconds", str(args.seconds),
             "--decoding", args.decoding, "--threads", str(args.threads)]  # fmt: skip
    seconds: dict[str, list[float]] = {name: [] for name in builds}
    for round_ in range(args.rounds):
        for name, site in builds.items():
            env = dict(os.environ)
            if site:
                env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
            run = subprocess.run(child, env=env, capture_output=True, text=True, check=True)
            seconds[name].append(json.loads(run.stdout.strip().splitlines()[-1]))
            print(f"round {round_ + 1} {name}: {seconds[name][-1]:.3f} s in decode_streams", flush=True)
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    result = {"stamp": stamp(), "model": args.model, "streams": args.streams, "audio_seconds": args.seconds,
              "decoding": args.decoding, "threads": args.threads, "seconds": seconds, "median_seconds": medians}  # fmt: skip
    if args.baseline:
        result["baseline"] = str(args.baseline)
        result["this_over_baseline"] = medians["this"] / medians["baseline"]
        print(f"this / baseline: {result['this_over_baseline']:.3f}")
    if args.output:
        args.output.write_text(json.dumps(result, indent=2) + "\n")
    else:
        write_json(f"batch_decoding_{Path(model).name}", result)


if __name__ == "__main__":
    main()
