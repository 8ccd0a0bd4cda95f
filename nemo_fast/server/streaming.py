"""Streaming recognition over WebSocket: one decode loop (a worker thread) owns every connection's stream and
decodes the ready chunks of all of them together with `decode_streams`, so capacity grows with batching; the
event loop only moves bytes and JSON.

Two protocols share the port:
- sherpa-onnx's (path `/`): binary messages of little-endian float32 mono samples at 16 kHz, the text `Done` to
  end; replies `{"text": ..., "segment": N}` whenever the current segment's text changes, as sherpa-onnx's Python
  streaming server sends them.
- nemo_fast's, version 1 (path `/v1/stream`): a first text message `{"sample_rate": 16000, "encoding":
  "s16le"|"f32le"}` (optionally `decoder`, `endpoint` rules, `progress`, `hotwords` for a beam-search server:
  phrases or [phrase, boost] pairs for this stream), then binary audio, then the text
  `{"type": "end"}` (or `Done`); events `ready`, `partial` (segment, text), `final` (segment, start, end, text,
  words with times and confidences), `progress` (when asked: the seconds of audio a decode had) and, at the end
  of the input, `end`, after which the server closes the connection (1000).
"""

from __future__ import annotations

import asyncio
import json
import math
import queue
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from nemo_fast import subtitles
from nemo_fast.audio import PCM_ENCODINGS, raw_pcm
from nemo_fast.errors import AudioError, ConfigError, NemoFastError
from nemo_fast.options import hotword_list

PROTOCOL = "nemo_fast.v1"


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
    endpoint: object = None  # EndpointConfig for this stream; None: the recognizer's
    progress: bool = False   # post a `progress` event after each decode
    fed_samples: int = 0     # audio given to the stream (decode loop thread)
    outbox: asyncio.Queue = field(default_factory=asyncio.Queue)
    buffered_samples: int = 0  # sent to the decode loop, not yet fed to the stream
    drained: asyncio.Event = field(default_factory=asyncio.Event)
    stream: object = None
    segment: int = 0  # segments finished so far

    def consumed(self, samples: int) -> None:
        """The decode loop has fed these samples (runs on the event loop)."""
        self.buffered_samples -= samples
        self.drained.set()

    def post(self, event: dict | None) -> None:
        """Hands an event (None: the end) to the connection's sender; callable from any thread."""
        self.loop.call_soon_threadsafe(self.outbox.put_nowait, event)


def parse_audio(data: bytes, encoding: str) -> np.ndarray:
    try:
        return raw_pcm(data, encoding)
    except AudioError as e:
        raise ProtocolError(1007, f"an audio message: {e}") from None


@dataclass(frozen=True)
class StartSettings:
    """The first message of the nemo_fast protocol."""

    sample_rate: int
    encoding: str
    endpoint: object = None  # EndpointConfig for this stream; None: the server's
    progress: bool = False   # a `progress` event after each decode of the stream
    hotwords: list | None = None  # this stream's hotwords (a beam-search server); None: the server's


ENDPOINT_RULE_FIELDS = {"must_contain_speech": bool, "min_trailing_silence": (int, float),
                        "min_segment_length": (int, float)}


def parse_start(text: str, model_rate: int, decoder: str, endpoint, decoding: str = "greedy") -> StartSettings:
    """Checks the first message of the nemo_fast protocol against the server's model (its sample rate, its
    decoder, its decoding) and applies its endpoint settings over the server's (`endpoint`, an EndpointConfig)."""
    try:
        start = json.loads(text)
    except ValueError as e:
        raise ProtocolError(1007, f"the first message must be JSON: {e}") from e
    except RecursionError as e:
        raise ProtocolError(1007, "the first message must be a JSON object of settings (this one nests too "
                                  "deeply)") from e
    if not isinstance(start, dict):
        raise ProtocolError(1007, "the first message must be a JSON object")
    unknown = sorted(set(start) - {"sample_rate", "encoding", "decoder", "endpoint", "progress", "hotwords"})
    if unknown:
        raise ProtocolError(1007, f"unknown settings: {', '.join(unknown)} (protocol {PROTOCOL}: sample_rate, "
                                  "encoding, decoder, endpoint, progress, hotwords)")
    rate = start.get("sample_rate", model_rate)
    encoding = start.get("encoding", "s16le")
    if not isinstance(rate, int) or isinstance(rate, bool) or not 1000 <= rate <= 768000:
        raise ProtocolError(1007, f"sample_rate must be an integer from 1000 to 768000, got {rate!r}")
    if not isinstance(encoding, str) or encoding not in PCM_ENCODINGS:
        raise ProtocolError(1007, f"encoding must be one of {', '.join(PCM_ENCODINGS)}, got {encoding!r}"[:200])
    if start.get("decoder", decoder) != decoder:
        raise ProtocolError(1007, f"this server decodes with {decoder!r}, not {start['decoder']!r}"[:200] +
                                  " (choose the head with nemo-fast serve --decoder)")
    progress = start.get("progress", False)
    if not isinstance(progress, bool):
        raise ProtocolError(1007, f"progress must be true or false, got {progress!r}")
    hotwords = _hotwords(start["hotwords"], decoding) if "hotwords" in start else None
    if "endpoint" in start:
        endpoint = _endpoint(start["endpoint"], endpoint)
        return StartSettings(rate, encoding, endpoint, progress, hotwords)
    return StartSettings(rate, encoding, progress=progress, hotwords=hotwords)


def _hotwords(value, decoding: str) -> list:
    """The `hotwords` setting: phrases, or [phrase, boost] pairs (checked as the Python API checks them)."""
    if decoding != "beam":
        raise ProtocolError(1007, "hotwords need beam search: this server decodes greedily (nemo-fast serve "
                                  "--decoding beam)")
    if not isinstance(value, list):
        raise ProtocolError(1007, "hotwords must be a list of phrases or [phrase, boost] pairs")
    try:
        return hotword_list(value)
    except ConfigError as e:
        raise ProtocolError(1007, str(e)) from None


def _endpoint(settings, base):
    """A copy of `base` (EndpointConfig) with `settings` ({"enabled": bool, "rule1".."rule3": {field: value}})
    applied."""
    from nemo_fast.recognizer import EndpointConfig, EndpointRule

    if not isinstance(settings, dict):
        raise ProtocolError(1007, "endpoint must be a JSON object")
    unknown = sorted(set(settings) - {"enabled", "rule1", "rule2", "rule3"})
    if unknown:
        raise ProtocolError(1007, f"unknown endpoint settings: {', '.join(unknown)} (enabled, rule1, rule2, rule3)")
    enabled = settings.get("enabled", base.enabled)
    if not isinstance(enabled, bool):
        raise ProtocolError(1007, f"endpoint.enabled must be true or false, got {enabled!r}")
    rules = []
    for name in ("rule1", "rule2", "rule3"):
        old = getattr(base, name)
        fields = {f: getattr(old, f) for f in ENDPOINT_RULE_FIELDS}
        given = settings.get(name, {})
        if not isinstance(given, dict):
            raise ProtocolError(1007, f"endpoint.{name} must be a JSON object")
        for key, value in given.items():
            kind = ENDPOINT_RULE_FIELDS.get(key)
            if kind is None:
                raise ProtocolError(1007, f"unknown field endpoint.{name}.{key} ({', '.join(ENDPOINT_RULE_FIELDS)})")
            if not isinstance(value, kind) or (kind is not bool and (isinstance(value, bool) or
                                                                    not 0 <= value < math.inf)):
                raise ProtocolError(1007, f"endpoint.{name}.{key} must be "
                                          f"{'true or false' if kind is bool else 'a number of seconds >= 0'}, "
                                          f"got {value!r}")
            fields[key] = value
        rules.append(EndpointRule(**fields))
    config = EndpointConfig(enabled=enabled, rule1=rules[0], rule2=rules[1], rule3=rules[2])
    try:
        config.validate()
    except NemoFastError as e:
        raise ProtocolError(1007, f"endpoint: {e}") from e
    return config


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
        if self.metrics is not None:
            self.metrics.waiting_audio_seconds.inc(len(samples) / session.sample_rate)
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
                for session in ready:
                    if session.progress:  # the audio this decode had: clients measure their latency with it
                        session.post({"type": "progress", "seconds": session.fed_samples / session.sample_rate})
            for session in live:
                self._publish(session, ended=touched[session])

    def _apply(self, kind: str, session: Session, samples, touched: dict) -> None:
        if kind == "audio" and self.metrics is not None:  # taken, whether fed or dropped with its session
            self.metrics.waiting_audio_seconds.dec(len(samples) / session.sample_rate)
        if kind == "open":
            if session.stream is None:  # (a stream with its own hotwords was made when the settings came)
                session.stream = self.recognizer.create_stream(session.endpoint)
            self._sessions.add(session)
        elif kind == "drop":
            self._sessions.discard(session)
            touched.pop(session, None)
        elif session in self._sessions:
            if kind == "audio":
                session.stream.accept_waveform_only(samples, session.sample_rate)
                session.fed_samples += len(samples)
                session.loop.call_soon_threadsafe(session.consumed, len(samples))
                touched.setdefault(session, False)
            elif kind == "end":
                session.stream.input_finished_only()
                touched[session] = True

    def _decode(self, sessions: list[Session]) -> None:
        start = time.perf_counter()
        self.recognizer.decode_streams([s.stream for s in sessions])
        if self.metrics is not None:
            self.metrics.decoded(len(sessions), time.perf_counter() - start)

    def _publish(self, session: Session, ended: bool) -> None:
        update = session.stream.pop_update()
        for index, segment in enumerate(update.finals, start=update.first_segment):
            if session.sherpa:
                session.post({"text": segment.text, "segment": index})
            else:
                session.post({"type": "final", "segment": index, **subtitles.segment_json(segment)})
            if self.metrics is not None:
                self.metrics.segments.inc()
        session.segment = update.partial_segment
        if ended:
            if not session.sherpa:
                session.post({"type": "end", "segments": update.partial_segment})
            session.post(None)
            self._sessions.discard(session)
            return
        if update.partial is not None:
            if session.sherpa:
                session.post({"text": update.partial, "segment": update.partial_segment})
            else:
                session.post({"type": "partial", "segment": update.partial_segment, "text": update.partial})


def max_buffered_samples(sample_rate: int, seconds: float) -> int:
    return max(1, math.ceil(sample_rate * seconds))
