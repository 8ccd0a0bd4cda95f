"""Transcription with Ray Data (`nemo-fast transcribe --manifest ... --ray`, nemo_fast.ray.transcribe_dataset) on
a local Ray cluster the tests start: the same output as the local path, entry for entry, also when an actor is
killed in the middle of the run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import require_module

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "speech_example.wav"

pytestmark = pytest.mark.skipif(os.environ.get("NEMO_FAST_SANITIZED") == "1",
                                reason="Ray's worker processes do not run under the sanitizer runtime")


def _transcribe(*args: str) -> list[str]:
    return [sys.executable, "-m", "nemo_fast.cli", "transcribe", *args]


def _manifest(folder: Path, entries: list) -> Path:
    (folder / "wavs").mkdir()
    shutil.copy(EXAMPLE, folder / "wavs" / "a.wav")
    path = folder / "in.json"
    path.write_text("".join((json.dumps(e) if isinstance(e, dict) else e) + "\n" for e in entries))
    return path


def test_ray_output_equals_the_local_output(tmp_path):
    require_module("ray", "ray (the extra ray)")
    manifest = _manifest(tmp_path, [
        {"audio_filepath": "wavs/a.wav", "text": "a reference"},     # relative to the manifest's folder
        {"audio_filepath": str(EXAMPLE), "offset": 0.5, "duration": 2.0, "id": 3},
        {"audio_filepath": "wavs/missing.wav"},
        "not json",
        {"audio_filepath": "wavs/a.wav", "offset": 9.0},             # past the end
        *[{"audio_filepath": "wavs/a.wav", "offset": 0.1 * i, "duration": 3.0} for i in range(8)],
    ])
    local, distributed = tmp_path / "local.json", tmp_path / "ray.json"
    args = ["--manifest", str(manifest), "--format", "json"]
    first = subprocess.run(_transcribe(*args, "--output-manifest", str(local)), capture_output=True, text=True)
    second = subprocess.run(_transcribe(*args, "--output-manifest", str(distributed), "--ray", "--workers", "2",
                                        "--jobs", "2"), capture_output=True, text=True, cwd=tmp_path / "wavs")
    assert first.returncode == second.returncode == 1, second.stderr  # three bad entries, the rest transcribed
    assert distributed.read_text() == local.read_text()
    rows = [json.loads(line) for line in local.read_text().splitlines()]
    assert len(rows) == 13 and all(r["pred_text"] for i, r in enumerate(rows) if i not in (2, 3, 4))


def test_transcribe_dataset_maps_a_ray_dataset_of_manifest_rows(tmp_path):
    ray = require_module("ray", "ray (the extra ray)")
    import nemo_fast.ray

    entries = [{"audio_filepath": "wavs/a.wav", "offset": 0.25 * i, "duration": 2.5, "id": i} for i in range(6)]
    entries.append({"audio_filepath": "wavs/missing.wav", "offset": 0.0, "duration": 1.0, "id": 6})
    manifest = _manifest(tmp_path, entries)
    local = tmp_path / "local.json"
    subprocess.run(_transcribe("--manifest", str(manifest), "--output-manifest", str(local)), capture_output=True)
    expected = [json.loads(line) for line in local.read_text().splitlines()]
    nemo_fast.ray.connect(num_cpus=3)  # two actors and the reading tasks
    try:
        ds = ray.data.read_json(str(manifest), lines=True)
        rows = sorted(nemo_fast.ray.transcribe_dataset(ds, base_dir=tmp_path, actors=2).take_all(),
                      key=lambda r: r["id"])
    finally:
        ray.shutdown()
    assert [r["pred_text"] for r in rows] == [e["pred_text"] for e in expected]
    assert [r["error"] is None for r in rows] == [True] * 6 + [False]
    assert "missing.wav" in rows[6]["error"]


def _actor_pids() -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and b"_Transcriber" in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def test_a_killed_actor_loses_and_repeats_no_entry(tmp_path):
    require_module("ray", "ray (the extra ray)")
    count = 200
    manifest = _manifest(tmp_path, [{"audio_filepath": "wavs/a.wav", "offset": 0.01 * i, "id": i}
                                    for i in range(count)])
    local, distributed = tmp_path / "local.json", tmp_path / "ray.json"
    subprocess.run(_transcribe("--manifest", str(manifest), "--output-manifest", str(local)), check=True,
                   capture_output=True)
    run = subprocess.Popen(_transcribe("--manifest", str(manifest), "--output-manifest", str(distributed), "--ray",
                                       "--workers", "2", "--jobs", "1"),
                           stdout=subprocess.DEVNULL, stderr=open(tmp_path / "stderr.txt", "w"))
    killed, written_then = None, None
    deadline = time.monotonic() + 120
    try:
        while killed is None and run.poll() is None and time.monotonic() < deadline:
            written = distributed.read_text().count("\n") if distributed.exists() else 0
            actors = _actor_pids()
            if written >= 4 and actors:
                os.kill(actors[0], signal.SIGKILL)
                killed, written_then = actors[0], written
            time.sleep(0.05)
        assert run.wait(timeout=180) == 0, (tmp_path / "stderr.txt").read_text()[-3000:]
    finally:
        if run.poll() is None:
            run.kill()
    assert killed is not None and written_then < count, "the run ended before an actor could be killed"
    assert distributed.read_text() == local.read_text()


def test_more_actors_than_the_cluster_has_cpus_is_an_error_not_a_hang(tmp_path):
    require_module("ray", "ray (the extra ray)")
    manifest = _manifest(tmp_path, [{"audio_filepath": "wavs/a.wav"}])
    # The local Ray instance has this machine's CPUs; one actor more than that can never start.
    actors = str((os.cpu_count() or 1) + 1)
    run = subprocess.run(_transcribe("--manifest", str(manifest), "--output-manifest", str(tmp_path / "out.json"),
                                     "--ray", "--workers", actors), capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr[-2000:]
    assert f"{actors} actors x 1 threads need {actors} CPUs" in run.stderr
