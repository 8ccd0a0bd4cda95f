"""NeMo manifests: JSON lines with `audio_filepath`, `duration`, optional `offset` and `text`, as NeMo's
`transcribe_speech.py` reads them. The output manifest has one line per input line, in the input order: the
entry with `pred_text` (and, with words, its words and times), or, for an entry that could not be transcribed,
`pred_text` "" and `error`. Lines are flushed as they are written, so an interrupted run can resume where it
stopped (the complete lines of the output are kept, the rest of the input is transcribed)."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nemo_fast.audio import read_audio
from nemo_fast.errors import AudioError, ConfigError


@dataclass
class ManifestEntry:
    line: int                # 1-based line of the input manifest
    fields: dict             # the entry as read (empty when the line is not a JSON object)
    audio_path: Path | None  # resolved as NeMo does: a relative path is relative to the manifest's folder
    offset: float = 0.0
    duration: float | None = None
    error: str | None = None  # the line is unusable: why


def read_manifest(path: str | os.PathLike) -> Iterator[ManifestEntry]:
    """The entries of a manifest; a bad line comes back with its `error` set instead of stopping the reading."""
    path = Path(path)
    folder = path.resolve().parent  # absolute: the same entry wherever (and on whichever node) it is read
    with open(path, "rb") as f:  # bytes: a line that is not UTF-8 is an entry's error, not the end of the run
        for number, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                yield ManifestEntry(number, {}, None, error=f"not UTF-8 text (byte {e.start} of the line)")
                continue
            yield parse_line(number, text, folder)


def parse_line(number: int, text: str, folder: Path) -> ManifestEntry:
    """Line `number` of a manifest whose relative paths are relative to `folder`."""
    try:
        fields = json.loads(text)
    except ValueError as e:
        return ManifestEntry(number, {}, None, error=f"not JSON: {e}")
    except RecursionError:
        return ManifestEntry(number, {}, None, error="not a manifest entry: JSON nested too deeply")
    if not isinstance(fields, dict):
        return ManifestEntry(number, {}, None, error="not a JSON object")
    audio = fields.get("audio_filepath")
    if not isinstance(audio, str) or not audio:
        return ManifestEntry(number, fields, None, error="no audio_filepath")
    if "\0" in audio:
        return ManifestEntry(number, fields, None, error="audio_filepath holds a NUL character")
    offset, duration = fields.get("offset", 0.0), fields.get("duration")
    for name, value in (("offset", offset), ("duration", duration)):
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)
                                  or not math.isfinite(value) or value < 0):  # fmt: skip
            return ManifestEntry(number, fields, None, error=f"{name} must be seconds >= 0, got {value!r}")
    return ManifestEntry(number, fields, folder / audio, float(offset),
                         None if duration is None else float(duration))


def read_entry_audio(entry: ManifestEntry, channel: int | None = None) -> tuple[np.ndarray, int]:
    """The entry's audio: its file from `offset`, `duration` seconds long (to the end when absent or 0), as
    NeMo's ASR datasets cut it."""
    if entry.error is not None:
        raise ConfigError(entry.error)
    audio, rate = read_audio(entry.audio_path, channel)
    start = round(entry.offset * rate)
    end = len(audio) if not entry.duration else start + round(entry.duration * rate)
    if start >= len(audio):
        raise AudioError(f"{entry.audio_path}: offset {entry.offset} s is past its end ({len(audio) / rate:.3f} s)")
    return audio[start:end], rate


def output_row(entry: ManifestEntry, result, words: bool = False) -> dict:
    """The output manifest's entry for `entry` given what transcribing it gave (its segments, or the error)."""
    from nemo_fast import subtitles

    row = dict(entry.fields)
    if isinstance(result, list):
        row["pred_text"] = " ".join(s.text for s in result)
        if words:
            row["segments"] = [subtitles.segment_json(s) for s in result]
    else:
        row.update(pred_text="", error=str(result), manifest_line=entry.line)
    return row


def completed_rows(path: Path, entries: list[ManifestEntry]) -> list[tuple[bytes, dict]]:
    """The complete lines of an output manifest of `entries` (each with its row); an unfinished last line (an
    interrupted write) is cut off. A complete line that is not the output of the entry in its place is a
    ConfigError: resuming would mix two runs' outputs."""
    if not path.exists():
        return []
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    lines = complete.splitlines()
    if len(lines) > len(entries):
        raise ConfigError(f"{path} has {len(lines)} entries, more than the manifest ({len(entries)}): it is not "
                          "this manifest's output")
    rows = []
    for number, (line, entry) in enumerate(zip(lines, entries), 1):
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):
            row = None
        if not isinstance(row, dict) or "pred_text" not in row or \
                row.get("audio_filepath") != entry.fields.get("audio_filepath"):  # fmt: skip
            raise ConfigError(f"{path}:{number}: not the output of the manifest's entry {entry.line}, so --resume "
                              "cannot continue it (a damaged file or another manifest's output): give a new "
                              "--output-manifest or remove this one")
        rows.append((line, row))
    if len(complete) != len(data):
        with open(path, "r+b") as f:
            f.truncate(len(complete))
    return rows


_PUNCTUATION = re.compile(r"[^\w\s']")


def normalize(text: str) -> str:
    """The normalization of the printed WER/CER: lower case, punctuation but apostrophes removed, spaces
    collapsed."""
    return " ".join(_PUNCTUATION.sub(" ", text.lower()).split())


def error_rates(output: Path) -> tuple[float, float, int] | None:
    """(WER, CER, entries) over the output manifest's entries that have a reference `text` and no error;
    None when none has."""
    import jiwer

    references, hypotheses = [], []
    with open(output, encoding="utf-8") as f:
        for line in f:
            entry = json.loads(line)  # written by this run (or checked by completed_rows when resumed)
            if isinstance(entry.get("text"), str) and "error" not in entry:
                references.append(normalize(entry["text"]))
                hypotheses.append(normalize(entry.get("pred_text", "")))
    scored = [(r, h) for r, h in zip(references, hypotheses) if r]
    if not scored:
        return None
    refs, hyps = [r for r, _ in scored], [h for _, h in scored]
    return jiwer.wer(refs, hyps), jiwer.cer(refs, hyps), len(scored)
