"""`nemo-fast serve`: the OpenAI-compatible transcription endpoint, driven by the official `openai` client
against a server on loopback."""

from __future__ import annotations

import io
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import require_module
from server_process import start_server

import nemo_fast

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "speech_example.wav"
TOKEN = "test-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_module("aiohttp")
    server = start_server(tmp_path_factory.mktemp("server"), env={"NEMO_FAST_TOKEN": TOKEN})
    try:
        yield f"http://{server.address}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def client(server):
    openai = require_module("openai")
    return openai.OpenAI(base_url=f"{server}/v1", api_key=TOKEN, max_retries=0, timeout=60)


@pytest.fixture(scope="module")
def expected():
    return nemo_fast.Recognizer(ROOT / "models" / "default").transcribe(EXAMPLE)


def transcribe(client, response_format, path=EXAMPLE):
    with open(path, "rb") as f:
        return client.audio.transcriptions.create(model="nemo-fast", file=f, response_format=response_format)


def test_json_and_text(client, expected):
    assert transcribe(client, "json").text == expected.text
    assert transcribe(client, "text").strip() == expected.text


def test_verbose_json_has_segments_and_words(client, expected):
    out = transcribe(client, "verbose_json")
    assert out.text == expected.text and out.duration == pytest.approx(3.8, abs=0.5)
    words = [w.word for w in out.words]
    assert " ".join(words) == expected.text
    assert all(w.start <= w.end for w in out.words)  # NeMo's CTC times: a word of one token at frame 0 is 0-0
    assert [w.start for w in out.words] == sorted(w.start for w in out.words)
    assert " ".join(s.text for s in out.segments) == expected.text


def test_subtitles_parse_with_subtitle_libraries(client, expected):
    srt = require_module("srt")
    webvtt = require_module("webvtt")
    cues = list(srt.parse(transcribe(client, "srt")))
    assert " ".join(c.content for c in cues) == expected.text and cues[0].start.total_seconds() >= 0
    vtt = webvtt.from_buffer(io.StringIO(transcribe(client, "vtt")))
    assert " ".join(c.text for c in vtt) == expected.text


def test_other_rates_and_flac(client, expected, tmp_path):
    soundfile = require_module("soundfile")
    from nemo_fast.audio import read_audio

    audio, rate = read_audio(EXAMPLE)
    flac = tmp_path / "speech.flac"
    soundfile.write(flac, audio, rate)
    assert transcribe(client, "json", flac).text == expected.text


def test_requests_without_the_token_are_refused(server):
    openai = require_module("openai")
    wrong = openai.OpenAI(base_url=f"{server}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        transcribe(wrong, "json")


def test_bad_requests_get_a_message_and_the_server_keeps_serving(client, server, expected, tmp_path):
    openai = require_module("openai")
    not_audio = tmp_path / "notes.wav"
    not_audio.write_bytes(b"this is not audio" * 10)
    with pytest.raises(openai.BadRequestError, match="cannot read audio|not a PCM WAV"):
        transcribe(client, "json", not_audio)
    with pytest.raises(openai.BadRequestError, match="response_format must be one of"):
        transcribe(client, "docx")
    silence = tmp_path / "silence.wav"
    with wave.open(str(silence), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.zeros(8000, np.int16).tobytes())
    assert transcribe(client, "json", silence).text == ""
    assert transcribe(client, "json").text == expected.text


def test_health_check(server):
    import urllib.request

    with urllib.request.urlopen(f"{server}/healthz", timeout=10) as response:
        assert response.status == 200 and b'"status": "ok"' in response.read()


def test_concurrent_requests(client, expected):
    from concurrent.futures import ThreadPoolExecutor

    start = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        texts = list(pool.map(lambda _: transcribe(client, "json").text, range(8)))
    assert texts == [expected.text] * 8 and time.monotonic() - start < 60
