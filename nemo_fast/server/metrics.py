"""The server's Prometheus metrics (`GET /metrics`), kept in a registry of their own so that two servers in one
process (tests) count apart. prometheus_client's metrics are thread-safe: the decode loop updates them from its
thread."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)
LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56)


class ServerMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self):
        self.registry = CollectorRegistry()
        r = self.registry
        self.open_streams = Gauge("nemo_fast_open_streams", "WebSocket streams open now", ["protocol"], registry=r)
        self.streams = Counter("nemo_fast_streams", "WebSocket streams accepted", ["protocol"], registry=r)
        self.rejected = Counter("nemo_fast_rejected_connections", "Connections refused or closed for a broken rule",
                                ["reason"], registry=r)
        self.audio_seconds = Counter("nemo_fast_audio_seconds", "Seconds of audio received over WebSocket",
                                     registry=r)
        self.waiting_audio_seconds = Gauge("nemo_fast_waiting_audio_seconds",
                                           "Audio received and not yet taken by the decode loop (all streams)",
                                           registry=r)
        self.backpressure = Counter("nemo_fast_backpressure_waits", "Times a client's reading paused because "
                                    "its waiting audio reached --max-buffered-seconds", registry=r)
        self.stream_chunks = Counter("nemo_fast_stream_decodes",
                                     "Streams decoded by the decode loop (one per stream per decode_streams call)",
                                     registry=r)
        self.segments = Counter("nemo_fast_final_segments", "Final segments sent to clients", registry=r)
        self.batch_size = Histogram("nemo_fast_decode_batch_streams", "Streams decoded together in one "
                                    "decode_streams call", buckets=BATCH_BUCKETS, registry=r)
        self.decode_seconds = Histogram("nemo_fast_decode_seconds", "Wall time of one decode_streams call of the "
                                        "decode loop", buckets=LATENCY_BUCKETS, registry=r)
        self.transcriptions = Counter("nemo_fast_transcription_requests", "POST /v1/audio/transcriptions requests",
                                      ["status"], registry=r)

    def decoded(self, streams: int, seconds: float) -> None:
        self.stream_chunks.inc(streams)
        self.batch_size.observe(streams)
        self.decode_seconds.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
