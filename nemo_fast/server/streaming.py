"""Streaming recognition over WebSocket: one decode loop (a worker thread) owns every connection's stream and
decodes the ready chunks of all of them together with `decode_streams`, so capacity grows with batching; the
event loop only moves bytes and JSON.

Two protocols share the port:
- sherpa-onnx's (path `/`): binary messages of little-endian float32 mono samples at 16 kHz, the text `Done` to
  end; replies `{"text": ..., "segment": N}` whenever the current segment's text changes, as sherpa-onnx's Python
  streaming server sends them.
- nemo_fast's, version 1 (path `/v1/stream`): a first text message `{"sample_rate": 16000, "encoding":
  "s16le"|"f32le"}`, then binary audio, then the text `{"type": "end"}` (or `Done`); events `ready`, `partial`
  (segment, text), `final` (segment, start, end, text, words with times and confidences) and, at the end of the
  input, `end`, after which the server closes the connection (1000).
"""

from __future__ import annotations

import asyncio
import json
import math
import queue
import threading
from dataclasses import dataclass, field

import numpy as np

from nemo_fast import subtitles
from nemo_fast.errors import NemoFastError

PROTOCOL = "nemo_fast.v1"
ENCODINGS = {"s16le": np.dtype("<i2"), "f32le": np.dtype("<f4")}


class ProtocolError(Exception):
    """A client broke the protocol: the connection is closed with `code` and the message as reason."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


@dataclass(eq=False)  # identity: sessions are kept in sets
class Session:
    """One connection's stream, owned by the decode loop once registered."""

    sample_rate: int
    sherpa: bool  # sherpa-onnx's replies instead of nemo_fast events
    loop: asyncio.AbstractEventLoop
    outbox: asyncio.Queue = field(default_factory=asyncio.Queue)
    buffered_samples: int = 0  # sent to the decode loop, not yet fed to the stream
    drained: asyncio.Event = field(default_factory=asyncio.Event)
    stream: object = None
    segment: int = 0
    partial: str = ""

    def consumed(self, samples: int) -> None:
        """The decode loop has fed these samples (runs on the event loop)."""
        self.buffered_samples -= samples
        self.drained.set()

    def post(self, event: dict | None) -> None:
        """Hands an event (None: the end) to the connection's sender; callable from any thread."""
        self.loop.call_soon_threadsafe(self.outbox.put_nowait, event)


def parse_audio(data: bytes, encoding: str) -> np.ndarray:
    dtype = ENCODINGS[encoding]
    if len(data) % dtype.itemsize:
        raise ProtocolError(1007, f"a {encoding} message must hold whole samples: {len(data)} bytes is not a "
                                  f"multiple of {dtype.itemsize}")
    samples = np.frombuffer(data, dtype=dtype)
    if dtype.kind == "f" and not np.isfinite(samples).all():
        raise ProtocolError(1007, "the audio holds NaN or infinite samples")
    return samples


def parse_start(text: str, model_rate: int) -> tuple[int, str]:
    """The first message of the nemo_fast protocol: (sample_rate, encoding)."""
    try:
        start = json.loads(text)
    except ValueError as e:
        raise ProtocolError(1007, f"the first message must be JSON: {e}") from e
    if not isinstance(start, dict):
        raise ProtocolError(1007, "the first message must be a JSON object")
    unknown = sorted(set(start) - {"sample_rate", "encoding"})
    if unknown:
        raise ProtocolError(1007, f"unknown settings: {', '.join(unknown)} (protocol {PROTOCOL}: sample_rate, "
                                  "encoding)")
    rate = start.get("sample_rate", model_rate)
    encoding = start.get("encoding", "s16le")
    if not isinstance(rate, int) or isinstance(rate, bool) or not 1000 <= rate <= 768000:
        raise ProtocolError(1007, f"sample_rate must be an integer from 1000 to 768000, got {rate!r}")
    if encoding not in ENCODINGS:
        raise ProtocolError(1007, f"encoding must be one of {', '.join(ENCODINGS)}, got {encoding!r}")
    return rate, encoding


class DecodeLoop:
    """The worker thread that feeds and decodes every session's stream. Commands arrive on a queue; each round
    takes all that are waiting, feeds them, decodes the ready streams in one `decode_streams` call and posts the
    sessions' events."""

    def __init__(self, recognizer, metrics=None):
        self.recognizer = recognizer
        self.metrics = metrics
        self._commands: queue.Queue = queue.Queue()
        self._sessions: set[Session] = set()
        self._thread = threading.Thread(target=self._run, name="nemo_fast-decode-loop", daemon=True)
        self._thread.start()

    def open(self, session: Session) -> None:
        self._commands.put(("open", session, None))

    def audio(self, session: Session, samples: np.ndarray) -> None:
        session.buffered_samples += len(samples)
        self._commands.put(("audio", session, samples))

    def end(self, session: Session) -> None:
        self._commands.put(("end", session, None))

    def drop(self, session: Session) -> None:
        """The client went away: forget the stream without decoding the rest."""
        self._commands.put(("drop", session, None))

    def stop(self) -> None:
        self._commands.put(("stop", None, None))
        self._thread.join()

    def _run(self) -> None:
        while True:
            commands = [self._commands.get()]
            while True:
                try:
                    commands.append(self._commands.get_nowait())
                except queue.Empty:
                    break
            touched: dict[Session, bool] = {}  # session -> input ended
            for kind, session, samples in commands:
                if kind == "stop":
                    return
                try:
                    self._apply(kind, session, samples, touched)
                except NemoFastError as e:
                    session.post({"type": "error", "message": str(e)})
                    session.post(None)
                    self._sessions.discard(session)
                    touched.pop(session, None)
            live = [s for s in touched if s in self._sessions]
            ready = [s for s in live if s.stream.is_ready]
            if ready:
                self._decode(ready)
            for session in live:
                self._publish(session, ended=touched[session])

    def _apply(self, kind: str, session: Session, samples, touched: dict) -> None:
        if kind == "open":
            session.stream = self.recognizer.create_stream()
            self._sessions.add(session)
        elif kind == "drop":
            self._sessions.discard(session)
            touched.pop(session, None)
        elif session in self._sessions:
            if kind == "audio":
                session.stream.accept_waveform_only(samples, session.sample_rate)
                session.loop.call_soon_threadsafe(session.consumed, len(samples))
                touched.setdefault(session, False)
            elif kind == "end":
                session.stream.input_finished_only()
                touched[session] = True

    def _decode(self, sessions: list[Session]) -> None:
        import time

        start = time.perf_counter()
        self.recognizer.decode_streams([s.stream for s in sessions])
        if self.metrics is not None:
            self.metrics.decoded(len(sessions), time.perf_counter() - start)

    def _publish(self, session: Session, ended: bool) -> None:
        for segment in session.stream.pop_segments():
            if session.sherpa:
                session.post({"text": segment.text, "segment": session.segment})
            else:
                session.post({"type": "final", "segment": session.segment, **subtitles.segment_json(segment)})
            session.segment += 1
            session.partial = ""
        if ended:
            if not session.sherpa:
                session.post({"type": "end", "segments": session.segment})
            session.post(None)
            self._sessions.discard(session)
            return
        growing = session.stream.segments()
        text = growing[-1].text if growing else ""
        if text != session.partial:
            session.partial = text
            if session.sherpa:
                session.post({"text": text, "segment": session.segment})
            else:
                session.post({"type": "partial", "segment": session.segment, "text": text})


def max_buffered_samples(sample_rate: int, seconds: float) -> int:
    return max(1, math.ceil(sample_rate * seconds))
