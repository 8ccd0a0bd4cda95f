"""The HTTP application: health check and the OpenAI-compatible transcription endpoint.

`POST /v1/audio/transcriptions` takes the multipart form OpenAI's API defines (`file`, `model`,
`response_format` json|text|srt|vtt|verbose_json; `language`, `prompt`, `temperature` are accepted and
ignored), so the official `openai` client and the tools built on it work unchanged. The event loop never runs
model work: each request's audio is recognized in a worker thread (the core releases the GIL).
"""

from __future__ import annotations

import asyncio
import hmac
import io
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from nemo_fast import subtitles
from nemo_fast.audio import read_audio
from nemo_fast.errors import NemoFastError
from nemo_fast.recognizer import Recognizer

log = logging.getLogger("nemo_fast.server")

RESPONSE_FORMATS = ("json", "text", "srt", "vtt", "verbose_json")
MAX_UPLOAD_BYTES = 200 * 2**20


@dataclass(frozen=True)
class ServerConfig:
    model_dir: Path
    host: str = "127.0.0.1"
    port: int = 6006
    threads: int = 1              # ONNX Runtime intra-op threads of one encoder call
    workers: int = 2              # requests recognized at once
    decoder: str | None = None
    token: str | None = None      # when set, requests need "Authorization: Bearer TOKEN"


def create_app(config: ServerConfig, recognizer: Recognizer | None = None):
    from aiohttp import web

    recognizer = recognizer or Recognizer(config.model_dir, decoder=config.decoder, num_threads=config.threads)
    pool = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="nemo_fast-decode")
    model_name = Path(config.model_dir).name

    def error(status: int, message: str, kind: str = "invalid_request_error"):
        return web.json_response({"error": {"message": message, "type": kind}}, status=status)

    @web.middleware
    async def bearer_token(request, handler):
        if config.token is not None and request.path != "/healthz":
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {config.token}".encode()):
                return error(401, "missing or wrong bearer token", "authentication_error")
        return await handler(request)

    async def healthz(request):
        return web.json_response({"status": "ok", "model": model_name})

    async def transcriptions(request):
        if not request.content_type.startswith("multipart/"):
            return error(400, "send the audio as multipart/form-data with a 'file' field")
        form = await request.post()
        upload = form.get("file")
        if upload is None or not hasattr(upload, "file"):
            return error(400, "the form has no 'file' field with the audio")
        response_format = str(form.get("response_format", "json"))
        if response_format not in RESPONSE_FORMATS:
            return error(400, f"response_format must be one of {', '.join(RESPONSE_FORMATS)}, "
                              f"got {response_format!r}")
        data = upload.file.read()
        try:
            audio, rate = read_audio(_Named(data, upload.filename or "upload"))
            segments = await asyncio.get_running_loop().run_in_executor(pool, recognizer.transcribe_segments, audio,
                                                                       rate)
        except NemoFastError as e:
            return error(400, str(e))
        duration = round(len(audio) / rate, 3)
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

    async def close_pool(app):
        pool.shutdown(wait=True)

    app = web.Application(middlewares=[bearer_token], client_max_size=MAX_UPLOAD_BYTES)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/v1/audio/transcriptions", transcriptions)
    app.on_cleanup.append(close_pool)
    return app


class _Named(io.BytesIO):
    """Uploaded bytes with the client's file name, for messages."""

    def __init__(self, data: bytes, name: str):
        super().__init__(data)
        self.name = name


def serve(config: ServerConfig) -> None:
    """Runs the server until SIGINT or SIGTERM."""
    from aiohttp import web

    app = create_app(config)

    async def main():
        runner = web.AppRunner(app, handle_signals=True)
        await runner.setup()
        site = web.TCPSite(runner, config.host, config.port)
        await site.start()
        port = runner.addresses[0][1]  # the bound port: with --port 0 the system picks one
        print(f"nemo-fast serve: listening on http://{config.host}:{port}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(main())
    except (KeyboardInterrupt, web.GracefulExit):
        pass
