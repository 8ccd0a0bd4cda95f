"""Fault sweep of the OpenAI-compatible endpoint (`POST /v1/audio/transcriptions`) with requests written by
hand: lying sizes (the request's and a part's), uploads past the limit, what is not audio, client file names
that try to reach outside (path traversal, NUL, 1,000 bytes), the token in the query instead of the header, and
a one-hour upload. Each gets a status with a message; the server keeps serving and its memory comes back."""

from __future__ import annotations

import io
import json
import os
import socket
import threading
import time
import urllib.request
import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import require_module
from server_process import start_server

import nemo_fast
from nemo_fast.audio import read_audio

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "speech_example.wav"
TOKEN = "openai-fault-token"
SANITIZED = os.environ.get("NEMO_FAST_SANITIZED") == "1"
BOUNDARY = "nemofastboundary"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_module("aiohttp")
    folder = tmp_path_factory.mktemp("server")
    server = start_server(folder, env={"NEMO_FAST_TOKEN": TOKEN})
    server.folder = folder
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def expected():
    return nemo_fast.Recognizer(ROOT / "models" / "default").transcribe(EXAMPLE).text


def _form(audio: bytes, filename: str = "a.wav", part_headers: str = "", fields: dict | None = None) -> bytes:
    body = b""
    for name, value in (fields or {"response_format": "json"}).items():
        body += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").encode()
    body += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
             f"Content-Type: application/octet-stream\r\n{part_headers}\r\n").encode("utf-8", "surrogateescape")
    return body + audio + f"\r\n--{BOUNDARY}--\r\n".encode()


def _request(address: str, body: bytes, path: str = "/v1/audio/transcriptions", content_length: int | None = None,
             headers: dict | None = None, send_body: bytes | None = None, timeout: float = 120) -> tuple[int, dict]:
    """(status, JSON body; {} when it is not JSON) of a POST written by hand."""
    host, port = address.rsplit(":", 1)
    head = {"Host": address, "Authorization": f"Bearer {TOKEN}", "Connection": "close",
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(len(body) if content_length is None else content_length), **(headers or {})}
    head = {k: v for k, v in head.items() if v is not None}
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\n".encode() + "".join(f"{k}: {v}\r\n" for k, v in head.items()).encode()
                     + b"\r\n")
        try:
            sock.sendall(body if send_body is None else send_body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered before reading it all
        response = b""
        try:  # up to the end of the response (its Content-Length), not the server's close
            while chunk := sock.recv(65536):
                response += chunk
                head, _, payload = response.partition(b"\r\n\r\n")
                length = [int(line.split(b":")[1]) for line in head.lower().split(b"\r\n")
                          if line.startswith(b"content-length:")]
                if _ and length and len(payload) >= length[0]:
                    break
        except ConnectionResetError:
            pass
    head, _, payload = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, {"raw": payload[:200]}


def _wav(samples: np.ndarray, rate: int = 16000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())
    return out.getvalue()


def _serves(server, expected) -> None:
    status, body = _request(server.address, _form(EXAMPLE.read_bytes()))
    assert status == 200 and body["text"] == expected, (status, body)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_a_request_shorter_than_its_content_length_holds_only_its_own_connection(server, expected):
    """A client that announces more bytes than it sends and waits: other requests are answered meanwhile;
    when it goes away the server forgets it."""
    host, port = server.address.rsplit(":", 1)
    body = _form(EXAMPLE.read_bytes())
    liar = socket.create_connection((host, int(port)), timeout=10)
    liar.sendall((f"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: {server.address}\r\nAuthorization: Bearer "
                  f"{TOKEN}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: "
                  f"{len(body) + 100_000}\r\n\r\n").encode() + body)
    _serves(server, expected)
    liar.close()
    _serves(server, expected)


def test_a_content_length_shorter_than_the_body_is_a_bad_request(server, expected):
    body = _form(EXAMPLE.read_bytes())
    status, answer = _request(server.address, body, content_length=len(body) // 2)
    assert status == 400, (status, answer)
    _serves(server, expected)


@pytest.mark.parametrize("claimed", ["10", "999999999"])
def test_a_part_that_lies_about_its_length_is_a_bad_request_or_read_as_sent(server, expected, claimed):
    """A Content-Length inside the file part is not what the multipart reader trusts: the part ends at the
    boundary, so the audio is read as sent (or, where the claim cuts it, refused), never a server error."""
    status, answer = _request(server.address, _form(EXAMPLE.read_bytes(), part_headers=f"Content-Length: {claimed}\r\n"))
    assert (status == 200 and answer["text"] == expected) or status == 400, (status, answer)
    _serves(server, expected)


def test_an_upload_announced_past_the_limit_is_refused_before_it_is_read(server, expected):
    started = time.monotonic()
    status, answer = _request(server.address, b"", content_length=10 * 2**30, send_body=b"x" * 1000)
    assert status == 413 and time.monotonic() - started < 10, (status, answer)
    _serves(server, expected)


NOT_AUDIO = {
    "text": b"hello, this is not audio\n" * 50,
    "png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
    "empty": b"",
    "wav_header_only": _wav(np.zeros(0, np.int16))[:44],
    "wav_claiming_more_than_it_holds": _wav(np.zeros(1600, np.int16))[:40] + (2**31 - 1).to_bytes(4, "little")
    + b"\x00" * 3200,
    "random": np.random.default_rng(3).bytes(50_000),
}


@pytest.mark.parametrize("name", NOT_AUDIO)
def test_what_is_not_audio_gets_400_with_a_message(server, expected, name):
    status, answer = _request(server.address, _form(NOT_AUDIO[name], filename=f"{name}.wav"))
    if name.startswith("wav_"):  # a WAV of no samples, or one whose header overstates its data: what is there
        assert status == 200 and answer["text"] == "", (status, answer)
    else:
        assert status == 400 and answer["error"]["message"], (status, answer)
    _serves(server, expected)


@pytest.mark.parametrize("filename", ["../../../../tmp/nemo_fast_traversal.wav", "..\\..\\evil.wav",
                                      "/etc/passwd", "a\x00b.wav", "x." + "y" * 1000, "\udcff\udcfe.flac",
                                      "speech.m4a/../../escape.wav"])  # fmt: skip
def test_client_file_names_are_only_names(server, expected, filename, tmp_path):
    """The name is used in messages and for the extension of ffmpeg's temporary copy, never as a path: every
    name gives the transcript, and nothing is written outside the temporary folder."""
    before = set(Path("/tmp").iterdir())
    status, answer = _request(server.address, _form(EXAMPLE.read_bytes(), filename=filename))
    if "\x00" in filename:  # not a valid header: refused by the multipart reader
        assert status == 400 and "multipart form is malformed" in answer["error"]["message"], (status, answer)
        return
    assert status == 200 and answer["text"] == expected, (status, answer)
    status, answer = _request(server.address, _form(NOT_AUDIO["png"], filename=filename))
    assert status == 400 and "error" in answer, (status, answer)
    assert not Path("/tmp/nemo_fast_traversal.wav").exists()
    assert not list(server.folder.parent.glob("escape*")) and not list(server.folder.glob("**/*.wav"))
    assert {p for p in set(Path("/tmp").iterdir()) - before if p.suffix in (".wav", ".flac", ".m4a")} == set()


def test_the_token_goes_in_the_header_not_the_query(server):
    body = _form(EXAMPLE.read_bytes())
    status, _ = _request(server.address, body, path=f"/v1/audio/transcriptions?token={TOKEN}",
                         headers={"Authorization": None})  # fmt: skip
    assert status == 401  # a token in a URL lands in proxies' logs: only the browser's WebSocket may
    status, _ = _request(server.address, body, headers={"Authorization": "Bearer wrong"},
                         path=f"/v1/audio/transcriptions?token={TOKEN}")  # fmt: skip
    assert status == 401
    request = urllib.request.Request(f"http://{server.address}/metrics?token={TOKEN}")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
    with urllib.request.urlopen(f"http://{server.address}/?token={TOKEN}", timeout=10) as page:  # the browser page
        assert page.status == 200
    log = server.log_path.read_text()
    assert TOKEN not in log  # refused requests are logged without their query


def test_a_one_hour_upload_is_transcribed_while_others_are_served_and_its_memory_returned(server, expected):
    """An hour of speech and pauses (115 MB of 16-bit WAV) in one request: the health check and another
    request are answered while it is recognized, it comes back with every repetition's words, and the
    server's memory after it is within 10% of what it was after a first long (15-minute) upload."""
    clip, _ = read_audio(EXAMPLE)
    hours = 0.1 if SANITIZED else 1.0
    unit = np.concatenate([clip, np.zeros(16000, np.int16)])
    repeats = int(hours * 3600 * 16000 // len(unit))
    audio = _wav(np.tile(unit, repeats))
    _serves(server, expected)
    # The warm-up, as the hour below: a long upload with a short request beside it (both pool threads, each
    # with its allocator arena, have worked before the baseline is taken).
    warm_up = threading.Thread(target=_request, args=(server.address, _form(_wav(np.tile(unit, repeats // 4)), fields={
        "response_format": "verbose_json"})), kwargs={"timeout": 900})
    warm_up.start()
    time.sleep(1)
    _serves(server, expected)
    warm_up.join()
    baseline = _rss_kib(server.process.pid)
    result: dict = {}

    def upload():
        result["status"], result["body"] = _request(server.address, _form(audio, fields={
            "response_format": "verbose_json"}), timeout=900)

    started = time.monotonic()
    worker = threading.Thread(target=upload)
    worker.start()
    time.sleep(2)
    with urllib.request.urlopen(f"http://{server.address}/healthz", timeout=10) as health:
        assert health.status == 200
    _serves(server, expected)  # the pool's second worker
    peak = 0
    while worker.is_alive():
        peak = max(peak, _rss_kib(server.process.pid))
        worker.join(timeout=0.5)
    elapsed = time.monotonic() - started
    after = _rss_kib(server.process.pid)
    body = result["body"]
    assert result["status"] == 200, body
    words = len(body["text"].split())
    print(f"{len(audio) / 2**20:.0f} MB upload ({body['duration']:.0f} s of audio) in {elapsed:.1f} s; RSS "
          f"{baseline / 1024:.0f} MB before, peak {peak / 1024:.0f} MB, {after / 1024:.0f} MB after; {words} words "
          f"for {repeats} x {len(expected.split())}")
    assert body["duration"] == pytest.approx(repeats * len(unit) / 16000, abs=0.01)
    assert abs(words - repeats * len(expected.split())) <= 0.02 * repeats * len(expected.split())
    if not SANITIZED:
        assert after <= 1.10 * baseline, (baseline, after)


def test_the_upload_cap_is_an_option_and_its_413_has_openais_error_shape(tmp_path):
    """serve --max-upload-mb 1: a 2 MB upload is refused with 413 and OpenAI's error JSON, whether it announces
    its size (refused before it is read) or comes chunked (refused once past the cap)."""
    server = start_server(tmp_path, "--max-upload-mb", "1", env={"NEMO_FAST_TOKEN": TOKEN})
    try:
        body = _form(_wav(np.zeros(16000 * 64, np.int16)))  # 2 MB
        status, answer = _request(server.address, body)
        assert status == 413 and "--max-upload-mb" in answer["error"]["message"], (status, answer)
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 65536]), body[i:i + 65536])
                           for i in range(0, len(body), 65536)) + b"0\r\n\r\n"  # fmt: skip
        status, answer = _request(server.address, b"", content_length=None, send_body=chunked,
                                  headers={"Content-Length": None, "Transfer-Encoding": "chunked"})  # fmt: skip
        assert status == 413 and answer["error"]["type"] == "invalid_request_error", (status, answer)
        status, answer = _request(server.address, _form(EXAMPLE.read_bytes()))
        assert status == 200 and answer["text"]
    finally:
        server.stop()
