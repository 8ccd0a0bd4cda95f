"""Concurrent real-time streams on one GPU: nemo_fast (ONNX Runtime's CUDA provider, caches kept on the device)
against NeMo's own batched cache-aware streaming (`conformer_stream_step`) on the same GPU and the same replica.

    python benchmarks/gpu_capacity.py WORK [--models large nemotron] [--deadline-s 420]

For each model (random weights; the joint's blank logit is biased so that it never emits, so every system does
one joint per frame and stream and the encoder's cost is compared) it builds the NeMo checkpoint, exports it
with nemo_fast at [70,1] (160 ms chunks), converts a float16 copy (ONNX Runtime's float16 converter, float
inputs and outputs kept), and for each system finds the most streams whose p95 tick stays under the chunk:
every tick each stream receives one chunk of audio and all are decoded together, so a chunk's latency is the
tick's duration. nemo_fast's tick includes the features of the new audio; NeMo's does not (its streaming
buffer computes every stream's features before the first chunk), which favours NeMo. Systems: nemo_fast fp32
(TF32 off, as PyTorch's matrix products by default), nemo_fast fp16, NeMo fp32, NeMo under fp16 autocast.
Results: benchmarks/results/gpu_capacity.json. Stages that would start after --deadline-s are skipped and
say so.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time
import traceback
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
    out = workdir / f"{name}_{LOOKAHEAD[0]}_{LOOKAHEAD[1]}"
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


def nemo_fast_recognizer(model_dir: Path, fp32: bool, device: str, profile: Path | None = None):
    import nemo_fast

    if device == "cuda":
        options = {"device_id": "0", "use_tf32": "0"} if fp32 else {"device_id": "0"}
        recognizer = nemo_fast.Recognizer(model_dir, providers=["cuda"], provider_options={"cuda": options},
                                          max_batch_size=4096, decoding="greedy", profile=profile)  # fmt: skip
        assert recognizer.providers[0] == "CUDAExecutionProvider", recognizer.providers
        return recognizer
    return nemo_fast.Recognizer(model_dir, max_batch_size=4096, decoding="greedy", profile=profile)


def nemo_fast_ticks(model_dir: Path, audio, ticks: int, warmup: int, fp32: bool, device: str):
    recognizer = nemo_fast_recognizer(model_dir, fp32, device)
    spec = recognizer.spec
    first, later = (n * spec.features.hop_length_samples for n in spec.geometry.shift_size)

    def p95_tick(n: int) -> float:
        return lockstep_p95_tick(recognizer, audio, first, later, n, warmup, ticks)

    return p95_tick, later / 16000


def nemo_fast_profile(model_dir: Path, audio, streams: int, ticks: int, warmup: int, fp32: bool, device: str,
                      prefix: Path) -> dict:  # fmt: skip
    """ONNX Runtime's profile of the encoder over lock-step ticks of `streams` streams, summed up: run time
    against the nodes' own time, nodes per provider, host-device copies, the costliest op types."""
    import gc

    from ort_profile_summary import summarize

    for old in prefix.parent.glob(prefix.name + "_*.json"):
        old.unlink()
    recognizer = nemo_fast_recognizer(model_dir, fp32, device, profile=prefix)
    first, later = (n * recognizer.spec.features.hop_length_samples for n in recognizer.spec.geometry.shift_size)
    p95 = lockstep_p95_tick(recognizer, audio, first, later, streams, warmup, ticks)
    del recognizer
    gc.collect()  # the profile is written when the session ends
    (trace,) = prefix.parent.glob(prefix.name + "_*.json")
    summary = summarize(json.loads(trace.read_text()))
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
    parser.add_argument("--deadline-s", type=float, default=1e9, help="skip what would start after this")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "models"))
    args.workdir.mkdir(parents=True, exist_ok=True)
    audio = tiled_speech(60)
    results = {"stamp": stamp(), "lookahead": LOOKAHEAD, "ticks": args.ticks, "warmup_ticks": args.warmup,
               "rows": [], "skipped": []}  # fmt: skip
    try:
        import torch

        results["gpu"] = torch.cuda.get_device_name(0)
        results["torch"] = torch.__version__
    except Exception as error:  # noqa: BLE001 - recorded, the rest still runs
        results["gpu"] = f"unknown ({error})"

    def save() -> None:
        if args.output:
            args.output.write_text(json.dumps(results, indent=2) + "\n")
        else:
            write_json("gpu_capacity", results)

    for name in args.models:
        if time.monotonic() - START > args.deadline_s:
            results["skipped"].append(f"{name}: past the deadline before it was built")
            continue
        try:
            out = prepare(args.workdir, name)
        except Exception:  # noqa: BLE001
            results["skipped"].append(f"{name}: preparing failed: {traceback.format_exc(limit=3)}")
            log(results["skipped"][-1])
            save()
            continue
        for system in args.systems:
            if time.monotonic() - START > args.deadline_s:
                results["skipped"].append(f"{name} {system}: past the deadline")
                continue
            try:
                if system.startswith("nemo_fast"):
                    fp32 = system.endswith("fp32")
                    if not fp32:
                        to_float16(out / "fp32", out / "fp16")
                    p95, chunk_s = nemo_fast_ticks(out / ("fp32" if fp32 else "fp16"), audio, args.ticks,
                                                   args.warmup, fp32, args.device)  # fmt: skip
                else:
                    p95, chunk_s = nemo_ticks(out, audio, args.ticks, args.warmup, system.endswith("fp16"), args.device)
                streams, ticks = most_streams(p95, chunk_s, f"{name} {system}", start=args.start_streams,
                                              limit=args.max_streams, bisections=args.bisections)  # fmt: skip
                results["rows"].append({"model": name, "system": system, "chunk_ms": round(1000 * chunk_s, 1),
                                        "streams": streams, "p95_tick_ms": ticks})  # fmt: skip
                log(f"{name} {system}: {streams} real-time streams")
                if system.startswith("nemo_fast") and args.profile_streams:
                    prefix = args.workdir / f"profile_{name}_{system}"
                    results["rows"][-1]["encoder_profile"] = nemo_fast_profile(
                        out / ("fp32" if fp32 else "fp16"), audio, args.profile_streams, args.ticks, args.warmup,
                        fp32, args.device, prefix)  # fmt: skip
                    log(f"{name} {system} profile: {results['rows'][-1]['encoder_profile']}")
            except Exception:  # noqa: BLE001
                results["skipped"].append(f"{name} {system}: failed: {traceback.format_exc(limit=4)}")
                log(results["skipped"][-1])
            save()
    save()


if __name__ == "__main__":
    main()
