"""Streaming speed of nemo_fast against what users would run instead, on the same model and audio.

    python benchmarks/bench_streaming.py prepare WORKDIR [--shipped-nemo MODEL.nemo]   # needs NeMo
    python benchmarks/bench_streaming.py speed WORKDIR [--threads 1 2] [--repeats 3] [--rounds 1] [--seconds 60]
        [--systems ...] [--models ...] [--no-latency] [--output NAME]
    python benchmarks/bench_streaming.py paired WORKDIR [--threads 1 2] [--pairs 7] [--systems ...] [--models ...]
    python benchmarks/bench_streaming.py capacity WORKDIR [--model large_70_1] [--threads 2]
    python benchmarks/bench_streaming.py profile WORKDIR [--threads 1 2] [--seconds 20] [--models ...]
    python benchmarks/bench_streaming.py static-shapes WORKDIR [--threads 1 2] [--rounds 7] [--models ...]  # onnxsim
    python benchmarks/bench_streaming.py int8-kernels WORKDIR [--threads 1 2] [--rounds 7] [--models ...]  # onnx_ir
    python benchmarks/bench_streaming.py table [NAME]     # the tables of results/NAME.json again
    python benchmarks/bench_streaming.py plot

`prepare` builds NVIDIA's large streaming FastConformer architecture with NeMo (d_model 512, 17 layers,
8 heads, 256 subsampling channels, 1024-piece BPE CTC head, lookaheads [70,13] and [70,1]; random weights,
which cost the same as trained ones), exports it with nemo_fast's exporter per lookahead (fp32 and
`--quantize int8`), and writes a copy in NeMo's stock cache-aware export with the metadata and tokens file
sherpa-onnx reads. With `--shipped-nemo` it does the same for the shipped model.

`speed` runs, for every model, lookahead and thread count, each system in a fresh process (so that its
peak memory is its own), one after the other:

* nemo_fast: `Recognizer` + `Stream`, audio in, text out; the audio arrives in pieces of one chunk shift,
  as from a live source;
* bare ONNX Runtime loop (the floor): `onnxruntime.InferenceSession` on the same `model.onnx`, features
  computed beforehand, caches carried, nothing else;
* NeMo: `CacheAwareStreamingAudioBuffer` + `conformer_stream_step`, as NeMo's own streaming script runs it;
* sherpa-onnx: `OnlineRecognizer.from_nemo_ctc` on the stock export, pieces of one chunk shift.

Real-time factor = compute seconds / audio seconds over `--seconds` of speech, median of `--repeats` after
a warm-up; with `--rounds R` the whole sequence runs R times, the median pools all R x repeats streams
and the table also gives the nemo_fast / bare ratio within each round. Latency: the time from handing over
one chunk's audio to having its result, at stream positions 1, 100 and 1000 (p50/p95 over the 20 chunks from each position, one long stream); for NeMo and the bare
loop the time of one encoder step (their features are computed up front). Peak memory: the process's
maximum resident set size. Results: benchmarks/results/streaming.json (`--output NAME`: NAME.json).

`paired` loads several systems (default nemo_fast, the bare loop and nemo_fast int8) into one process per
model and thread count and runs `--pairs` rounds of one 60 s stream per system, the order rotating each
round; it reports each system's median real-time factor and, per round, nemo_fast's time over each other
system's: the ratios the targets are about, measured seconds apart on the same machine state (the `speed`
mode's separate processes run minutes apart). Peak memory is not measured there. Results:
benchmarks/results/paired.json (`--output NAME`: NAME.json).

`capacity` feeds N simulated real-time streams in lock step, one chunk each per tick, and finds the most
streams whose p95 tick time stays under the chunk duration: batched (`Recognizer.decode_streams`, one
encoder call per tick) against one stream at a time. Results: benchmarks/results/capacity.json.

`static-shapes` asks whether a graph specialized to one chunk size would run faster: it fixes every input
shape of the exported graph (fp32 and int8) to the later chunks' and folds the shape arithmetic that
becomes constant (onnxsim, `pip install onnxsim`; not a dependency of nemo_fast), then times the bare
loop's later chunks on both graphs in one process, alternating `--rounds` times. Results:
benchmarks/results/static_shapes.json.

`int8-kernels` times ONNX Runtime's two int8 forms of the encoder's weight products on the bare loop's later
chunks, in one process, alternating `--rounds` times: the exporter's dynamic quantization (DynamicQuantizeMatMul,
as `--quantize int8` ships it) and MatMulNBits with 8-bit blocks (weight-only quantization with int8
activations, the kernel ONNX Runtime optimizes for products of few rows; its quantizer needs
`pip install onnx_ir`), each against the fp32 graph. Results: benchmarks/results/int8_kernels.json.

`profile` runs the bare loop on the fp32 and the int8 graph with ONNX Runtime's profiler and splits one
encoder step into time per operator type and the time outside any operator (the session's own overhead
between nodes). It gives the most any MatMul-only speed-up (int8 included) can bring: the step's time over
its time without MatMuls. Results: benchmarks/results/profile.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS_DIR, TESTS_DIR, limit_threads, stamp, tiled_speech, write_json  # noqa: E402

LARGE_LOOKAHEADS = ((70, 13), (70, 1))
LATENCY_POSITIONS = (1, 100, 1000)
LATENCY_WINDOW = 20
SYSTEMS = ("nemo_fast", "bare_onnxruntime", "nemo", "sherpa_onnx", "nemo_fast_int8")


# ----------------------------------------------------------------------------------------------- prepare


def prepare(workdir: Path, shipped_nemo: Path | None) -> None:
    sys.path.insert(0, str(TESTS_DIR / "models"))
    from nemo_model_factory import ModelRecipe, build_model

    workdir.mkdir(parents=True, exist_ok=True)
    large = workdir / "large.nemo"
    if not large.exists():
        recipe = ModelRecipe(
            name="large", model_class="EncDecCTCModelBPE", features=80, d_model=512, n_layers=17, n_heads=8,
            subsampling_channels=256, att_context_size=LARGE_LOOKAHEADS, vocab_size=1024, seed=7,
        )  # fmt: skip
        model = build_model(recipe, workdir)
        print(f"large model: {sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters", flush=True)
        model.save_to(str(large))
    for lookahead in LARGE_LOOKAHEADS:
        _export_all(large, workdir / f"large_{lookahead[0]}_{lookahead[1]}", lookahead)
    if shipped_nemo is not None:
        _export_all(shipped_nemo, workdir / "shipped", None)


def _export_all(nemo_path: Path, out: Path, lookahead) -> None:
    from nemo_fast.export.exporter import export_model

    if not (out / "nemo_fast" / "model.onnx").exists():
        export_model(nemo_path, out / "nemo_fast", att_context_size=lookahead)
    if not (out / "nemo_fast_int8" / "model.onnx").exists():
        # The float graph passed the parity check just above; int8 accuracy is measured separately.
        export_model(nemo_path, out / "nemo_fast_int8", att_context_size=lookahead, quantize="int8",
                     parity_check=False)
    if not (out / "sherpa_onnx" / "model.onnx").exists():
        _export_for_sherpa(nemo_path, out / "sherpa_onnx", lookahead)
    (out / "source.json").write_text(json.dumps({"nemo": str(nemo_path.resolve()), "lookahead": lookahead}))


def _export_for_sherpa(nemo_path: Path, out: Path, lookahead) -> None:
    """NeMo's stock cache-aware export plus the metadata keys and tokens.txt that sherpa-onnx reads."""
    import onnx

    from nemo_fast.export.nemo_model import load_nemo_model

    model = load_nemo_model(nemo_path)
    if lookahead is not None:
        model.encoder.set_default_att_context_size(list(lookahead))
    model.encoder.setup_streaming_params()
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.set_export_config({"cache_support": "True"})
    path = out / "model.onnx"
    model.export(str(path))
    cfg = model.encoder.streaming_cfg
    later = lambda v: v[1] if isinstance(v, (list, tuple)) else v  # noqa: E731
    vocabulary = list(model.decoder.vocabulary)
    meta = {
        "vocab_size": len(vocabulary),
        "window_size": later(cfg.chunk_size) + later(cfg.pre_encode_cache_size),
        "chunk_shift": later(cfg.chunk_size),
        "normalize_type": "" if model.cfg.preprocessor.normalize == "NA" else model.cfg.preprocessor.normalize,
        "cache_last_channel_dim1": len(model.encoder.layers),
        "cache_last_channel_dim2": cfg.last_channel_cache_size,
        "cache_last_channel_dim3": model.encoder.d_model,
        "cache_last_time_dim1": len(model.encoder.layers),
        "cache_last_time_dim2": model.encoder.d_model,
        "cache_last_time_dim3": model.encoder.conv_context_size[0],
        "subsampling_factor": model.encoder.subsampling_factor,
        "model_type": type(model).__name__,
    }
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    for key, value in meta.items():
        proto.metadata_props.add(key=key, value=str(value))
    onnx.save(proto, str(path))
    tokens = [f"{piece} {i}" for i, piece in enumerate(vocabulary)] + [f"<blk> {len(vocabulary)}"]
    (out / "tokens.txt").write_text("\n".join(tokens) + "\n")


# ------------------------------------------------------------------------------------------ measurements


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


# Each *_system builder loads one system and returns (prepare, one_stream): prepare(audio) does what the
# system may do before the clock starts (nothing, or the bare loop's features), one_stream(prepared,
# latencies=None) recognizes one stream, appending per-chunk latencies when given a list.


def nemo_fast_system(model_dir: Path, threads: int):
    import nemo_fast

    recognizer = nemo_fast.Recognizer(model_dir, num_threads=threads)
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


def sherpa_onnx_system(model_dir: Path, threads: int):
    import sherpa_onnx

    sherpa_dir = model_dir.parent / "sherpa_onnx"
    recognizer = sherpa_onnx.OnlineRecognizer.from_nemo_ctc(
        tokens=str(sherpa_dir / "tokens.txt"), model=str(sherpa_dir / "model.onnx"), num_threads=threads,
        sample_rate=16000, feature_dim=80, decoding_method="greedy_search",
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
}


def measure_child(system: str, model_dir: Path, threads: int, seconds: float, repeats: int, latency: bool) -> None:
    """One system, one model, one thread count, in this (fresh) process; prints one JSON line."""
    first, later = _chunk_samples(model_dir / "nemo_fast")
    audio = tiled_speech(seconds)
    long_audio = tiled_speech((first + later * (max(LATENCY_POSITIONS) + LATENCY_WINDOW)) / 16000) if latency else None
    audio_rss_mb = _memory_mb("VmRSS")
    raw = _time_streams(BUILDERS[system](model_dir, threads), audio, long_audio, repeats)
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


def _memory_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process. Not getrusage's ru_maxrss: Linux carries that across
    fork and exec, so every child would report at least the parent's resident size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def speed(workdir: Path, threads_list, repeats: int, rounds: int, seconds: float, systems, models, output: str,
          latency: bool) -> None:  # fmt: skip
    results = {"stamp": stamp(), "seconds": seconds, "repeats": repeats, "rounds": rounds, "runs": []}
    for model in models:
        write_contract(workdir / model / "nemo_fast")
    for round_index in range(rounds):
        for model in models:
            for threads in threads_list:
                for system in systems:
                    cmd = [sys.executable, __file__, "measure", system, str(workdir / model), "--threads",
                           str(threads), "--seconds", str(seconds), "--repeats", str(repeats)]  # fmt: skip
                    cmd += [] if latency else ["--no-latency"]
                    proc = subprocess.run(cmd, capture_output=True, text=True)
                    line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
                    if line is None:
                        print(f"{model} {system} {threads} thread(s) FAILED:\n{proc.stderr[-3000:]}", flush=True)
                        continue
                    row = {"round": round_index, "model": model, "system": system, "threads": threads,
                           **json.loads(line[7:])}  # fmt: skip
                    results["runs"].append(row)
                    lat = " ".join(f"@{k}: {v['p50']:.1f}/{v['p95']:.1f} ms" for k, v in row["latency_ms"].items())
                    print(f"round {round_index + 1}/{rounds} {model:14s} {threads}t {system:17s} RTF {row['rtf']:.4f}"
                          f"  peak {row['peak_rss_mb']:.0f} MB, final {row['final_rss_mb']:.0f} MB"
                          f" (audio {row['audio_rss_mb']:.0f} MB)  latency p50/p95 {lat}", flush=True)
                    write_json(output, results)
    print(markdown_table(results))
    if latency:
        print()
        print(latency_memory_table(results))


def median_rtf(rows: list[dict], model: str, threads: int, system: str, round_index: int | None = None) -> float | None:
    """Median real-time factor of one system over every timed stream of every round, or of one round (None if
    not run)."""
    runs = [t for r in rows if (r["model"], r["threads"], r["system"]) == (model, threads, system)
            and round_index in (None, r.get("round", 0)) for t in r["rtf_runs"]]  # fmt: skip
    return statistics.median(runs) if runs else None


def markdown_table(results: dict) -> str:
    """Real-time factors (median over every round) and nemo_fast's time over each other system's; with
    several rounds also nemo_fast / bare within each round."""
    rows = results["runs"]
    keys = sorted({(r["model"], r["threads"]) for r in rows})
    systems = [s for s in SYSTEMS if any(r["system"] == s for r in rows)]
    others = [s for s in systems if s != "nemo_fast"]
    rounds = results.get("rounds", 1)
    lines = ["| model, threads | " + " | ".join(systems) + " | " + " | ".join(f"nemo_fast / {s}" for s in others)
             + " |" + (" nemo_fast / bare by round |" if rounds > 1 else ""),
             "|---|" + "---:|" * (len(systems) + len(others) + (rounds > 1))]  # fmt: skip

    def ratio(model: str, threads: int, other: str, round_index: int | None = None) -> str:
        ours = median_rtf(rows, model, threads, "nemo_fast", round_index)
        theirs = median_rtf(rows, model, threads, other, round_index)
        return f"{ours / theirs:.3f}" if ours and theirs else "–"

    for model, threads in keys:
        rtf = {s: median_rtf(rows, model, threads, s) for s in systems}
        cells = [f"{rtf[s]:.4f}" if rtf[s] is not None else "–" for s in systems]
        cells += [ratio(model, threads, s) for s in others]
        by_round = ", ".join(ratio(model, threads, "bare_onnxruntime", i) for i in range(rounds))
        lines.append(f"| {model}, {threads} | " + " | ".join(cells) + " |" + (f" {by_round} |" if rounds > 1 else ""))
    return "\n".join(lines)


def latency_memory_table(results: dict) -> str:
    """Per-chunk latency p50/p95 (ms) at each stream position, and peak and final resident memory (MB)."""
    lines = ["| model, threads, system | " + " | ".join(f"@{p}" for p in LATENCY_POSITIONS) + " | peak MB | final MB |",
             "|---|" + "---:|" * (len(LATENCY_POSITIONS) + 2)]  # fmt: skip
    for r in sorted(results["runs"], key=lambda r: (r["model"], r["threads"], SYSTEMS.index(r["system"]))):
        if r.get("round", 0) != 0 or not r["latency_ms"]:
            continue
        lat = [r["latency_ms"].get(str(p)) for p in LATENCY_POSITIONS]
        cells = [f"{v['p50']:.0f}/{v['p95']:.0f}" if v else "–" for v in lat]
        lines.append(f"| {r['model']}, {r['threads']}, {r['system']} | " + " | ".join(cells)
                     + f" | {r['peak_rss_mb']:.0f} | {r['final_rss_mb']:.0f} |")
    return "\n".join(lines)


def show_tables(name: str) -> None:
    results = json.loads((RESULTS_DIR / f"{name}.json").read_text())
    if results.get("kind") == "profile":
        print(profile_table(results))
    elif results.get("kind") == "static_shapes":
        print(static_shapes_table(results))
    elif results.get("kind") == "int8_kernels":
        print(int8_kernels_table(results))
    elif "pairs" in results:
        print(paired_table(results))
    else:
        print(markdown_table(results))
        print()
        print(latency_memory_table(results))


# ---------------------------------------------------------------------------------------------- paired


def measure_paired_child(systems, model_dir: Path, threads: int, seconds: float, pairs: int) -> None:
    """Every system loaded in this one process; `pairs` rounds of one timed stream per system, the order
    rotating each round. Prints one JSON line."""
    first, later = _chunk_samples(model_dir / "nemo_fast")
    audio = tiled_speech(seconds)
    loaded = {}
    for name in systems:
        prepare, one_stream = BUILDERS[name](model_dir, threads)
        loaded[name] = (prepare(audio), one_stream)
        one_stream(loaded[name][0])  # warm-up
    times = {name: [] for name in systems}
    for round_index in range(pairs):
        order = systems[round_index % len(systems):] + systems[: round_index % len(systems)]
        for name in order:
            prepared, one_stream = loaded[name]
            start = time.perf_counter()
            one_stream(prepared)
            times[name].append(time.perf_counter() - start)
    print("RESULT " + json.dumps({"chunk_seconds": later / 16000, "times_s": times}), flush=True)


def paired(workdir: Path, threads_list, systems, models, seconds: float, pairs: int, output: str) -> None:
    """Side-by-side ratios in one process per model and thread count: the machine's slow and fast spells
    fall on every system within a round, so the per-round ratio is steadier than ratios of separate runs."""
    results = {"stamp": stamp(), "seconds": seconds, "pairs": pairs, "systems": systems, "runs": []}
    for model in models:
        write_contract(workdir / model / "nemo_fast")
        for threads in threads_list:
            cmd = [sys.executable, __file__, "measure-paired", str(workdir / model), "--threads", str(threads),
                   "--seconds", str(seconds), "--pairs", str(pairs), "--systems", *systems]  # fmt: skip
            proc = subprocess.run(cmd, capture_output=True, text=True)
            line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
            if line is None:
                print(f"{model} {threads} thread(s) FAILED:\n{proc.stderr[-3000:]}", flush=True)
                continue
            times = json.loads(line[7:])["times_s"]
            row = {"model": model, "threads": threads,
                   "rtf": {name: statistics.median(t) / seconds for name, t in times.items()},
                   "times_s": times}  # fmt: skip
            results["runs"].append(row)
            write_json(output, results)
            print(f"{model:14s} {threads}t " + "  ".join(f"{k} {v:.4f}" for k, v in row["rtf"].items())
                  + "  | " + "  ".join(f"{a}/{b} {r}" for a, b, r in paired_ratios(row, systems)), flush=True)
    print(paired_table(results))


def paired_ratios(row: dict, systems) -> list[tuple[str, str, str]]:
    """nemo_fast (or, without it, the first system) against each other system: the median of the per-round
    ratios and their range."""
    ours = "nemo_fast" if "nemo_fast" in systems else systems[0]
    out = []
    for other in systems:
        if other == ours:
            continue
        ratios = sorted(a / b for a, b in zip(row["times_s"][ours], row["times_s"][other]))
        out.append((ours, other, f"{statistics.median(ratios):.3f} ({ratios[0]:.3f}-{ratios[-1]:.3f})"))
    return out


def paired_table(results: dict) -> str:
    systems = results["systems"]
    ratio_names = [f"{a} / {b}" for a, b, _ in paired_ratios(results["runs"][0], systems)] if results["runs"] else []
    lines = ["| model, threads | " + " | ".join(systems) + " | " + " | ".join(ratio_names) + " |",
             "|---|" + "---:|" * (len(systems) + len(ratio_names))]  # fmt: skip
    for row in results["runs"]:
        lines.append(f"| {row['model']}, {row['threads']} | " + " | ".join(f"{row['rtf'][s]:.4f}" for s in systems)
                     + " | " + " | ".join(r for _, _, r in paired_ratios(row, systems)) + " |")  # fmt: skip
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- profile

# The operators that dynamic int8 quantization replaces or speeds up; everything else costs the same in both graphs.
MATMUL_OPS = ("MatMul", "DynamicQuantizeMatMul", "MatMulInteger", "MatMulIntegerToFloat", "FusedMatMul")


def profile_graph(model_dir: Path, graph: str, threads: int, seconds: float) -> dict:
    """One warm-up stream and one profiled stream of the bare loop on model_dir/graph/model.onnx; the
    per-step means of the profiled stream (ms)."""
    import tempfile

    chunks, one_stream = bare_onnxruntime_system(model_dir / graph, threads, str(Path(tempfile.mkdtemp()) / "ort"))
    prepared = chunks(tiled_speech(seconds))
    one_stream(prepared)  # warm-up
    one_stream(prepared)
    session = one_stream.session
    events = json.loads(Path(session.end_profiling()).read_text())
    runs = sorted((e for e in events if e.get("name") == "model_run"), key=lambda e: e["ts"])
    measured_from = runs[len(prepared)]["ts"]  # the second stream's first step
    steps = len(runs) - len(prepared)
    by_op: dict[str, float] = {}
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["ts"] >= measured_from:
            by_op[e["args"]["op_name"]] = by_op.get(e["args"]["op_name"], 0.0) + e["dur"] / 1000 / steps
    step_ms = sum(e["dur"] for e in runs[len(prepared):]) / 1000 / steps
    kernels_ms = sum(by_op.values())
    return {"step_ms": step_ms, "kernels_ms": kernels_ms, "outside_kernels_ms": step_ms - kernels_ms,
            "matmul_ms": sum(v for k, v in by_op.items() if k in MATMUL_OPS),
            "by_op_ms": dict(sorted(by_op.items(), key=lambda kv: -kv[1]))}  # fmt: skip


def _sweep(kind: str, table, workdir: Path, models, threads_list, rows_for, **settings) -> None:
    """Results of one mode over every model and thread count, saved to results/KIND.json after every row;
    rows_for(model, threads) yields the rows of one model and thread count, table(results) formats them."""
    results = {"stamp": stamp(), "kind": kind, **settings, "runs": []}
    for model in models:
        write_contract(workdir / model / "nemo_fast")
        for threads in threads_list:
            for row in rows_for(model, threads):
                results["runs"].append(row)
                write_json(kind, results)
                print(table({"runs": [row]}).splitlines()[-1], flush=True)
    print(table(results))


def profile(workdir: Path, threads_list, models, seconds: float) -> None:
    def rows_for(model, threads):
        graphs = ("nemo_fast", "nemo_fast_int8")
        yield {"model": model, "threads": threads,
               **{graph: profile_graph(workdir / model, graph, threads, seconds) for graph in graphs}}  # fmt: skip

    _sweep("profile", profile_table, workdir, models, threads_list, rows_for, seconds=seconds)


def profile_table(results: dict) -> str:
    lines = ["| model, threads | graph | step (ms) | MatMul | other operators | outside operators | "
             "step / step without MatMul |", "|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for row in results["runs"]:
        for graph in ("nemo_fast", "nemo_fast_int8"):
            p = row[graph]
            other = p["kernels_ms"] - p["matmul_ms"]
            lines.append(f"| {row['model']}, {row['threads']} | {graph} | {p['step_ms']:.1f} | {p['matmul_ms']:.1f} | "
                         f"{other:.1f} | {p['outside_kernels_ms']:.1f} | {p['step_ms'] / (p['step_ms'] - p['matmul_ms']):.2f} |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ static shapes


def _static_graph(model_dir: Path, frames: int) -> tuple[str, int, int]:
    """model_dir/model.onnx with every input shape fixed to one later chunk's (batch 1, `frames` feature
    frames) and the shape arithmetic that this makes constant folded away (onnxsim); (file name, nodes
    before, nodes after)."""
    import onnx
    import onnxsim

    graph = onnx.load(str(model_dir / "model.onnx"))
    shapes = {}
    for value in graph.graph.input:
        dims = [d.dim_value or 1 for d in value.type.tensor_type.shape.dim]  # the free dims are batch and frames
        if value.name == "audio_signal":
            dims[2] = frames
        shapes[value.name] = dims
    static, ok = onnxsim.simplify(graph, overwrite_input_shapes=shapes)
    if not ok:
        raise SystemExit(f"onnxsim could not check its simplification of {model_dir / 'model.onnx'}")
    onnx.save(static, str(model_dir / "model_static.onnx"))
    return "model_static.onnx", len(graph.graph.node), len(static.graph.node)


def _optimized_nodes(model_dir: Path, graph_file: str) -> int:
    """Nodes left after ONNX Runtime's own graph optimizations (what a session runs)."""
    import tempfile

    import onnx
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.optimized_model_filepath = str(Path(tempfile.mkdtemp()) / "optimized.onnx")
    ort.InferenceSession(str(model_dir / graph_file), options, providers=["CPUExecutionProvider"])
    return len(onnx.load(options.optimized_model_filepath, load_external_data=False).graph.node)


def _steady_chunks(chunks, seconds: float) -> list:
    """The bare loop's inputs for the later chunks of full size of `seconds` of speech (the first chunk and a
    short last one have other shapes)."""
    prepared = chunks(tiled_speech(seconds))
    return [c for c in prepared[1:] if c[0].shape[2] == prepared[1][0].shape[2]]


def _alternating_step_ms(loops: dict, steady: list, rounds: int) -> dict[str, list[float]]:
    """Mean step time (ms) of each bare loop over `steady`, per round; one warm-up each, then `rounds`
    rounds, the order reversed every other round so that neither graph always runs first."""
    for one_stream in loops.values():
        one_stream(steady)
    times: dict[str, list[float]] = {name: [] for name in loops}
    for index in range(rounds):
        for name in list(loops) if index % 2 == 0 else list(loops)[::-1]:
            start = time.perf_counter()
            loops[name](steady)
            times[name].append((time.perf_counter() - start) / len(steady) * 1000)
    return times


def static_shapes_pair(model_dir: Path, threads: int, seconds: float, rounds: int) -> dict:
    """The bare loop on the graph as exported against the same graph specialized to the later chunks' fixed
    shapes, in one process, alternating; only the later chunks of full size are timed (the first chunk and a
    short last one would need the general graph anyway)."""
    import numpy as np

    chunks, general = bare_onnxruntime_system(model_dir, threads)
    steady = _steady_chunks(chunks, seconds)
    static_file, nodes, static_nodes = _static_graph(model_dir, steady[0][0].shape[2])
    _, static = bare_onnxruntime_system(model_dir, threads, graph_file=static_file)

    def log_probs(one_stream):
        steps = []
        one_stream(steady[:50], log_probs=steps)
        return np.concatenate(steps, axis=1)

    max_difference = float(np.abs(log_probs(general) - log_probs(static)).max())
    times = _alternating_step_ms({"general": general, "static": static}, steady, rounds)
    ratios = [g / s for g, s in zip(times["general"], times["static"])]
    return {
        "nodes": nodes, "static_nodes": static_nodes, "optimized_nodes": _optimized_nodes(model_dir, "model.onnx"),
        "optimized_static_nodes": _optimized_nodes(model_dir, static_file), "max_log_prob_difference": max_difference,
        "step_ms": statistics.median(times["general"]), "static_step_ms": statistics.median(times["static"]),
        "general_over_static": statistics.median(ratios), "ratio_range": [min(ratios), max(ratios)],
    }  # fmt: skip


def static_shapes(workdir: Path, threads_list, models, seconds: float, rounds: int) -> None:
    def rows_for(model, threads):
        for graph in ("nemo_fast", "nemo_fast_int8"):
            yield {"model": model, "threads": threads, "graph": graph,
                   **static_shapes_pair(workdir / model / graph, threads, seconds, rounds)}  # fmt: skip

    _sweep("static_shapes", static_shapes_table, workdir, models, threads_list, rows_for,
           seconds=seconds, rounds=rounds)  # fmt: skip


def static_shapes_table(results: dict) -> str:
    header = ("| model, threads | graph | nodes (after ONNX Runtime) | static | step (ms) | static "
              "| general / static | max log-prob difference |")  # fmt: skip
    lines = [header, "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in results["runs"]:
        lo, hi = r["ratio_range"]
        lines.append(f"| {r['model']}, {r['threads']} | {r['graph']} | {r['optimized_nodes']} | "
                     f"{r['optimized_static_nodes']} | {r['step_ms']:.2f} | {r['static_step_ms']:.2f} | "
                     f"{r['general_over_static']:.3f} ({lo:.3f}-{hi:.3f}) | "
                     f"{r['max_log_prob_difference']:.1e} |")  # fmt: skip
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- int8 kernels

INT8_GRAPHS = ("fp32", "dynamic_int8", "matmul_nbits_int8")


def _matmul_nbits_graph(model_dir: Path) -> str:
    """model_dir/nemo_fast/model.onnx with every MatMul of a constant weight as ONNX Runtime's MatMulNBits,
    8 bits, blocks of 32, symmetric, accuracy level 4 (int8 activations: the kernel made for products of
    few rows); the file name, relative to model_dir/nemo_fast."""
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    graph_file = "model_matmul_nbits_int8.onnx"
    quantizer = MatMulNBitsQuantizer(onnx.load(str(model_dir / "nemo_fast" / "model.onnx")), bits=8, block_size=32,
                                     is_symmetric=True, accuracy_level=4)  # fmt: skip
    quantizer.process()
    quantizer.model.save_model_to_file(str(model_dir / "nemo_fast" / graph_file), False)
    return graph_file


def int8_kernels_row(model_dir: Path, threads: int, seconds: float, rounds: int) -> dict:
    """The bare loop's later chunks on the fp32 graph, the exporter's int8 graph (dynamic quantization,
    DynamicQuantizeMatMul) and a MatMulNBits 8-bit graph, in one process, alternating."""
    import numpy as np

    nbits_file = _matmul_nbits_graph(model_dir)
    chunks, fp32 = bare_onnxruntime_system(model_dir / "nemo_fast", threads)
    loops = {"fp32": fp32, "dynamic_int8": bare_onnxruntime_system(model_dir / "nemo_fast_int8", threads)[1],
             "matmul_nbits_int8": bare_onnxruntime_system(model_dir / "nemo_fast", threads, graph_file=nbits_file)[1]}
    steady = _steady_chunks(chunks, seconds)
    log_probs = {}
    for name, one_stream in loops.items():
        steps: list = []
        one_stream(steady[:50], log_probs=steps)
        log_probs[name] = np.concatenate(steps, axis=1)
    times = _alternating_step_ms(loops, steady, rounds)
    row: dict = {"step_ms": {name: statistics.median(t) for name, t in times.items()}}
    row["fp32_over"], row["argmax_agreement"] = {}, {}
    for name in INT8_GRAPHS[1:]:
        ratios = [a / b for a, b in zip(times["fp32"], times[name])]
        row["fp32_over"][name] = {"median": statistics.median(ratios), "range": [min(ratios), max(ratios)]}
        row["argmax_agreement"][name] = float((log_probs[name].argmax(-1) == log_probs["fp32"].argmax(-1)).mean())
    return row


def int8_kernels(workdir: Path, threads_list, models, seconds: float, rounds: int) -> None:
    def rows_for(model, threads):
        yield {"model": model, "threads": threads, **int8_kernels_row(workdir / model, threads, seconds, rounds)}

    _sweep("int8_kernels", int8_kernels_table, workdir, models, threads_list, rows_for, seconds=seconds, rounds=rounds)


def int8_kernels_table(results: dict) -> str:
    header = ("| model, threads | fp32 step (ms) | dynamic int8 | MatMulNBits int8 | fp32 / dynamic | "
              "fp32 / MatMulNBits | same top piece as fp32: dynamic, MatMulNBits |")  # fmt: skip
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results["runs"]:
        ms, over, agree = r["step_ms"], r["fp32_over"], r["argmax_agreement"]
        ratios = [f"{over[g]['median']:.2f} ({over[g]['range'][0]:.2f}-{over[g]['range'][1]:.2f})"
                  for g in INT8_GRAPHS[1:]]  # fmt: skip
        lines.append(f"| {r['model']}, {r['threads']} | " + " | ".join(f"{ms[g]:.2f}" for g in INT8_GRAPHS) + " | "
                     + " | ".join(ratios) + f" | {agree['dynamic_int8']:.0%}, {agree['matmul_nbits_int8']:.0%} |")
    return "\n".join(lines)


# -------------------------------------------------------------------------------------------- capacity


def capacity(workdir: Path, model: str, threads: int, warmup_ticks: int, ticks: int) -> None:
    import numpy as np

    import nemo_fast

    model_dir = workdir / model / "nemo_fast"
    write_contract(model_dir)
    recognizer = nemo_fast.Recognizer(model_dir, num_threads=threads, max_batch_size=1024)
    first, later = _chunk_samples(model_dir)
    chunk_s = later / 16000
    audio = tiled_speech((first + later * (warmup_ticks + ticks + 2)) / 16000 + 30)

    def p95_tick(n: int, batched: bool) -> float:
        """p95 over `ticks` ticks of the time to take one chunk of audio from each of n streams."""
        streams = [recognizer.create_stream() for _ in range(n)]
        offsets = [(i * 7919 * 16) % (16000 * 30) for i in range(n)]  # each stream its own stretch of speech
        times = []
        for tick in range(warmup_ticks + ticks):
            lo = first + (tick - 1) * later if tick else 0
            hi = first + tick * later
            start = time.perf_counter()
            if batched:
                for stream, off in zip(streams, offsets):
                    stream.accept_waveform_only(audio[off + lo : off + hi], 16000)
                recognizer.decode_streams(streams)
            else:
                for stream, off in zip(streams, offsets):
                    stream.accept_waveform(audio[off + lo : off + hi], 16000)
            if tick >= warmup_ticks:
                times.append(time.perf_counter() - start)
        return float(np.percentile(times, 95))

    def largest(batched: bool) -> tuple[int, dict]:
        seen = {}
        n, good = 1, 0
        while True:  # double until too slow, then bisect
            seen[n] = p95_tick(n, batched)
            print(f"  {'batched' if batched else 'one at a time'}: {n} streams p95 tick {1000 * seen[n]:.1f} ms "
                  f"(chunk {1000 * chunk_s:.0f} ms)", flush=True)
            if seen[n] >= chunk_s:
                break
            good, n = n, n * 2
        lo, hi = good, n
        while hi - lo > 1:
            mid = (lo + hi) // 2
            seen[mid] = p95_tick(mid, batched)
            print(f"  {'batched' if batched else 'one at a time'}: {mid} streams p95 tick {1000 * seen[mid]:.1f} ms",
                  flush=True)
            lo, hi = (mid, hi) if seen[mid] < chunk_s else (lo, mid)
        return lo, {str(k): 1000 * v for k, v in sorted(seen.items())}

    sequential, seq_ticks = largest(False)
    batched, batch_ticks = largest(True)
    result = {
        "stamp": stamp(), "model": model, "threads": threads, "chunk_ms": 1000 * chunk_s,
        "warmup_ticks": warmup_ticks, "ticks": ticks,
        "one_at_a_time": {"streams": sequential, "p95_tick_ms": seq_ticks},
        "batched": {"streams": batched, "p95_tick_ms": batch_ticks},
        "batched_over_one_at_a_time": batched / max(sequential, 1),
    }  # fmt: skip
    write_json(f"capacity_{model}_{threads}t", result)
    print(f"{model}, {threads} thread(s): {sequential} real-time streams one at a time, {batched} batched "
          f"({result['batched_over_one_at_a_time']:.1f}x)")


# ------------------------------------------------------------------------------------------------ plot


def plot() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = json.loads((RESULTS_DIR / "streaming.json").read_text())
    rows = results["runs"]
    keys = sorted({(r["model"], r["threads"]) for r in rows})
    systems = [s for s in SYSTEMS if any(r["system"] == s for r in rows)]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / len(systems)
    for i, system in enumerate(systems):
        values = [median_rtf(rows, *k, system) or 0 for k in keys]
        ax.bar([x + i * width for x in range(len(keys))], values, width, label=system)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(keys))])
    ax.set_xticklabels([f"{m}\n{t} thread{'s' if t > 1 else ''}" for m, t in keys], fontsize=8)
    ax.set_ylabel("real-time factor (lower is faster)")
    ax.set_title(f"Streaming CTC, {results['stamp']['cores']}-core CPU, median of {results['repeats'] * results.get('rounds', 1)}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = RESULTS_DIR / "streaming.png"
    fig.savefig(path, dpi=120)
    print(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("workdir", type=Path)
    p.add_argument("--shipped-nemo", type=Path)
    p = sub.add_parser("speed")
    p.add_argument("workdir", type=Path)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--rounds", type=int, default=1,
                   help="run every system this many times, interleaved, so that a slow spell of a shared machine "
                        "hits all systems alike; medians pool every round")
    p.add_argument("--output", default="streaming", help="results/NAME.json")
    p.add_argument("--no-latency", dest="latency", action="store_false",
                   help="skip the per-chunk latencies (and their 1,000-chunk stream): real-time factors only")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    p.add_argument("--models", nargs="+", default=["large_70_13", "large_70_1", "shipped"])
    p = sub.add_parser("measure")  # internal: one measurement in a fresh process
    p.add_argument("system", choices=SYSTEMS)
    p.add_argument("model_dir", type=Path)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--repeats", type=int, required=True)
    p.add_argument("--no-latency", dest="latency", action="store_false")
    p = sub.add_parser("paired")
    p.add_argument("workdir", type=Path)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--pairs", type=int, default=7, help="rounds of one stream per system")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--systems", nargs="+", default=["nemo_fast", "bare_onnxruntime", "nemo_fast_int8"],
                   choices=SYSTEMS)
    p.add_argument("--models", nargs="+", default=["large_70_13", "large_70_1", "shipped"])
    p.add_argument("--output", default="paired", help="results/NAME.json")
    p = sub.add_parser("measure-paired")  # internal: one paired measurement in a fresh process
    p.add_argument("model_dir", type=Path)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--pairs", type=int, required=True)
    p.add_argument("--systems", nargs="+", required=True, choices=SYSTEMS)
    p = sub.add_parser("capacity")
    p.add_argument("workdir", type=Path)
    p.add_argument("--model", default="large_70_1")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup-ticks", type=int, default=40)
    p.add_argument("--ticks", type=int, default=60)
    for mode in ("profile", "static-shapes", "int8-kernels"):  # the bare-loop probes of the encoder step
        p = sub.add_parser(mode)
        p.add_argument("workdir", type=Path)
        p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
        p.add_argument("--seconds", type=float, default=20.0)
        if mode != "profile":
            p.add_argument("--rounds", type=int, default=7)
        p.add_argument("--models", nargs="+", default=["large_70_13", "large_70_1", "shipped"])
    p = sub.add_parser("table", help="print the tables of a saved result")
    p.add_argument("name", nargs="?", default="streaming", help="results/NAME.json")
    sub.add_parser("plot")
    args = parser.parse_args()

    if args.command == "measure":
        limit_threads(args.threads)
        measure_child(args.system, args.model_dir, args.threads, args.seconds, args.repeats, args.latency)
    elif args.command == "measure-paired":
        limit_threads(args.threads)
        measure_paired_child(args.systems, args.model_dir, args.threads, args.seconds, args.pairs)
    elif args.command == "paired":
        paired(args.workdir, args.threads, args.systems, [m for m in args.models if (args.workdir / m).exists()],
               args.seconds, args.pairs, args.output)
    elif args.command == "prepare":
        prepare(args.workdir, args.shipped_nemo)
    elif args.command == "speed":
        speed(args.workdir, args.threads, args.repeats, args.rounds, args.seconds, args.systems,
              [m for m in args.models if (args.workdir / m).exists()], args.output, args.latency)
    elif args.command == "capacity":
        limit_threads(args.threads)
        capacity(args.workdir, args.model, args.threads, args.warmup_ticks, args.ticks)
    elif args.command == "profile":
        profile(args.workdir, args.threads, [m for m in args.models if (args.workdir / m).exists()], args.seconds)
    elif args.command == "static-shapes":
        static_shapes(args.workdir, args.threads, [m for m in args.models if (args.workdir / m).exists()],
                      args.seconds, args.rounds)
    elif args.command == "int8-kernels":
        int8_kernels(args.workdir, args.threads, [m for m in args.models if (args.workdir / m).exists()],
                     args.seconds, args.rounds)
    elif args.command == "table":
        show_tables(args.name)
    else:
        plot()


if __name__ == "__main__":
    main()
