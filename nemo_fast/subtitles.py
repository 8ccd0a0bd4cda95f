"""A transcript's output forms: words with times from tokens, subtitle cues, and the formats of
`nemo-fast transcribe --format` (txt, json, tsv, srt and vtt; the last two with the `srt` and `webvtt-py`
libraries). Times are rounded to milliseconds."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass

from nemo_fast.errors import MissingDependencyError

_WORD_START = "\u2581"  # SentencePiece's word boundary
MAX_CUE_SECONDS = 6.0  # a cue longer than this is split at a word
CUE_GAP_SECONDS = 0.8  # a pause this long between words starts a new cue


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds, the start of the encoder frame of its first token
    end: float    # seconds, the end of the encoder frame of its last token


@dataclass(frozen=True)
class Cue:
    text: str
    start: float
    end: float


def words(token_ids: list[int], token_times: list[float], tokens: list[str], frame_shift: float) -> list[Word]:
    """Words of a token sequence: a SentencePiece piece starting with "▁", or a space character, starts a word."""
    out: list[Word] = []
    text, start, end = "", 0.0, 0.0
    for token_id, time in zip(token_ids, token_times):
        piece = tokens[token_id]
        if piece.startswith(_WORD_START) or piece == " " or not (text or out):
            if text:
                out.append(Word(text, round(start, 3), round(end, 3)))
            text, start = "", time
        text += piece.replace(_WORD_START, "").strip()
        end = time + frame_shift
    if text:
        out.append(Word(text, round(start, 3), round(end, 3)))
    return out


def cues(word_list: list[Word]) -> list[Cue]:
    """Words grouped into cues: a new cue after a pause of CUE_GAP_SECONDS or once a cue would pass
    MAX_CUE_SECONDS."""
    groups: list[list[Word]] = []
    for word in word_list:
        if not groups or word.start - groups[-1][-1].end >= CUE_GAP_SECONDS or \
                word.end - groups[-1][0].start > MAX_CUE_SECONDS:
            groups.append([word])
        else:
            groups[-1].append(word)
    return [Cue(" ".join(w.text for w in g), g[0].start, g[-1].end) for g in groups]


def to_srt(cue_list: list[Cue]) -> str:
    srt = _require("srt", "srt")
    return srt.compose([srt.Subtitle(i + 1, _delta(c.start), _delta(c.end), c.text) for i, c in enumerate(cue_list)])


def to_vtt(cue_list: list[Cue]) -> str:
    webvtt = _require("webvtt", "webvtt-py")
    document = webvtt.WebVTT()
    for c in cue_list:
        document.captions.append(webvtt.Caption(_clock(c.start), _clock(c.end), c.text))
    return document.content


def _delta(seconds: float) -> datetime.timedelta:
    return datetime.timedelta(milliseconds=round(seconds * 1000))


def _clock(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _require(module: str, package: str):
    try:
        return __import__(module)
    except ImportError as e:
        raise MissingDependencyError(f"subtitles need the {package} package: pip install \"nemo_fast[server]\"") from e


FORMATS = ("txt", "json", "tsv", "srt", "vtt")


def render(fmt: str, segments, tokens: list[str], frame_shift: float, source: str = "") -> str:
    """A transcript of `segments` (nemo_fast.Segment) in one of FORMATS: txt one line per segment; json the
    segments with their words and times; tsv start and end in milliseconds and the text; srt and vtt cues of
    at most MAX_CUE_SECONDS within each segment."""
    per_segment = [(s, words(s.token_ids, s.token_times_seconds, tokens, frame_shift)) for s in segments]
    if fmt == "txt":
        return "".join(s.text + "\n" for s in segments)
    if fmt == "json":
        return json.dumps({
            "file": source, "text": " ".join(s.text for s in segments),
            "segments": [{"start": round(s.start_seconds, 3), "end": round(s.end_seconds, 3), "text": s.text,
                          "words": [{"word": w.text, "start": w.start, "end": w.end} for w in ws]}
                         for s, ws in per_segment],
        }, ensure_ascii=False) + "\n"  # fmt: skip
    if fmt == "tsv":
        rows = [f"{round(s.start_seconds * 1000)}\t{round(s.end_seconds * 1000)}\t{s.text}" for s in segments]
        return "start\tend\ttext\n" + "".join(row + "\n" for row in rows)
    cue_list = [c for _, ws in per_segment for c in cues(ws)]
    if fmt == "srt":
        return to_srt(cue_list)
    if fmt == "vtt":
        return to_vtt(cue_list)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
