"""The HTTP application: health check, the OpenAI-compatible transcription endpoint and streaming recognition over
WebSocket (nemo_fast.server.streaming: sherpa-onnx's protocol on `/`, nemo_fast's on `/v1/stream`).

`POST /v1/audio/transcriptions` takes the multipart form OpenAI's API defines (`file`, `model`,
`response_format` json|text|srt|vtt|verbose_json; `language`, `prompt`, `temperature` are accepted and
ignored), so the official `openai` client and the tools built on it work unchanged. The event loop never runs
model work: each request's audio is recognized in a worker thread (the core releases the GIL).
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import io
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from nemo_fast import subtitles
from nemo_fast.audio import read_audio
from nemo_fast.errors import ConfigError, NemoFastError
from nemo_fast.options import RecognizerOptions
from nemo_fast.recognizer import Recognizer
from nemo_fast.server.logs import LOGGER, event
from nemo_fast.server.metrics import ServerMetrics
from nemo_fast.server.streaming import (
    PROTOCOL,
    DecodeLoop,
    ProtocolError,
    Session,
    StartSettings,
    max_buffered_samples,
    parse_audio,
    parse_start,
)

log = logging.getLogger(LOGGER)

RESPONSE_FORMATS = ("json", "text", "srt", "vtt", "verbose_json")


@dataclass(frozen=True)
class ServerConfig:
    model_dir: Path
    # The recognizer's options (decoder, threads, providers, max_batch_size: on a GPU, as many as max_connections;
    # decoding, beam, LM, hotwords)
    recognizer: RecognizerOptions = RecognizerOptions()
    host: str = "127.0.0.1"
    port: int = 6006
    workers: int = 2              # requests recognized at once
    token: str | None = None      # when set, requests need "Authorization: Bearer TOKEN" (WebSocket: or ?token=)
    max_connections: int = 64     # WebSocket streams at once; more are refused with 1013
    max_message_bytes: int = 2**20  # one WebSocket message; larger ones close the connection with 1009
    max_upload_bytes: int = 200 * 2**20  # one POST /v1/audio/transcriptions; larger ones get 413
    idle_timeout: float = 30.0    # seconds a WebSocket client may send nothing before it is closed (1008)
    max_buffered_seconds: float = 10.0  # audio a connection may have waiting for the decode loop; then it waits
    shutdown_timeout: float = 10.0  # seconds the shutdown waits for each stream's finals


def create_app(config: ServerConfig, recognizer: Recognizer | None = None):
    """The aiohttp application: the OpenAI-compatible endpoint, the two streaming protocols, the page, health and
    metrics, behind the bearer token."""
    from aiohttp import web

    server = _Server(config, recognizer or Recognizer(config.model_dir, config.recognizer))
    app = web.Application(middlewares=[server.bearer_token], client_max_size=config.max_upload_bytes)
    app.router.add_get("/healthz", server.healthz)
    app.router.add_get("/metrics", server.metrics_page)
    app.router.add_post("/v1/audio/transcriptions", server.transcriptions)
    app.router.add_get("/", server.sherpa_or_page)
    app.router.add_get("/v1/stream", server.v1_stream)
    app.on_shutdown.append(server.finish_streams)
    app.on_cleanup.append(server.close_pool)
    app["metrics"] = server.metrics
    app["recognizer"] = server.recognizer
    return app


def _error(status: int, message: str, kind: str = "invalid_request_error"):
    from aiohttp import web

    return web.json_response({"error": {"message": message, "type": kind}}, status=status)


def _too_large(message: str):
    """A 413 that closes the connection: the body announced is not waited for."""
    refused = _error(413, message)
    refused.force_close()
    return refused


class _Server:
    """One server's state (recognizer, decode workers, decode loop, open streams, metrics) and its handlers."""

    def __init__(self, config: ServerConfig, recognizer: Recognizer):
        from aiohttp import web

        self.config = config
        self.recognizer = recognizer
        self.pool = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="nemo_fast-decode")
        _keep_large_buffers_out_of_the_heap()
        self.model_name = Path(config.model_dir).name
        self.metrics = ServerMetrics()
        self.decode_loop = DecodeLoop(recognizer, self.metrics)
        self.connections: dict = {}  # WebSocketResponse -> Connection, for the shutdown
        self.trim_scheduled = None  # the pending release of free memory, if any

        @web.middleware
        async def bearer_token(request, handler):
            return await self._bearer_token(request, handler)

        self.bearer_token = bearer_token

    async def _bearer_token(self, request, handler):
        token = self.config.token
        if token is not None and request.path != "/healthz":
            given = request.headers.get("Authorization", "")
            # A browser sets no header on a WebSocket or on opening the page, so those two may carry the token in
            # the query; API requests may not (a token in a URL ends up in proxies' logs and histories).
            from_browser = request.headers.get("Upgrade", "").lower() == "websocket" or (
                request.method == "GET" and request.path == "/")
            if from_browser and "token" in request.query and not given:
                given = f"Bearer {request.query['token']}"
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                self.metrics.rejected.labels("unauthorized").inc()
                event(log, "request refused", logging.WARNING, peer=request.remote, path=request.path,
                      reason="missing or wrong bearer token")
                return _error(401, "missing or wrong bearer token", "authentication_error")
        return await handler(request)

    async def healthz(self, request):
        from aiohttp import web

        return web.json_response({"status": "ok", "model": self.model_name})

    async def metrics_page(self, request):
        from aiohttp import web

        return web.Response(body=self.metrics.render(), headers={"Content-Type": self.metrics.content_type})

    async def transcriptions(self, request):
        start = time.monotonic()
        response = await self._transcribe_request(request)
        self.metrics.transcriptions.labels(str(response.status)).inc()
        event(log, "transcription", peer=request.remote, status=response.status,
              seconds=round(time.monotonic() - start, 3))
        return response

    async def _transcribe_request(self, request):
        from aiohttp import web
        from aiohttp.http_exceptions import HttpProcessingError

        limit = self.config.max_upload_bytes
        if not request.content_type.startswith("multipart/"):
            return _error(400, "send the audio as multipart/form-data with a 'file' field")
        if request.content_length is not None and request.content_length > limit:
            return _too_large(f"the upload is {request.content_length} bytes, more than the server takes "
                              f"({limit}; nemo-fast serve --max-upload-mb)")  # before reading it
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:  # no Content-Length (chunked): found while reading
            return _too_large(f"the upload is more than the server takes ({limit} bytes; nemo-fast serve "
                              "--max-upload-mb)")
        except HttpProcessingError as e:  # a malformed part (a header with a NUL, a bad boundary): the client's
            return _error(400, f"the multipart form is malformed: {e.message}")
        except ValueError as e:
            return _error(400, f"the multipart form is malformed: {e}")
        except ConnectionResetError:
            return _error(400, "the client went away before the upload was complete")  # nobody reads it
        upload = form.get("file")
        if upload is None or not hasattr(upload, "file"):
            return _error(400, "the form has no 'file' field with the audio")
        response_format = str(form.get("response_format", "json"))
        if response_format not in RESPONSE_FORMATS:
            return _error(400, f"response_format must be one of {', '.join(RESPONSE_FORMATS)}, "
                               f"got {response_format!r}")
        data = upload.file.read()
        try:
            audio, rate = read_audio(_Named(data, upload.filename or "upload"))
            segments = await asyncio.get_running_loop().run_in_executor(
                self.pool, self.recognizer.transcribe_segments, audio, rate)
        except NemoFastError as e:
            return _error(400, str(e))
        duration = round(len(audio) / rate, 3)
        del data, audio
        if duration > 600:  # the buffers of a long upload are freed; hand the allocator's free pages back
            _release_free_memory()
        return _transcription_response(segments, response_format, duration)

    async def sherpa_or_page(self, request):
        from aiohttp import web

        if web.WebSocketResponse().can_prepare(request).ok:
            return await self._stream_socket(request, sherpa=True)
        return web.Response(text=_demo_page(), content_type="text/html")

    async def v1_stream(self, request):
        return await self._stream_socket(request, sherpa=False)

    def _trim_after_last_stream(self) -> None:
        self.trim_scheduled = None
        if not self.connections:
            _release_free_memory()

    async def _stream_socket(self, request, sherpa: bool):
        from aiohttp import web

        protocol = "sherpa-onnx" if sherpa else PROTOCOL
        ws = web.WebSocketResponse(max_msg_size=self.config.max_message_bytes)
        await ws.prepare(request)
        if len(self.connections) >= self.config.max_connections:
            self.metrics.rejected.labels("server_full").inc()
            event(log, "stream refused", logging.WARNING, peer=request.remote, protocol=protocol, code=1013,
                  reason="server full")
            await ws.close(code=1013, message=b"server full: too many streams, try again later")
            return ws
        conn = Connection()
        self.connections[ws] = conn
        self.metrics.streams.labels(protocol).inc()
        self.metrics.open_streams.labels(protocol).inc()
        opened = time.monotonic()
        try:
            await self._serve_stream(ws, conn, sherpa, request.remote)
        except ProtocolError as e:
            self.metrics.rejected.labels("protocol_error").inc()
            conn.closed_with(e.code, str(e))
            # A close reason is at most 123 bytes of UTF-8: cut on a character boundary.
            await ws.close(code=e.code, message=str(e).encode()[:120].decode("utf-8", "ignore").encode())
        except asyncio.TimeoutError:
            self.metrics.rejected.labels("idle_timeout").inc()
            conn.closed_with(1008, "idle timeout")
            await ws.close(code=1008, message=b"idle timeout")
        finally:
            await self._forget(ws, conn, protocol)
            rate = conn.session.sample_rate if conn.session else self.recognizer.sample_rate
            event(log, "stream closed", peer=request.remote, protocol=protocol, code=conn.close_code,
                  reason=conn.close_reason, audio_seconds=round(conn.received / rate, 3),
                  segments=conn.session.segment if conn.session else 0, seconds=round(time.monotonic() - opened, 3))
        return ws

    async def _serve_stream(self, ws, conn: Connection, sherpa: bool, peer) -> None:
        """The settings (nemo_fast's protocol), then audio until the end message, the client's close or the
        shutdown."""
        from aiohttp import WSCloseCode, web

        closed = {web.WSMsgType.CLOSE, web.WSMsgType.CLOSING, web.WSMsgType.CLOSED, web.WSMsgType.ERROR}
        recognizer, config = self.recognizer, self.config
        settings = StartSettings(recognizer.sample_rate, "f32le")
        if not sherpa:
            first = await _receive(ws, config.idle_timeout)
            if first.type in closed:  # the client left, or the server is shutting down
                conn.closed_with(ws.close_code, "closed before the settings")
                return
            if first.type != web.WSMsgType.TEXT:
                raise ProtocolError(1003, "the first message must be the JSON settings")
            settings = parse_start(first.data, recognizer.sample_rate, recognizer.decoder, recognizer.endpoint,
                                   recognizer.decoding)
        session = await self._open_session(settings, sherpa)
        conn.session = session
        self.decode_loop.open(session)
        conn.sender = asyncio.create_task(_send_events(ws, session))
        event(log, "stream opened", peer=peer, protocol="sherpa-onnx" if sherpa else PROTOCOL,
              sample_rate=settings.sample_rate, encoding=settings.encoding)
        if not sherpa:
            session.post({"type": "ready", "protocol": PROTOCOL, "sample_rate": settings.sample_rate})
        limit = max_buffered_samples(settings.sample_rate, config.max_buffered_seconds)
        while True:
            message = await _receive(ws, config.idle_timeout)
            if conn.input_ended:  # the server is shutting down: it ends the input and sends the finals
                return
            if message.type == web.WSMsgType.BINARY:
                samples = parse_audio(message.data, settings.encoding)
                while session.buffered_samples + len(samples) > limit and session.buffered_samples > 0:
                    session.drained.clear()  # backpressure: stop reading until the decode loop catches up
                    self.metrics.backpressure.inc()
                    await session.drained.wait()
                if conn.input_ended:
                    return
                self.decode_loop.audio(session, samples)
                conn.received += len(samples)
                self.metrics.audio_seconds.inc(len(samples) / settings.sample_rate)
            elif message.type == web.WSMsgType.TEXT:
                if message.data == "Done" or (not sherpa and _is_end(message.data)):
                    await conn.finish(self.decode_loop)  # every final is sent before the connection closes
                    conn.closed_with(1000, "end of input")
                    await ws.close(code=1000, message=b"end of input")
                    return
                raise ProtocolError(1003, "expected binary audio or the end message")
            else:  # closed, or an error such as a message over max_message_bytes
                if getattr(ws.exception(), "code", None) == WSCloseCode.MESSAGE_TOO_BIG:
                    self.metrics.rejected.labels("message_too_big").inc()
                conn.closed_with(ws.close_code, "client closed")
                return

    async def _open_session(self, settings: StartSettings, sherpa: bool) -> Session:
        session = Session(sample_rate=settings.sample_rate, sherpa=sherpa, loop=asyncio.get_running_loop(),
                          endpoint=settings.endpoint, progress=settings.progress)
        if settings.hotwords is not None:
            try:  # made here, so that a phrase the model cannot spell is this client's error; in a worker: a
                # long list takes a while, and the event loop serves every other connection meanwhile
                session.stream = await asyncio.get_running_loop().run_in_executor(
                    self.pool, functools.partial(self.recognizer.create_stream, settings.endpoint,
                                                 hotwords=settings.hotwords))
            except ConfigError as e:
                raise ProtocolError(1007, str(e)) from e
        return session

    async def _forget(self, ws, conn: Connection, protocol: str) -> None:
        """A stream's connection ended: it leaves the server's books and the decode loop."""
        if conn.shutting_down:
            await conn.finished.wait()  # the shutdown is sending this stream's finals
            conn.closed_with(1001, "server shutting down")
        self.connections.pop(ws, None)
        self.metrics.open_streams.labels(protocol).dec()
        if not self.connections and self.trim_scheduled is None:
            # The last stream is gone: once the decode loop has dropped it, the heap's free pages go back to the
            # system (a burst of connections would otherwise keep its peak for good).
            self.trim_scheduled = asyncio.get_running_loop().call_later(1.0, self._trim_after_last_stream)
        if conn.session is not None and not conn.input_ended:  # the client left or broke the protocol
            self.decode_loop.drop(conn.session)
            if conn.sender is not None:
                conn.sender.cancel()

    async def finish_streams(self, app):
        """SIGTERM: every open stream's input ends, its last words are decoded and sent as finals, then the
        connection closes with 1001."""
        streams = [(ws, c) for ws, c in self.connections.items() if c.session is not None and not c.input_ended]
        event(log, "shutting down", open_streams=len(self.connections))
        timeout = self.config.shutdown_timeout

        async def finish(ws, conn):
            conn.shutting_down = True
            try:
                await asyncio.wait_for(conn.finish(self.decode_loop), timeout)
            except asyncio.TimeoutError:
                event(log, "finals not sent in time", logging.WARNING, timeout=timeout)
            await ws.close(code=1001, message=b"server shutting down")
            conn.finished.set()

        await asyncio.gather(*(finish(ws, c) for ws, c in streams))
        for ws, conn in list(self.connections.items()):  # still waiting for the first message
            conn.shutting_down = True
            await ws.close(code=1001, message=b"server shutting down")
            conn.finished.set()

    async def close_pool(self, app):
        self.decode_loop.stop()
        self.pool.shutdown(wait=True)


def _transcription_response(segments, response_format: str, duration: float):
    """The OpenAI-compatible reply in the format asked for."""
    from aiohttp import web

    text = " ".join(s.text for s in segments)
    if response_format == "text":
        return web.Response(text=text + "\n")
    if response_format == "json":
        return web.json_response({"text": text})
    cues = [c for s in segments for c in subtitles.cues(s)]
    if response_format == "srt":
        return web.Response(text=subtitles.to_srt(cues), content_type="application/x-subrip")
    if response_format == "vtt":
        return web.Response(text=subtitles.to_vtt(cues), content_type="text/vtt")
    return web.json_response({
        "task": "transcribe", "language": "en", "duration": duration, "text": text,
        "segments": [{"id": i, **subtitles.segment_json(s)} for i, s in enumerate(segments)],
        "words": [{"word": w.text, "start": round(w.start, 3), "end": round(w.end, 3)}
                  for s in segments for w in s.words],
    })  # fmt: skip


class Connection:
    """A WebSocket stream as the server tracks it, so that the shutdown can end it."""

    def __init__(self):
        self.session: Session | None = None
        self.sender: asyncio.Task | None = None
        self.input_ended = False  # no audio may follow
        self.shutting_down = False  # the shutdown ends this stream
        self.finished = asyncio.Event()  # the shutdown has sent its finals and closed it
        self.received = 0  # samples
        self.close_code: int | None = None
        self.close_reason = ""

    def closed_with(self, code: int | None, reason: str) -> None:
        self.close_code, self.close_reason = code, reason

    async def finish(self, decode_loop) -> None:
        """Ends the input and waits until every final has been sent."""
        self.input_ended = True
        decode_loop.end(self.session)
        await asyncio.shield(self.sender)


async def _receive(ws, timeout: float):
    return await asyncio.wait_for(ws.receive(), timeout)


def _is_end(text: str) -> bool:
    try:
        return json.loads(text) == {"type": "end"}
    except (ValueError, RecursionError):
        return False


async def _send_events(ws, session) -> None:
    """Sends the session's events in order until its end (None)."""
    while True:
        message = await session.outbox.get()
        if message is None:
            return
        if not ws.closed:
            await ws.send_str(json.dumps(message, ensure_ascii=False))


def _glibc():
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


def _keep_large_buffers_out_of_the_heap() -> None:
    """glibc raises its mmap threshold to the size of each large block freed (up to 32 MB), so that after one
    long upload, buffers of megabytes live in the heap, where they fragment it and stay. A fixed threshold keeps
    every buffer of 1 MB or more mapped on its own and returned to the system when freed."""
    libc = _glibc()
    if libc is not None:
        libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD


def _release_free_memory() -> None:
    """Returns the heap's free pages to the system (glibc keeps them for reuse)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def _demo_page() -> str:
    return (Path(__file__).parent / "demo.html").read_text(encoding="utf-8")


class _Named(io.BytesIO):
    """Uploaded bytes with the client's file name, for messages."""

    def __init__(self, data: bytes, name: str):
        super().__init__(data)
        self.name = name


def serve(config: ServerConfig) -> None:
    """Runs the server until SIGINT or SIGTERM, then ends every open stream, sends its finals and closes it
    with 1001."""
    import signal

    from aiohttp import web

    app = create_app(config)

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=config.shutdown_timeout + 5)
        await runner.setup()
        site = web.TCPSite(runner, config.host, config.port)
        await site.start()
        port = runner.addresses[0][1]  # the bound port: with --port 0 the system picks one
        print(f"nemo-fast serve: listening on http://{config.host}:{port}", flush=True)
        recognizer = app["recognizer"]  # where it runs: a provider list ending in cpu may have fallen back to it
        event(log, "listening", host=config.host, port=port, model=str(config.model_dir),
              providers=recognizer.providers, cache_memory=recognizer.cache_memory,
              max_batch_size=recognizer.max_batch_size)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()  # on_shutdown sends the finals before connections are closed
        event(log, "stopped")

    asyncio.run(main())
