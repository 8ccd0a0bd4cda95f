"""`nemo-fast serve` operations: backpressure on a client that sends faster than the server decodes, graceful
shutdown on SIGTERM (open streams get their finals, then 1001) and the structured logs."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import require_module
from server_process import start_server
from test_server_streaming import _clips, _expected, _expected_s16le, _metrics

TOKEN = "stream-token"  # the token _metrics sends


@pytest.fixture
def started(tmp_path):
    require_module("aiohttp")
    servers = []

    def start(*args: str):
        servers.append(start_server(tmp_path, "--token", TOKEN, *args))
        return servers[-1]

    yield start
    for server in servers:
        server.stop(signal.SIGKILL)


def test_a_client_sending_faster_than_the_server_decodes_is_slowed_not_buffered(started):
    """60 s of audio sent as fast as the socket takes it, with --max-buffered-seconds 1: the audio waiting for
    the decode loop never exceeds 1 s, the client's reading was paused, and every word still arrives."""
    import aiohttp

    server = started("--max-buffered-seconds", "1")
    clip = np.concatenate([np.concatenate([c, np.zeros(16000, np.float32)]) for c in _clips()[:6]])[: 60 * 16000]
    data = (clip * 32767).astype("<i2")
    peak = 0.0

    async def watch(done: asyncio.Event):
        nonlocal peak
        while not done.is_set():
            peak = max(peak, (await asyncio.to_thread(_metrics, server.address))[("nemo_fast_waiting_audio_seconds",)])
            await asyncio.sleep(0.01)

    async def run():
        done = asyncio.Event()
        watcher = asyncio.create_task(watch(done))
        async with aiohttp.ClientSession() as http, http.ws_connect(
                f"ws://{server.address}/v1/stream?token={TOKEN}") as ws:
            await ws.send_str('{"sample_rate": 16000}')
            for i in range(0, len(data), 1600):
                await ws.send_bytes(data[i:i + 1600].tobytes())
            await ws.send_str('{"type": "end"}')
            events = [json.loads(m.data) async for m in ws]
        done.set()
        await watcher
        return events

    events = asyncio.run(asyncio.wait_for(run(), 120))
    assert [e["text"] for e in events if e["type"] == "final"] == _expected_s16le(clip)
    assert 0 < peak <= 1.0
    assert _metrics(server.address)[("nemo_fast_backpressure_waits_total",)] > 0


async def _wait_until_taken(address: str, seconds: float) -> None:
    """Until the decode loop has taken `seconds` of audio from the clients."""
    for _ in range(500):
        m = await asyncio.to_thread(_metrics, address)
        if m[("nemo_fast_audio_seconds_total",)] >= seconds - 1e-6 and m[("nemo_fast_waiting_audio_seconds",)] < 1e-6:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the server never took the audio")


def test_sigterm_sends_every_open_streams_finals_then_closes_with_1001(started):
    """Clients of both protocols have sent all their audio but not its end, and one has not even sent its
    settings, when the server gets SIGTERM: each stream's input is ended, its last words are decoded and sent as
    finals, every connection closes with 1001, the process exits 0, and the logs say so, one JSON object a line."""
    import aiohttp

    server = started()
    clips = [_clips()[0], _clips()[5]]

    async def run():
        async with aiohttp.ClientSession() as http:
            url = f"ws://{server.address}"
            v1 = [await http.ws_connect(f"{url}/v1/stream?token={TOKEN}") for _ in clips]
            sherpa = await http.ws_connect(f"{url}/?token={TOKEN}")
            silent = await http.ws_connect(f"{url}/v1/stream?token={TOKEN}")
            for ws, clip in zip(v1, clips):
                await ws.send_str('{"sample_rate": 16000, "encoding": "f32le"}')
                await ws.send_bytes(clip.astype("<f4").tobytes())
            await sherpa.send_bytes(clips[1].astype("<f4").tobytes())
            await _wait_until_taken(server.address, 2 * len(clips[1]) / 16000 + len(clips[0]) / 16000)
            server.process.send_signal(signal.SIGTERM)

            async def read(ws):
                return [json.loads(m.data) async for m in ws], ws.close_code

            return await asyncio.wait_for(asyncio.gather(*(read(ws) for ws in [*v1, sherpa, silent])), 30)

    *v1_results, (sherpa_replies, sherpa_code), (_, silent_code) = asyncio.run(run())
    for clip, (events, code) in zip(clips, v1_results):
        assert code == 1001
        assert [e["text"] for e in events if e["type"] == "final"] == _expected(clip)
        assert events[-1]["type"] == "end"
    last = {}
    for reply in sherpa_replies:
        last[reply["segment"]] = reply["text"]
    assert sherpa_code == 1001 and [last[k] for k in sorted(last)] == _expected(clips[1])
    assert silent_code == 1001
    assert server.process.wait(timeout=30) == 0
    logs = server.logs()
    assert [e["event"] for e in logs].count("shutting down") == 1
    closed = [e for e in logs if e["event"] == "stream closed"]
    assert len(closed) == 4 and all(e["code"] == 1001 for e in closed)
    assert sorted(e["audio_seconds"] for e in closed if e["segments"]) == sorted(
        round(len(c) / 16000, 3) for c in [*clips, clips[1]])
    assert all({"time", "level", "logger", "peer", "protocol"} <= set(e) for e in closed)


def test_the_serve_logs_are_plain_text_on_request(tmp_path):
    require_module("aiohttp")
    server = start_server(tmp_path, "--log-format", "text")
    try:
        time.sleep(0.2)
    finally:
        assert server.stop() == 0
    text = Path(server.log_path).read_text()
    assert " info listening host=127.0.0.1 port=" in text and not text.lstrip().startswith("{")


def test_the_listening_log_says_where_the_server_recognizes(tmp_path):
    """Operators see what the server got: its providers (here cuda,cpu fell back to the CPU, or runs on CUDA
    where the wheel has it), where the caches live and the batch size --max-batch-size set."""
    require_module("aiohttp")
    import nemo_fast

    server = start_server(tmp_path, "--provider", "cuda,cpu", "--max-batch-size", "3")
    try:
        time.sleep(0.2)
    finally:
        assert server.stop() == 0
    listening = next(e for e in server.logs() if e["event"] == "listening")
    on_cuda = "CUDAExecutionProvider" in nemo_fast.runtime_info()["providers"]
    assert listening["providers"][0] == ("CUDAExecutionProvider" if on_cuda else "CPUExecutionProvider")
    assert listening["cache_memory"] == ("cuda:0" if on_cuda else "host") and listening["max_batch_size"] == 3
