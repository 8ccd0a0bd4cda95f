"""Concurrent real-time streams on one GPU: nemo_fast (ONNX Runtime's CUDA provider, caches kept on the device)
against NeMo's own batched cache-aware streaming (`conformer_stream_step`) on the same GPU and the same replica.

    python benchmarks/gpu_capacity.py WORK [--models large nemotron] [--threads 8] [--deadline-s 420]

For each model (random weights; the joint's blank logit is biased so that it never emits, so every system does
one joint per frame and stream and the encoder's cost is compared) it builds the NeMo checkpoint, exports it
with nemo_fast at [70,1] (160 ms chunks), converts a float16 copy (ONNX Runtime's float16 converter, float
inputs and outputs kept), and for each system finds the most streams whose p95 tick stays under the chunk:
every tick each stream receives one chunk of audio and all are decoded together, so a chunk's latency is the
tick's duration. nemo_fast's tick includes the features of the new audio; NeMo's does not (its streaming
buffer computes every stream's features before the first chunk), which favours NeMo. Systems: nemo_fast fp32
(TF32 off, as PyTorch's matrix products by default), nemo_fast fp16, NeMo fp32, NeMo under fp16 autocast.
Each build and each system runs in a process of its own (NeMo imports the Python module onnxruntime, a second
ONNX Runtime next to nemo_fast's). Results: benchmarks/results/gpu_capacity.json; what failed or would start
after --deadline-s is listed under "skipped" with the reason.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "streaming"))
from capacity import lockstep_p95_tick, most_streams  # noqa: E402
from common import stamp, tiled_speech, write_json  # noqa: E402

LOOKAHEAD = (70, 1)
START = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - START:6.1f}s] {message}", flush=True)


def prepare(workdir: Path, name: str) -> Path:
    """The replica's checkpoint and its nemo_fast fp32 export at LOOKAHEAD (the fp16 copy: to_float16)."""
    from nemo_model_factory import build_model
    from nemo_speech_cpp import BLANK_BIAS, _replica_recipe

    from nemo_fast.export.exporter import export_model

    recipe = _replica_recipe("nemotron" if name == "nemotron" else "large_rnnt", BLANK_BIAS["large_rnnt"])
    if name == "tiny":  # the large replica's shape at toy size: a smoke run of this script (tests)
        recipe = dataclasses.replace(recipe, name="tiny_rnnt", d_model=64, n_layers=2, n_heads=4,
                                     subsampling_channels=64, pred_hidden=64)  # fmt: skip
    nemo_path = workdir / f"{name}.nemo"
    if not nemo_path.exists():
        model = build_model(recipe, workdir)
        log(f"{name}: {sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters")
        model.save_to(str(nemo_path))
    out = export_dir(workdir, name)
    if not (out / "fp32" / "model.onnx").exists():
        export_model(nemo_path, out / "fp32", att_context_size=LOOKAHEAD, parity_check=False)
        log(f"{name}: exported")
    (out / "source.json").write_text(json.dumps({"nemo": str(nemo_path.resolve()), "lookahead": LOOKAHEAD}))
    return out


def to_float16(src: Path, dst: Path) -> None:
    """A float16 copy of the export, written when first needed (converting the largest model takes minutes) by
    a separate process: the measuring process then loads one ONNX Runtime, nemo_fast's (the Python module
    `onnxruntime` may be another build), and the converter's copies of the model are freed before measuring."""
    if (dst / "model.onnx").exists():
        return
    here = Path(__file__).resolve().parent
    code = f"import sys; sys.path.insert(0, {str(here)!r}); import gpu_capacity; gpu_capacity.convert_float16(sys.argv[1], sys.argv[2])"
    subprocess.run([sys.executable, "-c", code, str(src), str(dst)], check=True)
    log(f"{src.parent.name}: float16 copy written")


def convert_float16(src: str, dst: str) -> None:
    import shutil

    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    source, target = Path(src), Path(dst)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("model.onnx", "model.onnx.data"))
    # Shape inference by path: the in-memory kind cannot serialize a model over 2 GB (the Nemotron-class one).
    inferred = source / "model.inferred.onnx"
    try:
        onnx.shape_inference.infer_shapes_path(str(source / "model.onnx"), str(inferred))
        model = onnx.load(str(inferred))  # its weights still come from the source folder's data file
    finally:
        inferred.unlink(missing_ok=True)
    half = convert_float_to_float16(model, keep_io_types=True, disable_shape_infer=True)  # metadata kept
    onnx.save(half, str(target / "model.onnx"), save_as_external_data=half.ByteSize() > 2_000_000_000)


def nemo_fast_recognizer(model_dir: Path, fp32: bool, device: str, threads: int, profile: Path | None = None):
    """threads: on a GPU, the CPU threads of the transducer's joint (the encoder's, on the CPU)."""
    import nemo_fast

    settings = {"max_batch_size": 4096, "decoding": "greedy", "num_threads": threads, "profile": profile}
    if device == "cuda":
        options = {"device_id": "0", "use_tf32": "0"} if fp32 else {"device_id": "0"}
        recognizer = nemo_fast.Recognizer(model_dir, providers=["cuda"], provider_options={"cuda": options},
                                          **settings)  # fmt: skip
        assert recognizer.providers[0] == "CUDAExecutionProvider", recognizer.providers
        return recognizer
    return nemo_fast.Recognizer(model_dir, **settings)


def nemo_fast_ticks(model_dir: Path, audio, ticks: int, warmup: int, fp32: bool, device: str, threads: int):
    recognizer = nemo_fast_recognizer(model_dir, fp32, device, threads)
    spec = recognizer.spec
    first, later = (n * spec.features.hop_length_samples for n in spec.geometry.shift_size)

    def p95_tick(n: int) -> float:
        return lockstep_p95_tick(recognizer, audio, first, later, n, warmup, ticks)

    return p95_tick, later / 16000


def nemo_fast_profile(model_dir: Path, audio, streams: int, ticks: int, warmup: int, fp32: bool, device: str,
                      threads: int, prefix: Path) -> dict:  # fmt: skip
    """ONNX Runtime's profile of the encoder over lock-step ticks of `streams` streams, summed up: run time
    against the nodes' own time, nodes per provider, host-device copies, the costliest op types."""
    from ort_profile_summary import summarize

    recognizer = nemo_fast_recognizer(model_dir, fp32, device, threads, profile=prefix)
    first, later = (n * recognizer.spec.features.hop_length_samples for n in recognizer.spec.geometry.shift_size)
    p95 = lockstep_p95_tick(recognizer, audio, first, later, streams, warmup, ticks)
    summary = summarize(json.loads(recognizer.end_profile().read_text()))
    return {"streams": streams, "p95_tick_ms_profiled": 1000 * p95, **summary}


def nemo_ticks(model_dir: Path, audio, ticks: int, warmup: int, fp16: bool, device: str):
    import numpy as np
    import torch
    from nemo.collections.asr.parts.utils.streaming_utils import CacheAwareStreamingAudioBuffer

    from nemo_fast.export.nemo_model import load_nemo_model

    source = json.loads((model_dir / "source.json").read_text())
    model = load_nemo_model(source["nemo"]).to(device).eval()
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    half = torch.float16 if device == "cuda" else torch.bfloat16  # oneDNN has no float16 convolution
    model.encoder.set_default_att_context_size(list(source["lookahead"]))
    model.encoder.setup_streaming_params()
    cfg = model.encoder.streaming_cfg
    chunk_s = cfg.shift_size[1] * 0.01 if isinstance(cfg.shift_size, list) else cfg.shift_size * 0.01

    def p95_tick(n: int) -> float:
        buffer = CacheAwareStreamingAudioBuffer(model=model, online_normalization=False)
        seconds = (warmup + ticks + 2) * chunk_s + 1
        for i in range(n):
            off = (i * 7919 * 16) % (16000 * 20)
            buffer.append_audio(audio[off : off + int(seconds * 16000)], stream_id=-1)
        channel, conv, channel_len = model.encoder.get_initial_cache_state(batch_size=n)
        previous_pred, previous_hypotheses, times = None, None, []
        with torch.inference_mode(), torch.autocast(device, dtype=half, enabled=fp16):
            for step, (chunk, lengths) in enumerate(iter(buffer)):
                if step >= warmup + ticks:
                    break
                sync()
                start = time.perf_counter()
                result = model.conformer_stream_step(
                    processed_signal=chunk, processed_signal_length=lengths, cache_last_channel=channel,
                    cache_last_time=conv, cache_last_channel_len=channel_len, keep_all_outputs=False,
                    previous_hypotheses=previous_hypotheses, previous_pred_out=previous_pred,
                    drop_extra_pre_encoded=0 if step == 0 else cfg.drop_extra_pre_encoded, return_transcription=True,
                )  # fmt: skip
                previous_pred, _, channel, conv, channel_len, previous_hypotheses = result[:6]
                sync()
                if step >= warmup:
                    times.append(time.perf_counter() - start)
        return float(np.percentile(times, 95))

    return p95_tick, chunk_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--models", nargs="+", default=["large", "nemotron"], choices=["large", "nemotron", "tiny"])
    parser.add_argument("--systems", nargs="+", default=["nemo_fast_fp32", "nemo_fast_fp16", "nemo_fp32", "nemo_fp16"])
    parser.add_argument("--ticks", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--start-streams", type=int, default=8, help="the search doubles from here")
    parser.add_argument("--max-streams", type=int, default=2048)
    parser.add_argument("--bisections", type=int, default=3, help="steps between the last good and first bad count")
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"], help="cpu: a smoke run of the script")
    parser.add_argument("--output", type=Path, help="result file (default: benchmarks/results/gpu_capacity.json)")
    parser.add_argument("--profile-streams", type=int, default=0,
                        help="nemo_fast systems: also profile the encoder's ticks at this many streams")
    parser.add_argument("--threads", type=int, default=1,
                        help="nemo_fast systems: num_threads (on a GPU: the transducer joint's CPU threads)")
    parser.add_argument("--deadline-s", type=float, default=1e9, help="skip what would start after this")
    parser.add_argument("--worker", nargs="+", metavar="STEP", help=argparse.SUPPRESS)  # prepare NAME | measure NAME SYSTEM
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "models"))
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.worker:
        worker(args)
        return
    results = {"stamp": stamp(), "lookahead": LOOKAHEAD, "ticks": args.ticks, "warmup_ticks": args.warmup,
               "gpu": gpu_name(args.device), "rows": [], "skipped": []}  # fmt: skip
    try:
        results["torch"] = importlib.metadata.version("torch")
        results["nemo"] = importlib.metadata.version("nemo-toolkit")
    except importlib.metadata.PackageNotFoundError:
        pass

    def save() -> None:
        if args.output:
            args.output.write_text(json.dumps(results, indent=2) + "\n")
        else:
            write_json("gpu_capacity", results)

    # Each step in its own process: NeMo imports the Python module onnxruntime, another copy of ONNX Runtime
    # than nemo_fast's, and with both in one process the CUDA provider crashed (nemo_fast now refuses that).
    # A crash of one system also leaves the others measured.
    common = [sys.executable, __file__, str(args.workdir), "--ticks", str(args.ticks), "--warmup", str(args.warmup),
              "--start-streams", str(args.start_streams), "--max-streams", str(args.max_streams),
              "--bisections", str(args.bisections), "--device", args.device,
              "--profile-streams", str(args.profile_streams), "--threads", str(args.threads)]  # fmt: skip
    for name in args.models:
        left = args.deadline_s - (time.monotonic() - START)
        if left <= 0:
            results["skipped"].append(f"{name}: past the deadline before it was built")
            continue
        if not (export_dir(args.workdir, name) / "fp32" / "model.onnx").exists():
            ok, tail, _ = run_step([*common, "--worker", "prepare", name], left)
            if not ok:
                results["skipped"].append(f"{name}: preparing failed: {tail}")
                save()
                continue
        for system in args.systems:
            left = args.deadline_s - (time.monotonic() - START)
            if left <= 0:
                results["skipped"].append(f"{name} {system}: past the deadline")
                continue
            ok, tail, row = run_step([*common, "--worker", "measure", name, system], left)
            if ok and row:
                results["rows"].append(row)
            else:
                results["skipped"].append(f"{name} {system}: {tail}")
            save()
    save()


def export_dir(workdir: Path, name: str) -> Path:
    return workdir / f"{name}_{LOOKAHEAD[0]}_{LOOKAHEAD[1]}"


def gpu_name(device: str) -> str:
    if device != "cuda":
        return "none (a CPU smoke run)"
    try:
        query = ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"]
        return subprocess.run(query, capture_output=True, text=True, check=True).stdout.splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError) as error:
        return f"unknown ({error})"


def run_step(command: list[str], timeout_s: float) -> tuple[bool, str, dict | None]:
    """Runs one worker step, echoing its output. Returns whether it succeeded, why not (exit status or signal,
    last lines), and the result row it printed."""
    lines: list[str] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        timer = threading.Timer(timeout_s, process.kill)  # past the deadline
        timer.start()
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line.rstrip())
        code = process.wait()
        timer.cancel()
    row = next((json.loads(line[4:]) for line in reversed(lines) if line.startswith("ROW ")), None)
    if code == 0:
        return True, "", row
    how = f"killed by signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
    tail = " | ".join(line for line in lines[-6:] if line.strip())
    return False, f"the process ended with {how}: {tail}", row


def worker(args: argparse.Namespace) -> None:
    step, name = args.worker[0], args.worker[1]
    if step == "prepare":
        prepare(args.workdir, name)
        return
    system = args.worker[2]
    out = export_dir(args.workdir, name)
    audio = tiled_speech(60)
    fp32 = system.endswith("fp32")
    if system.startswith("nemo_fast"):
        if not fp32:
            to_float16(out / "fp32", out / "fp16")
        p95, chunk_s = nemo_fast_ticks(out / ("fp32" if fp32 else "fp16"), audio, args.ticks, args.warmup, fp32,
                                       args.device, args.threads)  # fmt: skip
    else:
        p95, chunk_s = nemo_ticks(out, audio, args.ticks, args.warmup, not fp32, args.device)
    streams, ticks = most_streams(p95, chunk_s, f"{name} {system}", start=args.start_streams,
                                  limit=args.max_streams, bisections=args.bisections)  # fmt: skip
    row = {"model": name, "system": system, "chunk_ms": round(1000 * chunk_s, 1), "streams": streams,
           "p95_tick_ms": ticks}  # fmt: skip
    if system.startswith("nemo_fast"):
        row["threads"] = args.threads
    log(f"{name} {system}: {streams} real-time streams")
    if system.startswith("nemo_fast") and args.profile_streams:
        row["encoder_profile"] = nemo_fast_profile(out / ("fp32" if fp32 else "fp16"), audio, args.profile_streams,
                                                   args.ticks, args.warmup, fp32, args.device, args.threads,
                                                   args.workdir / f"profile_{name}_{system}")  # fmt: skip
        log(f"{name} {system} encoder profile at {args.profile_streams} streams: {row['encoder_profile']}")
    print("ROW " + json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
