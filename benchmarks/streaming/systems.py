"""The systems measured against each other, each loaded in its own process or side by side: nemo_fast,
the bare ONNX Runtime loop (the floor), NeMo's own streaming and sherpa-onnx; and one measurement in a
fresh process (`measure`)."""

from __future__ import annotations

import dataclasses
import json
import statistics
import time
from pathlib import Path

from common import tiled_speech
from nemo_speech_cpp import nemo_speech_cpp_system

LATENCY_POSITIONS = (1, 100, 1000)
LATENCY_WINDOW = 20
SYSTEMS = ("nemo_fast", "bare_onnxruntime", "nemo", "sherpa_onnx", "nemo_fast_int8", "nemo_speech_cpp_f16",
           "nemo_speech_cpp_q8_0", "sherpa_onnx_int8")


def write_contract(model_dir: Path) -> None:
    """The streaming contract the measurements need, read once by the parent: a child that opened a second
    session just to read it would count that session in its peak memory."""
    import nemo_fast

    spec = nemo_fast.Recognizer(model_dir).spec
    contract = {
        "hop": spec.features.hop_length_samples,
        "features": spec.features.to_key_values(),
        "streaming": dataclasses.asdict(spec.geometry),
        "cache_last_channel_shape": spec.cache_last_channel_shape,
        "cache_last_time_shape": spec.cache_last_time_shape,
    }
    (model_dir / "contract.json").write_text(json.dumps(contract))



def _contract(model_dir: Path) -> dict:
    return json.loads((model_dir / "contract.json").read_text())



def _chunk_samples(model_dir: Path) -> tuple[int, int]:
    """(first, later) chunk shift in samples."""
    contract = _contract(model_dir)
    first, later = contract["streaming"]["shift_size"]
    return first * contract["hop"], later * contract["hop"]



def _pieces(audio, first: int, later: int):
    yield audio[:first]
    for start in range(first, len(audio), later):
        yield audio[start : start + later]



def _time_streams(system, audio, long_audio, repeats: int) -> dict:
    """One warm-up stream, `repeats` timed streams of `audio`, then per-chunk latencies of `long_audio`
    (skipped when it is None). system: (prepare, one_stream) from one of the *_system builders."""
    prepare, one_stream = system
    audio = prepare(audio)
    long_audio = None if long_audio is None else prepare(long_audio)
    one_stream(audio)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        one_stream(audio)
        times.append(time.perf_counter() - start)
    latencies: list[float] = []
    if long_audio is not None:
        one_stream(long_audio, latencies)
    return {"times_s": times, "latencies_s": latencies}



def _as_given(audio):
    return audio



def nemo_fast_system(model_dir: Path, threads: int):
    import nemo_fast

    recognizer = nemo_fast.Recognizer(model_dir, num_threads=threads, decoding="greedy")  # as the other systems
    first, later = _chunk_samples(model_dir.parent / "nemo_fast")  # int8 shares the float contract

    def one_stream(x, latencies=None):
        stream = recognizer.create_stream()
        for piece in _pieces(x, first, later):
            start = time.perf_counter()
            stream.accept_waveform(piece, 16000)
            if latencies is not None:
                latencies.append(time.perf_counter() - start)
        stream.input_finished()
        return stream.result().text

    return _as_given, one_stream



def bare_onnxruntime_system(
    model_dir: Path, threads: int, profile_prefix: str | None = None, graph_file: str = "model.onnx"
):  # fmt: skip
    """With profile_prefix, ONNX Runtime's profiler records every step; one_stream.session ends it."""
    import numpy as np
    import onnxruntime as ort

    import nemo_fast

    spec = _contract(model_dir.parent / "nemo_fast")  # int8 shares the float contract
    geometry = spec["streaming"]
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if profile_prefix:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    session = ort.InferenceSession(str(model_dir / graph_file), options, providers=["CPUExecutionProvider"])
    fbank = nemo_fast.ImprovedFbank(nemo_fast.FbankOptions.from_key_values(spec["features"]))

    def chunks(x):
        """The encoder inputs of every chunk, prepared before timing (NeMo's default chunking)."""
        feats = np.ascontiguousarray(fbank.compute(x, 16000).T)[None]
        first, later = geometry["shift_size"]
        cache = geometry["pre_encode_cache_size"][1]
        out = [(feats[:, :, :first], 0)]
        for start in range(first, feats.shape[2], later):
            piece = feats[:, :, start - cache : start + later]
            out.append((np.ascontiguousarray(piece), geometry["drop_extra_pre_encoded"]))
        return out

    def one_stream(prepared, latencies=None, log_probs=None):
        channel = np.zeros((1, *spec["cache_last_channel_shape"]), np.float32)
        conv = np.zeros((1, *spec["cache_last_time_shape"]), np.float32)
        channel_len = np.zeros(1, np.int64)
        for feats, drop in prepared:
            inputs = {
                "audio_signal": feats, "length": np.array([feats.shape[2]], np.int64),
                "cache_last_channel": channel, "cache_last_time": conv, "cache_last_channel_len": channel_len,
                "drop_extra_pre_encoded": np.array(drop, np.int64),
            }  # fmt: skip
            start = time.perf_counter()
            outputs = session.run(None, inputs)
            if latencies is not None:
                latencies.append(time.perf_counter() - start)
            if log_probs is not None:
                log_probs.append(outputs[0])
            channel, conv, channel_len = outputs[-3:]

    one_stream.session = session
    return chunks, one_stream



def nemo_system(model_dir: Path, threads: int):
    import torch

    torch.set_num_threads(threads)
    from nemo.collections.asr.parts.utils.streaming_utils import CacheAwareStreamingAudioBuffer

    from nemo_fast.export.nemo_model import load_nemo_model

    source = json.loads((model_dir.parent / "source.json").read_text())
    model = load_nemo_model(source["nemo"])
    if source["lookahead"] is not None:
        model.encoder.set_default_att_context_size(list(source["lookahead"]))
    model.encoder.setup_streaming_params()
    model.eval()

    def one_stream(x, latencies=None):
        buffer = CacheAwareStreamingAudioBuffer(model=model, online_normalization=False)
        buffer.append_audio(x)
        channel, conv, channel_len = model.encoder.get_initial_cache_state(batch_size=1)
        previous_pred, previous_hypotheses = None, None
        with torch.inference_mode():
            for step, (chunk, lengths) in enumerate(iter(buffer)):
                start = time.perf_counter()
                result = model.conformer_stream_step(
                    processed_signal=chunk, processed_signal_length=lengths, cache_last_channel=channel,
                    cache_last_time=conv, cache_last_channel_len=channel_len,
                    keep_all_outputs=buffer.is_buffer_empty(), previous_hypotheses=previous_hypotheses,
                    previous_pred_out=previous_pred,
                    drop_extra_pre_encoded=0 if step == 0 else model.encoder.streaming_cfg.drop_extra_pre_encoded,
                    return_transcription=True,
                )  # fmt: skip
                previous_pred, _, channel, conv, channel_len, previous_hypotheses = result[:6]
                if latencies is not None:
                    latencies.append(time.perf_counter() - start)

    return _as_given, one_stream



def sherpa_onnx_system(model_dir: Path, threads: int, int8: bool = False):
    """sherpa-onnx on NeMo's stock export: a CTC model.onnx, or a transducer's encoder/decoder/joiner.onnx
    (int8: encoder.int8.onnx, quantized with nemo_fast's int8 settings, the heads in float as nemo_fast's)."""
    import sherpa_onnx

    sherpa_dir = model_dir.parent / "sherpa_onnx"
    mel_bins = _contract(model_dir)["features"]["num_mel_bins"]
    if (sherpa_dir / "encoder.onnx").exists():
        recognizer = sherpa_onnx.OnlineRecognizer.from_transducer(
            tokens=str(sherpa_dir / "tokens.txt"), encoder=str(sherpa_dir / f"encoder{'.int8' if int8 else ''}.onnx"),
            decoder=str(sherpa_dir / "decoder.onnx"), joiner=str(sherpa_dir / "joiner.onnx"), num_threads=threads,
            sample_rate=16000, feature_dim=int(mel_bins), decoding_method="greedy_search",
        )  # fmt: skip
    else:
        recognizer = sherpa_onnx.OnlineRecognizer.from_nemo_ctc(
            tokens=str(sherpa_dir / "tokens.txt"), model=str(sherpa_dir / f"model{'.int8' if int8 else ''}.onnx"),
            num_threads=threads, sample_rate=16000, feature_dim=int(mel_bins), decoding_method="greedy_search",
        )  # fmt: skip
    first, later = _chunk_samples(model_dir)

    def one_stream(x, latencies=None):
        stream = recognizer.create_stream()
        for piece in _pieces(x, first, later):
            start = time.perf_counter()
            stream.accept_waveform(16000, piece)
            while recognizer.is_ready(stream):
                recognizer.decode_stream(stream)
            if latencies is not None:
                latencies.append(time.perf_counter() - start)
        stream.input_finished()
        while recognizer.is_ready(stream):
            recognizer.decode_stream(stream)
        return recognizer.get_result(stream)

    return _as_given, one_stream



BUILDERS = {  # system name -> builder(model directory of one model and lookahead, threads)
    "nemo_fast": lambda d, threads: nemo_fast_system(d / "nemo_fast", threads),
    "nemo_fast_int8": lambda d, threads: nemo_fast_system(d / "nemo_fast_int8", threads),
    "bare_onnxruntime": lambda d, threads: bare_onnxruntime_system(d / "nemo_fast", threads),
    "nemo": lambda d, threads: nemo_system(d / "nemo_fast", threads),
    "sherpa_onnx": lambda d, threads: sherpa_onnx_system(d / "nemo_fast", threads),
    "sherpa_onnx_int8": lambda d, threads: sherpa_onnx_system(d / "nemo_fast", threads, int8=True),
    "nemo_speech_cpp_f16": lambda d, threads: nemo_speech_cpp_system(d / "nemo_speech_cpp", "f16", threads),
    "nemo_speech_cpp_q8_0": lambda d, threads: nemo_speech_cpp_system(d / "nemo_speech_cpp", "q8_0", threads),
}


def measure_child(system: str, model_dir: Path, threads: int, seconds: float, repeats: int, latency: bool) -> None:
    """One system, one model, one thread count, in this (fresh) process; prints one JSON line."""
    first, later = _chunk_samples(model_dir / "nemo_fast")
    audio = tiled_speech(seconds)
    long_audio = tiled_speech((first + later * (max(LATENCY_POSITIONS) + LATENCY_WINDOW)) / 16000) if latency else None
    audio_rss_mb = _memory_mb("VmRSS")
    loaded = BUILDERS[system](model_dir, threads)  # held until "final" is read: the system still loaded
    raw = _time_streams(loaded, audio, long_audio, repeats)
    latencies = raw["latencies_s"]
    out = {
        "rtf": statistics.median(raw["times_s"]) / seconds,
        "rtf_runs": [t / seconds for t in raw["times_s"]],
        "chunk_seconds": later / 16000,
        "peak_rss_mb": _memory_mb("VmHWM"),
        "final_rss_mb": _memory_mb("VmRSS"),  # resident after the runs, the system still loaded
        "audio_rss_mb": audio_rss_mb,  # the process with its test audio, before the system loads
        "latency_ms": {},
    }
    for position in LATENCY_POSITIONS:
        window = sorted(latencies[position - 1 : position - 1 + LATENCY_WINDOW])
        if window:
            out["latency_ms"][str(position)] = {
                "p50": 1000 * window[len(window) // 2],
                "p95": 1000 * window[min(len(window) - 1, int(0.95 * len(window)))],
            }
    print("RESULT " + json.dumps(out), flush=True)
    del loaded



def _memory_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process. Not getrusage's ru_maxrss: Linux carries that across
    fork and exec, so every child would report at least the parent's resident size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")
