"""`nemo-fast serve` streaming over WebSocket on loopback: nemo_fast's protocol and sherpa-onnx's, concurrent
clients at real-time pace and faster, bad clients, limits, and a server that stays up and bounded."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import require_module
from server_process import start_server

import nemo_fast
from nemo_fast.audio import read_audio

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "speech_example.wav"
SHIPPED = ROOT / "models" / "default"
TOKEN = "stream-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_module("aiohttp")
    server = start_server(tmp_path_factory.mktemp("server"), "--token", TOKEN, "--max-connections", "20",
                          "--idle-timeout", "2", "--max-message-bytes", "200000")
    try:
        yield server.address, server.process
    finally:
        assert server.stop() == 0, server.log_path.read_text()[-3000:]


def _clips() -> list[np.ndarray]:
    """Sixteen different inputs: the example at several gains and cuts, some with a pause and a second part."""
    clip, _ = read_audio(EXAMPLE)
    clip = clip.astype(np.float32) / 32768
    out = []
    for k in range(16):
        gain = 0.5 + 0.06 * k
        part = clip[(k % 4) * 4000:]
        if k % 3 == 0:
            part = np.concatenate([part, np.zeros(32000, np.float32), clip[: len(clip) // 2]])
        out.append((gain * part).astype(np.float32))
    return out


def _expected(audio: np.ndarray) -> list[str]:
    return [s.text for s in nemo_fast.Recognizer(SHIPPED).transcribe_segments(audio, sample_rate=16000)]


def _expected_s16le(audio: np.ndarray) -> list[str]:
    """The transcript of the audio as the s16le client sends it (quantized to 16 bits)."""
    return _expected((audio * 32767).astype(np.int16).astype(np.float32) / 32767)


async def _nemo_fast_client(address: str, audio: np.ndarray, encoding: str = "s16le", pace: float = 0.0,
                            piece: int = 1600, settings: dict | None = None) -> tuple[list[dict], int]:
    """Streams `audio` over /v1/stream; returns the events and the close code."""
    import aiohttp

    data = (audio * 32767).astype("<i2") if encoding == "s16le" else audio.astype("<f4")
    async with aiohttp.ClientSession() as http, http.ws_connect(f"ws://{address}/v1/stream?token={TOKEN}") as ws:
        await ws.send_str(json.dumps({"sample_rate": 16000, "encoding": encoding, **(settings or {})}))
        events: list[dict] = []

        async def read():
            async for message in ws:
                events.append(json.loads(message.data))

        reader = asyncio.create_task(read())
        for i in range(0, len(data), piece):
            await ws.send_bytes(data[i:i + piece].tobytes())
            await asyncio.sleep(pace * piece / 16000)
        await ws.send_str(json.dumps({"type": "end"}))
        await asyncio.wait_for(reader, 60)
        return events, ws.close_code


def test_sixteen_concurrent_clients_get_the_in_process_transcripts(server):
    """Sixteen clients stream different audio at once, half at real-time pace and half as fast as they can, in
    both encodings: each one's finals are `transcribe_segments` of its audio, and its last event is `end`."""
    address, _ = server
    clips = _clips()

    async def run():
        return await asyncio.gather(*[
            _nemo_fast_client(address, clip, encoding="s16le" if k % 2 else "f32le", pace=1.0 if k < 8 else 0.0)
            for k, clip in enumerate(clips)])

    results = asyncio.run(run())
    for k, (clip, (events, code)) in enumerate(zip(clips, results)):
        assert code == 1000
        assert events[0]["type"] == "ready" and events[0]["protocol"] == "nemo_fast.v1"
        assert events[-1] == {"type": "end", "segments": len([e for e in events if e["type"] == "final"])}
        finals = [e for e in events if e["type"] == "final"]
        expected = _expected(clip) if k % 2 == 0 else _expected_s16le(clip)
        assert [e["text"] for e in finals] == expected, k
        assert all(w["start"] <= w["end"] and 0 <= w["confidence"] <= 1 for e in finals for w in e["words"])


def test_a_sherpa_onnx_client_works_unchanged(server):
    """sherpa-onnx's protocol on `/`: float32 samples at 16 kHz, `Done` at the end; replies {"text", "segment"}
    as the text grows; the last reply of each segment is its transcript."""
    import aiohttp

    address, _ = server
    audio = _clips()[3]

    async def run():
        async with aiohttp.ClientSession() as http, http.ws_connect(
                f"ws://{address}/", headers={"Authorization": f"Bearer {TOKEN}"}) as ws:
            for i in range(0, len(audio), 3200):
                await ws.send_bytes(audio[i:i + 3200].astype("<f4").tobytes())
            await ws.send_str("Done")
            return [json.loads(m.data) async for m in ws]

    replies = asyncio.run(run())
    assert all(set(r) == {"text", "segment"} for r in replies)
    last = {}
    for r in replies:
        last[r["segment"]] = r["text"]
    assert [last[k] for k in sorted(last)] == _expected(audio)


def _close_code(address: str, messages: list, path: str = "/v1/stream") -> tuple[int, str]:
    import aiohttp

    async def run():
        async with aiohttp.ClientSession() as http, http.ws_connect(f"ws://{address}{path}?token={TOKEN}") as ws:
            for m in messages:
                if isinstance(m, bytes):
                    await ws.send_bytes(m)
                else:
                    await ws.send_str(m)
            async for _ in ws:
                pass
            return ws.close_code, (ws.exception() and str(ws.exception())) or ""

    return asyncio.run(asyncio.wait_for(run(), 30))


@pytest.mark.parametrize("messages,code", [
    (['{"sample_rate": 16000, "encoding": "s16le"}', b"\x00\x01\x02"], 1007),          # odd byte count
    (['{"sample_rate": 16000, "encoding": "f32le"}', np.array([0.1, np.nan], "<f4").tobytes()], 1007),
    (['{"sample_rate": 16000}', "hello"], 1003),                                      # text where audio belongs
    (["not json"], 1007),
    (['{"sample_rate": 16000, "mode": "fast"}'], 1007),                               # unknown setting
    (['{"decoder": "xyz"}'], 1007),                                                   # not the server's decoder
    (['{"endpoint": {"rule2": {"min_trailing_silence": -1}}}'], 1007),                # negative duration
    (['{"endpoint": {"rule2": {"min_trailing_silence": 0}}}'], 1007),                 # would end every segment
    (['{"endpoint": {"rule4": {}}}'], 1007),                                          # no such rule
    (['{"hotwords": "inequity"}'], 1007),                                             # not a list
    (['{"hotwords": ["caf\\u00e9"]}'], 1007),                                         # no token spells it
    ([b"\x00\x00"], 1003),                                                            # audio before settings
    (['{"sample_rate": 16000}', b"\x00" * 400_000], 1009),                            # over --max-message-bytes
    (['{"sample_rate": 16000}'], 1008),                                               # silent past --idle-timeout
])
def test_bad_clients_are_closed_with_a_code_and_the_server_goes_on(server, messages, code):
    address, _ = server
    assert _close_code(address, messages)[0] == code
    events, close = asyncio.run(_nemo_fast_client(address, _clips()[0]))
    assert close == 1000 and [e["text"] for e in events if e["type"] == "final"] == _expected_s16le(_clips()[0])


def test_each_connection_may_set_its_own_endpoint_rules(server):
    """Endpoint settings in the first message apply to that stream only: its finals are what a Recognizer with
    those rules gives, and `enabled: false` keeps the whole input in one segment."""
    address, _ = server
    clip = _clips()[0]  # two parts with a 2 s pause
    quantized = (clip * 32767).astype(np.int16).astype(np.float32) / 32767
    short_pause = nemo_fast.EndpointConfig(rule2=nemo_fast.EndpointRule(True, 0.3, 0.0))
    expected = [s.text for s in nemo_fast.Recognizer(SHIPPED, endpoint=short_pause).transcribe_segments(
        quantized, sample_rate=16000)]
    events, code = asyncio.run(_nemo_fast_client(address, clip, settings={
        "endpoint": {"rule2": {"min_trailing_silence": 0.3}}}))
    assert code == 1000 and [e["text"] for e in events if e["type"] == "final"] == expected
    events, code = asyncio.run(_nemo_fast_client(address, clip, settings={"endpoint": {"enabled": False}}))
    finals = [e["text"] for e in events if e["type"] == "final"]
    assert code == 1000 and finals == [" ".join(_expected_s16le(clip))]


def test_each_connection_may_bring_its_own_hotwords(server):
    """`hotwords` in the first message bias that stream only (the shipped model's server searches with a beam):
    the example's "pay in equity" becomes "pay inequity" for the client that asks, and stays for the others."""
    address, _ = server
    clip = _clips()[1]
    events, code = asyncio.run(_nemo_fast_client(address, clip, settings={"hotwords": [["inequity", 10]]}))
    finals = " ".join(e["text"] for e in events if e["type"] == "final")
    assert code == 1000 and "inequity" in finals.split()
    events, code = asyncio.run(_nemo_fast_client(address, clip))
    assert code == 1000 and [e["text"] for e in events if e["type"] == "final"] == _expected_s16le(clip)
    assert "inequity" not in " ".join(_expected_s16le(clip)).split()


def test_progress_events_report_the_audio_each_decode_had(server):
    """With `progress: true`, each decode of the stream is followed by the seconds of audio it had: growing, whole
    messages, never more than was sent; without it there are none."""
    address, _ = server
    clip = _clips()[2]
    # At real-time pace the decodes are spread over the input (sent at once, one decode may take it all).
    events, code = asyncio.run(_nemo_fast_client(address, clip, pace=1.0, settings={"progress": True}))
    seconds = [e["seconds"] for e in events if e["type"] == "progress"]
    assert code == 1000 and len(seconds) >= 2 and seconds == sorted(seconds)
    assert all(round(s * 16000) % 1600 == 0 or round(s * 16000) == len(clip) for s in seconds)
    assert seconds[-1] <= len(clip) / 16000
    events, _ = asyncio.run(_nemo_fast_client(address, clip))
    assert not [e for e in events if e["type"] == "progress"]


def _metrics(address: str) -> dict[tuple, float]:
    """The server's /metrics as {(sample name, label values...): value}."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    request = urllib.request.Request(f"http://{address}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {(s.name, *sorted(s.labels.values())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_count_streams_audio_segments_batches_and_refusals(server):
    """GET /metrics (Prometheus text): one more stream, exactly its audio seconds, its finals, decode_streams
    calls in the batch-size and latency histograms, and a refused connection under its reason."""
    address, _ = server
    clip = _clips()[0]
    before = _metrics(address)
    events, _ = asyncio.run(_nemo_fast_client(address, clip))
    _close_code(address, ["not json"])
    _close_code(address, ['{"sample_rate": 16000}', b"\x00" * 400_000])  # over --max-message-bytes
    for _ in range(100):  # aiohttp closes an oversize message's connection before the handler counts it
        after = _metrics(address)
        if after.get(("nemo_fast_rejected_connections_total", "message_too_big")):
            break
        time.sleep(0.02)

    def grew(*key):
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("nemo_fast_streams_total", "nemo_fast.v1") == 3
    assert grew("nemo_fast_rejected_connections_total", "message_too_big") == 1
    assert grew("nemo_fast_audio_seconds_total") == pytest.approx(len(clip) / 16000, abs=1e-6)
    assert grew("nemo_fast_final_segments_total") == len([e for e in events if e["type"] == "final"])
    assert grew("nemo_fast_decode_batch_streams_count") >= 1
    assert grew("nemo_fast_decode_seconds_count") == grew("nemo_fast_decode_batch_streams_count")
    assert grew("nemo_fast_stream_decodes_total") >= grew("nemo_fast_decode_batch_streams_count")
    assert grew("nemo_fast_rejected_connections_total", "protocol_error") == 1
    assert after[("nemo_fast_open_streams", "nemo_fast.v1")] == 0
    assert after[("nemo_fast_waiting_audio_seconds",)] == pytest.approx(0, abs=1e-6)


def test_a_wrong_token_is_refused(server):
    import aiohttp

    address, _ = server

    async def run():
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.WSServerHandshakeError) as e:
                await http.ws_connect(f"ws://{address}/v1/stream?token=wrong")
            return e.value.status

    assert asyncio.run(run()) == 401


def test_connections_past_the_limit_are_refused_with_1013(server):
    import aiohttp

    address, _ = server

    async def run():
        async with aiohttp.ClientSession() as http:
            held = [await http.ws_connect(f"ws://{address}/v1/stream?token={TOKEN}") for _ in range(20)]
            extra = await http.ws_connect(f"ws://{address}/v1/stream?token={TOKEN}")
            await extra.receive()
            code = extra.close_code
            for ws in held:
                await ws.close()
            return code

    assert asyncio.run(run()) == 1013


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(os.environ.get("NEMO_FAST_SANITIZED") == "1", reason="memory figures under the sanitizers")
def test_two_hundred_abrupt_disconnects_leave_the_server_up_and_its_memory_bounded(server):
    """200 connections that send some audio and vanish mid-stream: the server answers the next client correctly
    and its resident memory returns to within 10% of what it was after the first such round."""
    import aiohttp

    address, process = server
    audio = (_clips()[1] * 32767).astype("<i2").tobytes()

    async def abrupt(n: int):
        async with aiohttp.ClientSession() as http:
            for k in range(n):
                ws = await http.ws_connect(f"ws://{address}/v1/stream?token={TOKEN}")
                await ws.send_str('{"sample_rate": 16000}')
                await ws.send_bytes(audio[: 3200 * (1 + k % 20)])
                ws._response.connection.transport.abort()  # gone, without a close handshake

    asyncio.run(abrupt(20))
    baseline = _rss_kib(process.pid)
    asyncio.run(abrupt(200))
    events, close = asyncio.run(_nemo_fast_client(address, _clips()[5]))
    assert close == 1000 and [e["text"] for e in events if e["type"] == "final"] == _expected_s16le(_clips()[5])
    assert _rss_kib(process.pid) <= 1.10 * baseline


def test_the_browser_page_is_served_on_the_root_path(server):
    """GET / without a WebSocket upgrade serves the page that streams the microphone over /v1/stream."""
    import urllib.request

    address, _ = server
    request = urllib.request.Request(f"http://{address}/", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        page = response.read().decode()
    assert response.headers["Content-Type"].startswith("text/html")
    assert "audioWorklet" in page and "/v1/stream" in page
