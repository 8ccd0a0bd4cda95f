"""Words with times from a result's tokens, grouped into subtitle cues, written as SRT or WebVTT (with the `srt`
and `webvtt-py` libraries)."""

from __future__ import annotations

import datetime
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
