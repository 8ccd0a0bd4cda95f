"""Bulk transcription of a NeMo manifest on one machine: `nemo-fast transcribe --manifest` one file at a time,
batched, batched over worker threads, and on a local Ray cluster with 1 and 2 actors (`--ray`), against NeMo's
own `transcribe` and its `examples/asr/transcribe_speech.py` on the same files with the same checkpoint (CPU),
each run as a whole command (process start, Ray start and model load included).

Figures per configuration (median of `--repeats` runs, all configurations interleaved in each round): audio
seconds per wall second (the machine's throughput) and audio hours per core hour (audio over the CPU time the
command used, user + system, from the kernel's accounting of the child process; for the Ray rows, whose actors
are not children of the command, wall time x cores, as the local Ray cluster holds every core).

    python benchmarks/bulk_transcribe.py MODEL_DIR [--nemo CHECKPOINT.nemo [--transcribe-speech PATH]]
        [--entries 40] [--seconds 8]

PATH is transcribe_speech.py from a NeMo source tree of the installed NeMo's version (pip does not install it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
from common import RESULTS_DIR, stamp, tiled_speech

NEMO_TRANSCRIBE = """
import sys, json, torch
torch.set_num_threads(int(sys.argv[3]))
from nemo.collections.asr.models import ASRModel
from omegaconf import open_dict
model = ASRModel.restore_from(sys.argv[1], map_location="cpu").eval()
if model.cfg.get("validation_ds") is None:  # checkpoints built without datasets (the benchmark replicas)
    with open_dict(model.cfg):
        model.cfg.validation_ds = {}
paths = [json.loads(line)["audio_filepath"] for line in open(sys.argv[2])]
with torch.inference_mode():
    out = model.transcribe(paths, batch_size=8, verbose=False)
print(len(out))
"""

# transcribe_speech.py's dataloader reads validation_ds, which checkpoints built without datasets (the benchmark
# replicas) do not have: a copy with an empty one.
WITH_VALIDATION_DS = """
import sys
from nemo.collections.asr.models import ASRModel
from omegaconf import open_dict
model = ASRModel.restore_from(sys.argv[1], map_location="cpu")
with open_dict(model.cfg):
    model.cfg.validation_ds = model.cfg.get("validation_ds") or {}
model.save_to(sys.argv[2])
"""


def write_manifest(folder: Path, entries: int, seconds: float) -> tuple[Path, float]:
    speech = tiled_speech(seconds * entries + 30)
    lines = []
    for k in range(entries):
        clip = speech[round(k * seconds * 16000): round((k + 1) * seconds * 16000)]
        path = folder / f"{k:04d}.wav"
        with wave.open(str(path), "wb") as f:
            f.setnchannels(1)
            f.setsampwidth(2)
            f.setframerate(16000)
            f.writeframes((np.clip(clip, -1, 1) * 32767).astype("<i2").tobytes())
        lines.append(json.dumps({"audio_filepath": path.name, "duration": len(clip) / 16000}))
    manifest = folder / "manifest.json"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest, entries * seconds


def timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--nemo", type=Path, help="the same model's .nemo checkpoint: adds NeMo's transcribe")
    parser.add_argument("--transcribe-speech", type=Path, help="NeMo's examples/asr/transcribe_speech.py: adds it "
                                                                  "(needs --nemo)")
    parser.add_argument("--no-ray", action="store_true", help="leave out the Ray rows")
    parser.add_argument("--entries", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=8.0, help="audio per entry")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--name", help="the result's name (default: the model folder's)")
    parser.add_argument("--output", type=Path, help="result file (default: results/bulk_transcribe_NAME.json)")
    args = parser.parse_args()
    name = args.name or args.model_dir.name
    cores = os.cpu_count() or 1

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        manifest, audio_seconds = write_manifest(folder, args.entries, args.seconds)
        out = folder / "out.json"
        ours = [sys.executable, "-m", "nemo_fast.cli", "transcribe", "--model", str(args.model_dir), "--quiet", "--decoding", "greedy",
                "--manifest", str(manifest), "--output-manifest", str(out)]
        configurations = {
            "one file at a time": [*ours, "--jobs", "1", "--workers", "1", "--threads", "1"],
            "batches of 8": [*ours, "--jobs", "8", "--workers", "1", "--threads", "1"],
            "batches of 8, 2 ORT threads": [*ours, "--jobs", "8", "--workers", "1", "--threads", "2"],
            f"batches of 8, {cores} workers": [*ours, "--jobs", "8", "--workers", str(cores), "--threads", "1"],
        }
        if not args.no_ray:
            for actors in (1, 2):
                configurations[f"Ray Data (local), {actors} actor{'s' if actors > 1 else ''}, batches of 8"] = [
                    *ours, "--ray", "--workers", str(actors), "--jobs", "8", "--threads", "1"]
        if args.nemo is not None:
            absolute = folder / "absolute.json"
            entries = [json.loads(line) for line in manifest.read_text().splitlines()]
            absolute.write_text("".join(json.dumps({**e, "audio_filepath": str(folder / e["audio_filepath"])}) + "\n"
                                        for e in entries))
            configurations[f"NeMo transcribe, batch 8, {cores} torch threads"] = [
                sys.executable, "-c", NEMO_TRANSCRIBE, str(args.nemo), str(absolute), str(cores)]
            if args.transcribe_speech is not None:
                checkpoint = folder / "with_validation_ds.nemo"
                subprocess.run([sys.executable, "-c", WITH_VALIDATION_DS, str(args.nemo), str(checkpoint)], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                configurations[f"NeMo transcribe_speech.py, batch 8, {cores} torch threads"] = [
                    sys.executable, str(args.transcribe_speech), f"model_path={checkpoint}",
                    f"dataset_manifest={absolute}", f"output_filename={folder / 'nemo_out.json'}", "batch_size=8"]
        runs: dict[str, list[tuple[float, float]]] = {k: [] for k in configurations}
        for round_ in range(args.repeats):
            for label, command in configurations.items():
                runs[label].append(timed(command))
                wall, cpu = runs[label][-1]
                print(f"  round {round_ + 1}: {label}: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)

    rows = {}
    for label, measured in runs.items():
        wall = statistics.median(w for w, _ in measured)
        cpu = statistics.median(c for _, c in measured)
        if "Ray" in label:
            # Ray's workers are children of its raylet, not of the command: their CPU time is not in the command's
            # accounting. The local cluster holds every core for the whole run, so count wall time x cores.
            cpu = wall * cores
        rows[label] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                       "audio_s_per_wall_s": round(audio_seconds / wall, 1),
                       "audio_hours_per_core_hour": round(audio_seconds / cpu, 1)}
        print(f"{label}: {rows[label]}", flush=True)
    result = {"stamp": stamp(), "model": name, "entries": args.entries, "audio_seconds": audio_seconds,
              "cores": cores, "repeats": args.repeats, "runs": rows}
    output = args.output or RESULTS_DIR / f"bulk_transcribe_{name}.json"
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
