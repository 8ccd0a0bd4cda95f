"""A transcript's output forms: subtitle cues from segments' words, and the formats of
`nemo-fast transcribe --format` (txt, json, tsv, SubRip srt and WebVTT vtt, written here: no dependency).
Times are rounded to milliseconds."""

from __future__ import annotations

import json
from dataclasses import dataclass

MAX_CUE_SECONDS = 6.0  # a cue longer than this is split at a word
CUE_GAP_SECONDS = 0.8  # a pause this long between words starts a new cue


@dataclass(frozen=True)
class Cue:
    text: str
    start: float
    end: float


CUE_STARTS = ("onset", "nemo")


def cues(segment, starts: str = "onset") -> list[Cue]:
    """A segment's words (nemo_fast.Segment) grouped into cues: a new cue after a pause of CUE_GAP_SECONDS or
    once a cue would pass MAX_CUE_SECONDS; the first cue starts with the segment and the last ends with it.
    starts: "onset" (default): words start at their onset, the frame of their first token; "nemo": at NeMo's
    start, for CTC the onset of the token before, inside the pause before the word (so a cue shows before its
    words, and a pause between words never shows; benchmarks/word_onsets.py measures both)."""
    if starts not in CUE_STARTS:
        raise ValueError(f"starts must be one of {', '.join(CUE_STARTS)}, got {starts!r}")
    groups: list[list] = []
    for word in segment.words:
        start = max(word.onset if starts == "onset" else word.start, segment.start_seconds)
        if not groups or start - groups[-1][-1][2] >= CUE_GAP_SECONDS or word.end - groups[-1][0][1] > MAX_CUE_SECONDS:
            groups.append([])
        groups[-1].append((word.text, start, word.end))
    out = [Cue(" ".join(w[0] for w in g), g[0][1], g[-1][2]) for g in groups]
    if out:
        out[0] = Cue(out[0].text, segment.start_seconds, max(out[0].end, segment.start_seconds))
        out[-1] = Cue(out[-1].text, out[-1].start, max(out[-1].start, segment.end_seconds))
    return out


def to_srt(cue_list: list[Cue]) -> str:
    """SubRip: numbered cues, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, a blank line after each."""
    return "".join(f"{i}\n{_clock(c.start, ',')} --> {_clock(c.end, ',')}\n{_one_line(c.text)}\n\n"
                   for i, c in enumerate(cue_list, 1))


def to_vtt(cue_list: list[Cue]) -> str:
    """WebVTT: the header, then `HH:MM:SS.mmm --> HH:MM:SS.mmm` cues; & and < escaped as the format asks."""
    cues_text = "".join(f"{_clock(c.start, '.')} --> {_clock(c.end, '.')}\n"
                        f"{_one_line(c.text).replace('&', '&amp;').replace('<', '&lt;')}\n\n" for c in cue_list)
    return "WEBVTT\n\n" + cues_text


def _one_line(text: str) -> str:
    return " ".join(text.split()) or " "  # a blank line would end the cue; "-->" cannot come from words


def _clock(seconds: float, decimal: str) -> str:
    ms = max(0, round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{decimal}{ms % 1000:03d}"


FORMATS = ("txt", "json", "tsv", "srt", "vtt")


def render(fmt: str, segments, source: str = "", cue_starts: str = "onset") -> str:
    """A transcript of `segments` (nemo_fast.Segment) in one of FORMATS: txt one line per segment; json the
    segments with their words, times and confidences; tsv start and end in milliseconds and the text; srt and
    vtt cues of at most MAX_CUE_SECONDS within each segment."""
    if fmt == "txt":
        return "".join(s.text + "\n" for s in segments)
    if fmt == "json":
        return json.dumps({"file": source, "text": " ".join(s.text for s in segments),
                           "segments": [segment_json(s) for s in segments]}, ensure_ascii=False) + "\n"
    if fmt == "tsv":
        rows = [f"{round(s.start_seconds * 1000)}\t{round(s.end_seconds * 1000)}\t{s.text}" for s in segments]
        return "start\tend\ttext\n" + "".join(row + "\n" for row in rows)
    cue_list = [c for s in segments for c in cues(s, cue_starts)]
    if fmt == "srt":
        return to_srt(cue_list)
    if fmt == "vtt":
        return to_vtt(cue_list)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def segment_json(segment) -> dict:
    """A segment as JSON: times in seconds rounded to milliseconds, confidences to four decimals."""
    return {"start": round(segment.start_seconds, 3), "end": round(segment.end_seconds, 3), "text": segment.text,
            "words": [{"word": w.text, "start": round(w.start, 3), "end": round(w.end, 3),
                       "onset": round(w.onset, 3), "confidence": round(w.confidence, 4)}
                      for w in segment.words]}  # fmt: skip
