"""Fault sweep of `nemo-fast transcribe --manifest`: huge lines, wrong types, non-finite and negative offsets,
lines that are not UTF-8 or nest too deeply, devices as audio, duplicate paths, and --resume on a damaged or
foreign output. Every bad entry gets an `error` row in its place and the run goes on; an output that --resume
cannot continue is refused before any work, the file untouched."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import nemo_fast

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "speech_example.wav"


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nemo_fast.cli", "transcribe", *args], capture_output=True,
                          text=True, timeout=timeout)


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


GOOD = {"audio_filepath": str(EXAMPLE)}
BAD_LINES = [  # (line bytes, what its error row says)
    (json.dumps({"audio_filepath": 7}).encode(), "no audio_filepath"),
    (json.dumps({"audio_filepath": ["a.wav"]}).encode(), "no audio_filepath"),
    (json.dumps({"audio_filepath": str(EXAMPLE), "offset": "1.0"}).encode(), "offset must be seconds"),
    (json.dumps({"audio_filepath": str(EXAMPLE), "offset": -1.0}).encode(), "offset must be seconds"),
    (b'{"audio_filepath": "%s", "offset": NaN}' % str(EXAMPLE).encode(), "offset must be seconds"),
    (b'{"audio_filepath": "%s", "duration": Infinity}' % str(EXAMPLE).encode(), "duration must be seconds"),
    (json.dumps({"audio_filepath": str(EXAMPLE), "duration": True}).encode(), "duration must be seconds"),
    (json.dumps({"audio_filepath": str(EXAMPLE), "offset": 1e300}).encode(), "past its end"),
    (b'{"audio_filepath": "\xff\xfe.wav"}', "not UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b"x" * 5_000_000, "not JSON"),
    (json.dumps({"audio_filepath": "/dev/zero"}).encode(), "is a device"),
    (json.dumps({"audio_filepath": str(ROOT)}).encode(), "is a directory"),
    (json.dumps({"audio_filepath": "a\u0000b.wav"}).encode(), "NUL character"),
]


def test_bad_lines_get_error_rows_in_place_and_the_good_ones_are_transcribed(tmp_path):
    expected = nemo_fast.Recognizer(ROOT / "models" / "default").transcribe(EXAMPLE).text
    huge_text = {"audio_filepath": str(EXAMPLE), "text": "word " * 1_000_000, "id": "huge"}  # a 5 MB line
    lines = [json.dumps(GOOD).encode()]
    for line, _ in BAD_LINES:
        lines += [line, json.dumps(GOOD).encode()]
    lines.append(json.dumps(huge_text).encode())
    manifest = tmp_path / "in.json"
    manifest.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out.json"
    result = _cli("--manifest", str(manifest), "--output-manifest", str(out), "--jobs", "2")
    assert result.returncode == 1, result.stderr  # entries failed, the others were transcribed
    assert "Traceback" not in result.stderr
    rows = _rows(out)
    assert len(rows) == len(lines)
    for k, (_, message) in enumerate(BAD_LINES):
        bad, good = rows[1 + 2 * k], rows[2 + 2 * k]
        assert message in bad["error"] and bad["pred_text"] == "" and bad["manifest_line"] == 2 + 2 * k, (k, bad)
        assert good["pred_text"] == expected and "error" not in good  # duplicate paths: each its own row
    assert rows[0]["pred_text"] == expected and rows[-1]["id"] == "huge" and rows[-1]["pred_text"] == expected
    assert len(rows[-1]["text"]) == len(huge_text["text"])  # the entry is kept whole


@pytest.mark.parametrize("damage", ["not_json", "binary", "another_manifests_output", "longer_than_the_input"])
def test_resume_on_an_output_it_cannot_continue_is_refused_and_leaves_it_alone(tmp_path, damage):
    manifest = tmp_path / "in.json"
    manifest.write_text("".join(json.dumps({"audio_filepath": str(EXAMPLE), "n": k}) + "\n" for k in range(3)))
    out = tmp_path / "out.json"
    content = {
        "not_json": b'{"audio_filepath": "%s", "n": 0, "pred_text": "x"}\nnot json at all\n' % str(EXAMPLE).encode(),
        "binary": bytes(range(256)) + b"\n",
        "another_manifests_output": json.dumps({"audio_filepath": "/other/a.wav", "pred_text": "x"}).encode() + b"\n",
        "longer_than_the_input": (json.dumps({**GOOD, "pred_text": "x"}) + "\n").encode() * 4,
    }[damage]
    out.write_bytes(content)
    result = _cli("--manifest", str(manifest), "--output-manifest", str(out), "--resume")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "--resume cannot continue it" in result.stderr or "not this manifest's output" in result.stderr
    assert out.read_bytes() == content
