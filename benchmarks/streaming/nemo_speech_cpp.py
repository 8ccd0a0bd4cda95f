"""NVIDIA's NeMo-Speech.cpp (ggml) on the same cache-aware RNN-T model: `prepare-nemo-speech-cpp` builds the
model and converts it with NeMo-Speech.cpp's own converter; the `nemo_speech_cpp_f16` / `_q8_0` systems drive
its C library (libnemo_speech_asr_c.so) in process through ctypes, as `speed` measures every system; and
`agreement` compares each system's streaming transcript with NeMo's.

NeMo-Speech.cpp streams CTC models by re-running overlapping buffers (1.92 s each side of every 160 ms chunk)
rather than with caches; only its transducers stream cache-aware. The replica here is therefore NVIDIA's
large streaming FastConformer with an RNN-T head (the shape of `stt_en_fastconformer_transducer_large` with
NeMo's multi-lookahead training, as the Nemotron streaming models have).
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import TESTS_DIR

RNNT_LOOKAHEADS = ((70, 13), (70, 6), (70, 1), (70, 0))
# Random weights make a joint that either never emits or emits several symbols on every frame (its encoder
# frames barely differ). The speed model never emits, so every system does the same decoding work (one joint
# per frame) and the encoder's cost is compared; the agreement model emits about five symbols per frame, which
# makes transcript agreement a strict test. Neither is speech-like.
BLANK_BIAS = {"large_rnnt": 50.0, "large_rnnt_emitting": 6.0}
GGUF_TYPES = ("f16", "q8_0")  # NeMo-Speech.cpp's converter writes no f32 for ASR; f16 is its widest


def _replica_recipe(name: str, bias: float):
    sys.path.insert(0, str(TESTS_DIR / "models"))
    from nemo_model_factory import ModelRecipe

    if name.startswith("nemotron"):
        # NVIDIA's Nemotron Speech Streaming 0.6B as published: 24 layers of width 1024, 8 heads, 8x causal
        # dw-striding subsampling, 128 mel features, an RNN-T head over 1,024 pieces (LSTM and joint 640,
        # assumed from NVIDIA's FastConformer transducers), four lookaheads.
        return ModelRecipe(
            name="nemotron", model_class="EncDecRNNTBPEModel", features=128, d_model=1024, n_layers=24, n_heads=8,
            subsampling_channels=256, att_context_size=RNNT_LOOKAHEADS, vocab_size=1024, seed=13, pred_hidden=640,
            pred_rnn_layers=1, max_symbols=10, blank_bias=bias, transducer_noise=0.0, joint_dropout=0.2,
        )  # fmt: skip
    return ModelRecipe(
        name="large_rnnt", model_class="EncDecRNNTBPEModel", features=80, d_model=512, n_layers=17,
        n_heads=8, subsampling_channels=256, att_context_size=RNNT_LOOKAHEADS, vocab_size=1024, seed=11,
        pred_hidden=640, pred_rnn_layers=1, max_symbols=10, blank_bias=bias, transducer_noise=0.0,
        joint_dropout=0.2,
    )  # fmt: skip


def prepare(workdir: Path, source: Path, nemotron: bool = False, lookaheads=RNNT_LOOKAHEADS) -> None:
    """Builds both RNN-T replicas with NeMo, exports them with nemo_fast per lookahead (fp32 and int8; only
    the speed model gets int8) and converts them to GGUF with NeMo-Speech.cpp's convert_model.py in `source`
    (its Python requirements: gguf, sentencepiece, torch)."""
    sys.path.insert(0, str(TESTS_DIR / "models"))
    from nemo_model_factory import build_model

    from nemo_fast.export.exporter import export_model

    workdir.mkdir(parents=True, exist_ok=True)
    models = {"nemotron": BLANK_BIAS["large_rnnt"]} if nemotron else BLANK_BIAS
    for name, bias in models.items():
        nemo_path = workdir / f"{name}.nemo"
        if not nemo_path.exists():
            model = build_model(_replica_recipe(name, bias), workdir)
            print(f"{name}: {sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters", flush=True)
            model.save_to(str(nemo_path))
        ggufs = workdir / f"{name}_gguf"
        ggufs.mkdir(exist_ok=True)
        for kind in GGUF_TYPES:
            target = ggufs / f"model.{kind}.gguf"
            if not target.exists():
                subprocess.run([sys.executable, str(source / "convert_model.py"), str(nemo_path), "--outfile",
                                str(target), "--outtype", kind], check=True)  # fmt: skip
        for lookahead in lookaheads:
            out = workdir / f"{name}_{lookahead[0]}_{lookahead[1]}"
            if not (out / "nemo_fast" / "model.onnx").exists():
                export_model(nemo_path, out / "nemo_fast", att_context_size=lookahead)
            if name in ("large_rnnt", "nemotron") and not (out / "nemo_fast_int8" / "model.onnx").exists():
                export_model(nemo_path, out / "nemo_fast_int8", att_context_size=lookahead, quantize="int8",
                             parity_check=False)  # fmt: skip
            if name in ("large_rnnt", "nemotron") and not (out / "sherpa_onnx" / "encoder.int8.onnx").exists():
                _export_for_sherpa_onnx(nemo_path, out / "sherpa_onnx", lookahead)
            (out / "nemo_speech_cpp").mkdir(exist_ok=True)
            for kind in GGUF_TYPES:
                link = out / "nemo_speech_cpp" / f"model.{kind}.gguf"
                if not link.exists():
                    link.symlink_to(ggufs / f"model.{kind}.gguf")
            (out / "source.json").write_text(json.dumps({"nemo": str(nemo_path.resolve()), "lookahead": lookahead}))


def _export_for_sherpa_onnx(nemo_path: Path, out: Path, lookahead) -> None:
    """The transducer as sherpa-onnx takes it (NeMo's own export of encoder, decoder and joint with sherpa-onnx's
    metadata; over 2 GB the encoder's weights stay in the files torch writes beside it), and encoder.int8.onnx
    quantized with the settings of nemo_fast's int8 export, so the int8 rows compare the same arithmetic."""
    from nemo_onnx_layouts import write_sherpa_onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from nemo_fast.export.nemo_model import load_nemo_model

    write_sherpa_onnx(load_nemo_model(nemo_path), out, lookahead)
    quantize_dynamic(str(out / "encoder.onnx"), str(out / "encoder.int8.onnx"), weight_type=QuantType.QInt8,
                     per_channel=True, op_types_to_quantize=["MatMul"])  # fmt: skip


class _Streaming(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("chunk_size", ctypes.c_float), ("ctc_left_padding", ctypes.c_float),
                ("ctc_right_padding", ctypes.c_float), ("rnnt_right_context", ctypes.c_int32)]  # fmt: skip


class _Backend(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("gpu", ctypes.c_int32)]


class _Model(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("path", ctypes.c_char_p), ("name", ctypes.c_char_p)]


class _RecognizerConfig(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("backend", ctypes.POINTER(_Backend)), ("model", ctypes.POINTER(_Model)),
                ("streaming", ctypes.POINTER(_Streaming))] + [
                (name, ctypes.c_void_p) for name in
                ("decoder", "vad", "endpointing", "postproc", "diar", "batching")]  # fmt: skip


class _Options(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("request_id", ctypes.c_char_p), ("language_code", ctypes.c_char_p),
                ("interim_results", ctypes.c_bool), ("enable_word_time_offsets", ctypes.c_bool),
                ("enable_automatic_punctuation", ctypes.c_bool), ("verbatim_transcripts", ctypes.c_bool),
                ("profanity_filter", ctypes.c_bool), ("stop_history_eou_ms", ctypes.c_int32),
                ("speech_contexts", ctypes.c_void_p), ("speech_context_count", ctypes.c_size_t),
                ("max_alternatives", ctypes.c_int32), ("enable_speaker_diarization", ctypes.c_bool),
                ("max_speaker_count", ctypes.c_int32)]  # fmt: skip


def _library():
    """libnemo_speech_asr_c.so from NEMO_SPEECH_CPP_LIB (a build's bin folder or the file)."""
    where = os.environ.get("NEMO_SPEECH_CPP_LIB")
    if not where:
        raise RuntimeError("set NEMO_SPEECH_CPP_LIB to NeMo-Speech.cpp's build folder holding libnemo_speech_asr_c.so")
    path = Path(where)
    lib = ctypes.CDLL(str(path / "libnemo_speech_asr_c.so" if path.is_dir() else path))
    vp, pp = ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)
    lib.nemo_speech_asr_create.argtypes = [ctypes.POINTER(_RecognizerConfig), pp]
    lib.nemo_speech_asr_recognition_options_default.restype = _Options
    lib.nemo_speech_asr_streaming_recognize.argtypes = [vp, ctypes.POINTER(_Options), pp]
    lib.nemo_speech_asr_stream_push_f32.argtypes = [vp, ctypes.POINTER(ctypes.c_float), ctypes.c_size_t,
                                                    ctypes.c_int32]  # fmt: skip
    lib.nemo_speech_asr_stream_finish.argtypes = [vp]
    lib.nemo_speech_asr_stream_next.argtypes = [vp, pp]
    lib.nemo_speech_asr_stream_close.argtypes = [vp]
    lib.nemo_speech_asr_result_transcript.argtypes = [vp, ctypes.c_size_t]
    lib.nemo_speech_asr_result_transcript.restype = ctypes.c_char_p
    lib.nemo_speech_asr_result_is_final.argtypes = [vp]
    lib.nemo_speech_asr_result_is_final.restype = ctypes.c_bool
    lib.nemo_speech_asr_result_destroy.argtypes = [vp]
    lib.nemo_speech_asr_last_error.restype = ctypes.c_char_p
    return lib


def nemo_speech_cpp_system(model_dir: Path, kind: str, threads: int):
    """NeMo-Speech.cpp's streaming recognizer on model.KIND.gguf, CPU backend, cache-aware with the right
    context of this lookahead, fed the same pieces as nemo_fast. Its CPU backend runs a fixed 4 threads; the
    benchmark's build reads NSC_BENCH_THREADS there instead (BENCHMARKS.md gives the one-line change)."""
    import numpy as np
    from systems import _as_given, _chunk_samples, _pieces

    os.environ["NSC_BENCH_THREADS"] = str(threads)
    lookahead = json.loads((model_dir.parent / "source.json").read_text())["lookahead"]
    lib = _library()
    backend = _Backend(ctypes.sizeof(_Backend), -1)
    model = _Model(ctypes.sizeof(_Model), str(model_dir / f"model.{kind}.gguf").encode(), None)
    streaming = _Streaming(ctypes.sizeof(_Streaming), 0.16, 1.92, 1.92, lookahead[1])
    config = _RecognizerConfig(ctypes.sizeof(_RecognizerConfig), ctypes.pointer(backend), ctypes.pointer(model),
                               ctypes.pointer(streaming))  # fmt: skip
    recognizer = ctypes.c_void_p()
    if lib.nemo_speech_asr_create(ctypes.byref(config), ctypes.byref(recognizer)) != 0:
        raise RuntimeError(lib.nemo_speech_asr_last_error().decode())
    options = lib.nemo_speech_asr_recognition_options_default()
    options.enable_automatic_punctuation = False
    options.verbatim_transcripts = True
    first, later = _chunk_samples(model_dir.parent / "nemo_fast")

    def drain(stream, texts):
        while True:
            result = ctypes.c_void_p()
            if lib.nemo_speech_asr_stream_next(stream, ctypes.byref(result)) != 0:
                raise RuntimeError(lib.nemo_speech_asr_last_error().decode())
            if not result.value:
                return
            if lib.nemo_speech_asr_result_is_final(result):
                texts.append(lib.nemo_speech_asr_result_transcript(result, 0).decode())
            lib.nemo_speech_asr_result_destroy(result)

    def one_stream(x, latencies=None):
        stream = ctypes.c_void_p()
        if lib.nemo_speech_asr_streaming_recognize(recognizer, ctypes.byref(options), ctypes.byref(stream)) != 0:
            raise RuntimeError(lib.nemo_speech_asr_last_error().decode())
        texts: list[str] = []
        for piece in _pieces(np.ascontiguousarray(x, dtype=np.float32), first, later):
            start = time.perf_counter()
            lib.nemo_speech_asr_stream_push_f32(stream, piece.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                                len(piece), 16000)  # fmt: skip
            drain(stream, texts)
            if latencies is not None:
                latencies.append(time.perf_counter() - start)
        lib.nemo_speech_asr_stream_finish(stream)
        drain(stream, texts)
        lib.nemo_speech_asr_stream_close(stream)
        return " ".join(t for t in texts if t)

    return _as_given, one_stream


def agreement(workdir: Path, seconds: float, model: str = "large_rnnt_emitting") -> None:
    """Each lookahead of the emitting replica: NeMo's own streaming transcript (conformer_stream_step, both
    of its streaming modes) against nemo_fast's and NeMo-Speech.cpp's (f16 and q8_0), as word and character
    error rates (jiwer) and, for nemo_fast, token identity. Results: benchmarks/results/nemo_speech_cpp_agreement.json."""
    import jiwer
    from common import stamp, tiled_speech, write_json
    from systems import write_contract

    import nemo_fast
    from nemo_fast.export import reference
    from nemo_fast.export.nemo_model import load_nemo_model

    audio = tiled_speech(seconds)
    results = {"stamp": stamp(), "seconds": seconds, "model": model, "rows": []}
    nemo_model = load_nemo_model(workdir / f"{model}.nemo")
    for lookahead in RNNT_LOOKAHEADS:
        model_dir = workdir / f"{model}_{lookahead[0]}_{lookahead[1]}"
        write_contract(model_dir / "nemo_fast")
        nemo_model.encoder.set_default_att_context_size(list(lookahead))
        nemo_model.encoder.setup_streaming_params()
        row = {"lookahead": list(lookahead)}
        for mode in ("default", "pad_and_drop_preencoded"):
            tokens = reference.nemo_streaming_transducer_tokens(nemo_model, audio, mode != "default")
            reference_text = reference.nemo_transducer_text(nemo_model, tokens)
            recognizer = nemo_fast.Recognizer(model_dir / "nemo_fast", streaming_mode=mode)
            ours = recognizer.create_stream()
            ours.accept_waveform(audio, 16000)
            ours.input_finished()
            texts = {"nemo_fast": ours.result().text}
            row[f"nemo_fast_tokens_identical_{mode}"] = list(ours.result().token_ids) == tokens
            for kind in GGUF_TYPES:
                _, one_stream = nemo_speech_cpp_system(model_dir / "nemo_speech_cpp", kind, 2)
                texts[f"nemo_speech_cpp_{kind}"] = one_stream(audio)
            # The replica's words are long runs of pieces: the character error rate says more than the WER.
            row[mode] = {"nemo_tokens": len(tokens), "nemo_words": len(reference_text.split()),
                         "nemo_characters": len(reference_text),
                         **{f"{name}_{kind}": measure(reference_text, text) if reference_text.strip() else None
                            for name, text in texts.items()
                            for kind, measure in (("wer", jiwer.wer), ("cer", jiwer.cer))}}  # fmt: skip
        results["rows"].append(row)
        print(json.dumps(row), flush=True)
        write_json("nemo_speech_cpp_agreement", results)


def speed_table(results: dict) -> str:
    """The paired run as a table: real-time factors (median of the rounds) and nemo_fast's time over
    NeMo-Speech.cpp's at the nearest precision, median of the per-round ratios (below 1: nemo_fast faster)."""
    import statistics

    def ratio(times, ours, theirs):
        return statistics.median(a / b for a, b in zip(times[ours], times[theirs]))

    lines = ["| lookahead (chunk) | threads | nemo_fast fp32 | NeMo-Speech.cpp f16 | fp32 / f16 | nemo_fast int8 | "
             "NeMo-Speech.cpp q8_0 | int8 / q8_0 |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in results["runs"]:
        right = int(row["model"].rsplit("_", 1)[1])
        rtf, times = row["rtf"], row["times_s"]
        lines.append(
            f"| [70,{right}] ({80 * (right + 1)} ms) | {row['threads']} | {rtf['nemo_fast']:.4f} | "
            f"{rtf['nemo_speech_cpp_f16']:.4f} | **{ratio(times, 'nemo_fast', 'nemo_speech_cpp_f16'):.2f}** | "
            f"{rtf['nemo_fast_int8']:.4f} | {rtf['nemo_speech_cpp_q8_0']:.4f} | "
            f"**{ratio(times, 'nemo_fast_int8', 'nemo_speech_cpp_q8_0'):.2f}** |")
    return "\n".join(lines)
