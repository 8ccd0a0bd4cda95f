"""`nemo-fast transcribe --manifest`: NeMo manifests in, output manifests with pred_text out, in the input
order; relative paths, offset and duration as NeMo reads them; bad entries reported and skipped; WER/CER;
resumable after an interruption without losing or repeating an entry."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import require_module

import nemo_fast
from nemo_fast.audio import read_audio

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "speech_example.wav"
SHIPPED = ROOT / "models" / "default"


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nemo_fast.cli", "transcribe", *args], capture_output=True,
                          text=True, timeout=timeout)


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_entries_come_back_in_order_with_pred_text_and_bad_ones_are_reported(tmp_path):
    require_module("jiwer")
    (tmp_path / "wavs").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "wavs" / "a.wav")
    audio, rate = read_audio(EXAMPLE)
    recognizer = nemo_fast.Recognizer(SHIPPED)
    whole = recognizer.transcribe(audio, sample_rate=rate).text
    cut = recognizer.transcribe(audio[round(0.5 * rate): round(0.5 * rate) + round(2.0 * rate)], sample_rate=rate).text
    wrong = "x " + whole.split(" ", 1)[1]  # the first word replaced
    lines = [
        {"audio_filepath": "wavs/a.wav", "duration": len(audio) / rate, "text": whole},   # relative to the manifest
        {"audio_filepath": str(EXAMPLE), "duration": 2.0, "offset": 0.5, "id": 7},        # absolute, cut
        {"audio_filepath": "wavs/missing.wav", "duration": 1.0},
        "not json",
        {"audio_filepath": str(EXAMPLE), "text": wrong},
    ]
    manifest = tmp_path / "in.json"
    manifest.write_text("".join((json.dumps(x) if isinstance(x, dict) else x) + "\n" for x in lines))
    out = tmp_path / "out.json"
    result = _cli("--manifest", str(manifest), "--output-manifest", str(out))
    assert result.returncode == 1  # something failed, the rest was transcribed
    rows = _lines(out)
    assert [r.get("pred_text") for r in rows] == [whole, cut, "", "", whole]
    assert rows[1]["id"] == 7 and rows[1]["offset"] == 0.5  # every input field is kept
    assert "missing.wav" in rows[2]["error"] and "not JSON" in rows[3]["error"]
    assert "in.json:3:" in result.stderr and "in.json:4:" in result.stderr
    words = len(whole.split())
    assert f"WER {100 / (2 * words):.2f}%" in result.stderr  # one substitution over the two entries with text


def test_json_format_adds_segments_with_words_and_times(tmp_path):
    manifest = tmp_path / "in.json"
    manifest.write_text(json.dumps({"audio_filepath": str(EXAMPLE)}) + "\n")
    out = tmp_path / "out.json"
    assert _cli("--manifest", str(manifest), "--output-manifest", str(out), "--format", "json").returncode == 0
    (row,) = _lines(out)
    expected = nemo_fast.Recognizer(SHIPPED).transcribe_segments(EXAMPLE)
    assert [s["text"] for s in row["segments"]] == [s.text for s in expected]
    assert [w["word"] for s in row["segments"] for w in s["words"]] == [w.text for s in expected for w in s.words]


def test_an_interrupted_run_resumes_without_losing_or_repeating_an_entry(tmp_path):
    """The run (two worker threads) is killed once some entries are written; --resume finishes it, and the output
    equals an uninterrupted one-worker run's (a half-written last line is dropped and redone)."""
    audio, rate = read_audio(EXAMPLE)
    manifest = tmp_path / "in.json"
    manifest.write_text("".join(json.dumps({"audio_filepath": str(EXAMPLE), "offset": round(0.05 * k, 2),
                                            "duration": 3.0, "n": k}) + "\n" for k in range(40)))
    reference = tmp_path / "reference.json"
    assert _cli("--manifest", str(manifest), "--output-manifest", str(reference), "--jobs", "2").returncode == 0

    out = tmp_path / "out.json"
    process = subprocess.Popen([sys.executable, "-m", "nemo_fast.cli", "transcribe", "--manifest", str(manifest),
                                "--output-manifest", str(out), "--jobs", "2", "--workers", "2"],
                               stderr=subprocess.DEVNULL)
    for _ in range(3000):
        if out.exists() and out.read_text().count("\n") >= 3:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    written = out.read_text().count("\n")
    assert 3 <= written < 40, written
    with open(out, "a") as f:
        f.write('{"audio_filepath": "half a li')  # as if killed in the middle of a write
    result = _cli("--manifest", str(manifest), "--output-manifest", str(out), "--jobs", "2", "--workers", "2",
                  "--resume")
    assert result.returncode == 0, result.stderr
    assert f"resuming after {written} of 40" in result.stderr
    assert out.read_text() == reference.read_text()
    assert [r["n"] for r in _lines(out)] == list(range(40))


@pytest.mark.parametrize("args", [[], ["--manifest", "m.json"], ["a.wav", "--manifest", "m.json",
                                                                 "--output-manifest", "o.json"]])
def test_manifest_arguments_are_checked(tmp_path, args):
    result = subprocess.run([sys.executable, "-m", "nemo_fast.cli", "transcribe", *args], capture_output=True,
                            text=True, cwd=tmp_path)
    assert result.returncode == 2 and "error" in result.stderr


def test_cut_audio_honours_offset_and_duration(tmp_path):
    from nemo_fast.manifest import read_entry_audio, read_manifest

    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"audio_filepath": str(EXAMPLE), "offset": 1.0, "duration": 0.5}) + "\n" +
                        json.dumps({"audio_filepath": str(EXAMPLE), "offset": 99.0}) + "\n")
    first, past_end = read_manifest(manifest)
    audio, rate = read_audio(EXAMPLE)
    cut, _ = read_entry_audio(first)
    np.testing.assert_array_equal(cut, audio[rate: rate + rate // 2])
    with pytest.raises(nemo_fast.errors.AudioError, match="past its end"):
        read_entry_audio(past_end)


def test_worker_threads_give_the_one_thread_results_in_order():
    """Files of different lengths (so they finish out of order) and an unreadable one, over 1, 2 and 3 worker
    threads with batches of 2: the same segments, in the order given, the error in its place."""
    audio, rate = read_audio(EXAMPLE)
    clips = [audio[: rate * (1 + k % 4)] for k in range(11)]
    sources = [*range(5), "missing", *range(5, 11)]

    def reader(source):
        if source == "missing":
            raise FileNotFoundError("missing")
        return clips[source], rate

    recognizer = nemo_fast.Recognizer(SHIPPED)

    def run(workers):
        return [(s, [x.text for x in r] if isinstance(r, list) else type(r).__name__)
                for s, r in recognizer.transcribe_many(sources, batch=2, reader=reader, workers=workers)]

    one = run(1)
    assert [s for s, _ in one] == sources and one[5][1] == "FileNotFoundError"
    assert run(2) == one and run(3) == one


def test_output_manifest_equal_to_the_input_is_refused_before_any_work(tmp_path):
    manifest = tmp_path / "in.json"
    text = json.dumps({"audio_filepath": str(EXAMPLE)}) + "\n"
    manifest.write_text(text)
    (tmp_path / "link.json").symlink_to(manifest)
    for output in (manifest, tmp_path / "link.json"):
        result = _cli("--manifest", str(manifest), "--output-manifest", str(output))
        assert result.returncode == 2 and "is the input manifest" in result.stderr
        assert manifest.read_text() == text


def test_resume_with_retry_errors_transcribes_again_only_the_entries_that_failed(tmp_path):
    """A file missing in the first run is there now: --resume --retry-errors redoes that entry in its place,
    keeps the others as they were and adds the rest; without --retry-errors its error stays."""
    audio, rate = read_audio(EXAMPLE)
    expected = nemo_fast.Recognizer(SHIPPED).transcribe(EXAMPLE).text
    later = tmp_path / "later.wav"
    manifest = tmp_path / "in.json"
    manifest.write_text("".join(json.dumps({"audio_filepath": str(p), "n": k}) + "\n"
                                for k, p in enumerate([EXAMPLE, later, EXAMPLE, EXAMPLE])))  # fmt: skip
    out = tmp_path / "out.json"
    assert _cli("--manifest", str(manifest), "--output-manifest", str(out)).returncode == 1
    first = out.read_text().splitlines()
    assert "error" in json.loads(first[1])
    out.write_text("\n".join(first[:3]) + "\n")  # as if interrupted before the last entry
    shutil.copy(EXAMPLE, later)
    result = _cli("--manifest", str(manifest), "--output-manifest", str(out), "--resume")
    assert result.returncode == 0 and "error" in _lines(out)[1]  # kept as it was
    out.write_text("\n".join(first[:3]) + "\n")
    result = _cli("--manifest", str(manifest), "--output-manifest", str(out), "--resume", "--retry-errors")
    assert result.returncode == 0, result.stderr
    assert "resuming after 3 of 4 entries, and 1 that failed again" in result.stderr
    rows = _lines(out)
    assert [r["n"] for r in rows] == [0, 1, 2, 3] and [r["pred_text"] for r in rows] == [expected] * 4
    assert out.read_text().splitlines()[0] == first[0] and not list(tmp_path.glob(".*partial"))
