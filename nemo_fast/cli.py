"""The nemo-fast command line: transcribe, stream, serve, export, inspect."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import warnings
from pathlib import Path

from nemo_fast.arguments import add_recognizer_arguments, options_from_args
from nemo_fast.arguments import positive as _positive
from nemo_fast.errors import ConfigError, NemoFastError


def _att_context(text: str) -> tuple[int, int]:
    try:
        left, right = (int(v) for v in text.split(","))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected LEFT,RIGHT (e.g. 70,13), got {text!r}") from e
    return left, right


def cmd_transcribe(args) -> int:
    from nemo_fast import subtitles
    from nemo_fast.models import default_model_dir
    from nemo_fast.recognizer import Recognizer

    if args.manifest is not None and args.files:
        print("nemo-fast: error: give audio files or --manifest, not both", file=sys.stderr)
        return 2
    if args.manifest is None and not args.files:
        print("nemo-fast: error: give audio files ('-': one from standard input) or --manifest", file=sys.stderr)
        return 2
    if args.manifest is not None:
        return _transcribe_manifest(args)
    if args.ray is not None:
        print("nemo-fast: error: --ray transcribes a --manifest", file=sys.stderr)
        return 2
    if len(args.files) > 1 and args.format in ("srt", "vtt", "tsv") and args.output_dir is None:
        print(f"nemo-fast: error: --format {args.format} with several files needs --output-dir", file=sys.stderr)
        return 2
    if [str(f) for f in args.files].count("-") > 1:
        print("nemo-fast: error: '-' (standard input) may be given once", file=sys.stderr)
        return 2
    if args.output_dir is not None:
        written: dict[str, Path] = {}
        for path in args.files:
            name = f"{_output_stem(path)}.{args.format}"
            if name in written and Path(written[name]) != Path(path):
                # Checked before any work: the second file's output would replace the first's.
                print(f"nemo-fast: error: {written[name]} and {path} would both be written to "
                      f"{args.output_dir / name}; transcribe them into different --output-dir folders",
                      file=sys.stderr)
                return 2
            written[name] = path
    model_dir = args.model or default_model_dir()
    recognizer = Recognizer(model_dir, options_from_args(args))
    if args.output_dir is not None:
        args.output_dir.mkdir(parents=True, exist_ok=True)
    failed = 0
    sources = [_StandardInput() if str(f) == "-" else f for f in args.files]
    with _progress(args, _total_seconds(args.files)) as progress:
        for source, segments in recognizer.transcribe_many(sources, batch=args.jobs, channel=args.channel,
                                                           on_audio=progress, workers=args.workers):
            path = "-" if isinstance(source, _StandardInput) else source
            if not isinstance(segments, list):
                # One bad file does not stop the others; the exit status says that something failed.
                where = "" if str(path) in str(segments) else f"{path}: "  # file errors name the file already
                print(f"nemo-fast: error: {where}{segments}", file=sys.stderr)
                failed += 1
                continue
            text = subtitles.render(args.format, segments, source=str(path), cue_starts=args.cue_starts)
            if args.output_dir is not None:
                # Whole or not at all: an interrupted run leaves no half-written file.
                target = args.output_dir / f"{_output_stem(path)}.{args.format}"
                partial = target.with_name(f".{target.name}.partial")
                partial.write_text(text, encoding="utf-8")
                os.replace(partial, target)
            elif args.format == "txt" and len(args.files) > 1:
                sys.stdout.write("".join(f"{path}: {line}\n" for line in text.splitlines()))
            else:
                sys.stdout.write(text)
    return 1 if failed else 0


def _output_stem(path) -> str:
    return "stdin" if str(path) == "-" else Path(path).stem


class _StandardInput(io.BytesIO):
    """`-`: the audio file piped to standard input (WAV, FLAC, ... as for a file), read when first asked for."""

    name = "<stdin>"

    def __init__(self):
        if sys.stdin is None or sys.stdin.isatty():
            raise ConfigError("'-' reads an audio file from standard input, which is a terminal: pipe one in "
                              "(cat speech.wav | nemo-fast transcribe -)")
        super().__init__(sys.stdin.buffer.read())


def _total_seconds(files) -> float | None:
    """The audio duration of the files when their headers say it cheaply (WAV), for the progress bar's total
    and ETA; None when one does not."""
    import wave

    total = 0.0
    for path in files:
        try:
            with wave.open(str(path), "rb") as w:
                total += w.getnframes() / w.getframerate()
        except (OSError, EOFError, wave.Error, ZeroDivisionError):
            return None
    return total


def _transcribe_manifest(args) -> int:
    """A NeMo manifest in, the output manifest (the entries with pred_text) out, in the input order."""
    import json

    from nemo_fast import manifest
    from nemo_fast.models import default_model_dir
    from nemo_fast.recognizer import Recognizer

    words = args.format == "json"
    if args.output_manifest is None:
        print("nemo-fast: error: --manifest needs --output-manifest", file=sys.stderr)
        return 2
    if args.format not in ("txt", "json"):
        print("nemo-fast: error: --manifest writes pred_text (--format txt) or also words (--format json)",
              file=sys.stderr)
        return 2
    if args.ray is not None and args.provider not in (None, ["cpu"]):
        print("nemo-fast: error: --ray runs its actors on the CPU; --provider is for transcription in this process",
              file=sys.stderr)
        return 2
    if not args.manifest.is_file():
        print(f"nemo-fast: error: no manifest {args.manifest}", file=sys.stderr)
        return 2
    if args.output_manifest.exists() and args.output_manifest.samefile(args.manifest):
        print(f"nemo-fast: error: --output-manifest {args.output_manifest} is the input manifest; writing it would "
              "destroy the entries still to read: give another path", file=sys.stderr)
        return 2
    if args.retry_errors and not args.resume:
        print("nemo-fast: error: --retry-errors goes with --resume", file=sys.stderr)
        return 2
    entries = list(manifest.read_manifest(args.manifest))
    kept = manifest.completed_rows(args.output_manifest, entries) if args.resume else []
    retried = {i for i, (_, row) in enumerate(kept) if "error" in row} if args.retry_errors else set()
    todo = [e for i, e in enumerate(entries) if i >= len(kept) or i in retried]
    if kept:
        again = f", and {len(retried)} that failed again" if retried else ""
        print(f"nemo-fast: resuming after {len(kept)} of {len(entries)} entries{again}", file=sys.stderr)
    model_dir = args.model or default_model_dir()
    failed = 0
    durations = [e.duration for e in todo]
    total = sum(durations) if all(d for d in durations) else None
    # Entries retried in the middle of the output: it is written anew beside itself and renamed at the end (the
    # old one stays whole until then); otherwise new entries are appended, each line flushed when finished.
    target = args.output_manifest.with_name(f".{args.output_manifest.name}.partial") if retried else \
        args.output_manifest  # fmt: skip
    with open(target, "a" if kept and not retried else "w", encoding="utf-8") as out, \
            _progress(args, total) as progress:  # fmt: skip
        if args.ray is None:
            recognizer = Recognizer(model_dir, options_from_args(args))
            results = recognizer.transcribe_many(todo, batch=args.jobs, on_audio=progress,
                                                 reader=lambda e: manifest.read_entry_audio(e, args.channel),
                                                 workers=args.workers)
            rows = ((entry.line, manifest.output_row(entry, result, words), not isinstance(result, list))
                    for entry, result in results)
        else:
            from nemo_fast import ray

            ray.connect(args.ray or None)
            rows = ray.transcribe_entries(todo, args.manifest.parent, model_dir, options=options_from_args(args),
                                          actors=args.workers, batch=args.jobs, channel=args.channel, words=words)
        if retried:
            rows = _in_input_order(kept, retried, rows)
        for line, row, entry_failed in rows:
            if entry_failed:
                failed += 1
                print(f"nemo-fast: error: {args.manifest}:{line}: {row['error']}", file=sys.stderr)
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            out.flush()  # a complete line is a finished entry: --resume continues after it
    if retried:
        os.replace(target, args.output_manifest)
    try:
        rates = manifest.error_rates(args.output_manifest)
    except ImportError:
        rates = None
        print("nemo-fast: WER/CER need jiwer (pip install jiwer, or the extra eval)", file=sys.stderr)
    if rates is not None:
        wer, cer, n = rates
        print(f"WER {100 * wer:.2f}%  CER {100 * cer:.2f}%  over {n} entries with text (normalized: lower case, "
              "punctuation but apostrophes removed)", file=sys.stderr)
    return 1 if failed else 0


def _in_input_order(kept: list, retried: set, rows):
    """Every output row in the input order: the kept ones as they were, the retried and the new ones as `rows`
    gives them (in that same order)."""
    rows = iter(rows)
    for i, (_, row) in enumerate(kept):
        yield next(rows) if i in retried else (None, row, False)
    yield from rows


@contextlib.contextmanager
def _progress(args, total_seconds: float | None = None):
    """A progress bar over seconds of audio on stderr (tqdm), only on a terminal and without --quiet; with the
    total (when known) it shows the share done and the time left."""
    if args.quiet or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total_seconds, unit="s", unit_scale=True, desc="audio", file=sys.stderr, leave=False,
              bar_format=None if total_seconds else "{desc}: {n:.0f}s [{elapsed}, {rate_fmt}]") as bar:
        yield bar.update


def cmd_vad(args) -> int:
    """Speech spans of each file, as Silero VAD's get_speech_timestamps finds them."""
    import json

    from nemo_fast.vad import Vad

    vad = Vad(args.vad_model, threshold=args.threshold, min_speech_ms=args.min_speech_ms,
              min_silence_ms=args.min_silence_ms, speech_pad_ms=args.speech_pad_ms,
              max_speech_seconds=args.max_speech_seconds)
    failed = 0
    for path in args.files:
        try:
            spans = vad.speech(path)
        except (NemoFastError, OSError) as e:
            print(f"nemo-fast: error: {e}", file=sys.stderr)
            failed += 1
            continue
        if args.format == "json":
            print(json.dumps({"file": str(path), "speech": [{"start": round(s.start, 3), "end": round(s.end, 3)}
                                                            for s in spans]}, ensure_ascii=False))  # fmt: skip
        elif args.format == "tsv":
            print("file\tstart\tend")
            for s in spans:
                print(f"{path}\t{round(s.start * 1000)}\t{round(s.end * 1000)}")
        else:
            for s in spans:
                print(f"{path}: {s.start:.3f} --> {s.end:.3f}" if len(args.files) > 1 else
                      f"{s.start:.3f} --> {s.end:.3f}")  # fmt: skip
    return 1 if failed else 0


def cmd_stream(args) -> int:
    from nemo_fast.live import stream_command

    return stream_command(args)


def cmd_serve(args) -> int:
    from nemo_fast.models import default_model_dir
    from nemo_fast.server import ServerConfig, logs, serve

    logs.configure(args.log_format)
    serve(ServerConfig(model_dir=args.model or default_model_dir(), recognizer=options_from_args(args),
                       host=args.host, port=args.port, workers=args.workers,
                       token=args.token or os.environ.get("NEMO_FAST_TOKEN"), max_connections=args.max_connections,
                       idle_timeout=args.idle_timeout, max_message_bytes=args.max_message_bytes,
                       max_upload_bytes=args.max_upload_mb * 2**20,
                       max_buffered_seconds=args.max_buffered_seconds, shutdown_timeout=args.shutdown_timeout))
    return 0


def cmd_export(args) -> int:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from nemo_fast.export import export_model

    out = export_model(args.nemo_file, args.out_dir, att_context_size=args.att_context_size, mode=args.mode,
                       parity_check=not args.skip_parity_check, quantize=args.quantize,
                       default_decoder=args.default_decoder, cmvn_stats=args.cmvn_stats,
                       external_data=args.external_data)
    print(f"exported to {out}")
    return 0


def cmd_import(args) -> int:
    from nemo_fast.onnx_import import import_model

    out = import_model(args.source, args.out_dir, tokens=args.tokens, lookahead=args.lookahead, int8=args.int8)
    print(f"imported to {out}")
    for assumption in _assumptions(out / "model.onnx"):
        print(f"  assumed: {assumption}")
    return 0


def _assumptions(path: Path) -> list[str]:
    """What `nemo-fast import` took from NeMo's defaults for this model (empty for nemo-fast exports)."""
    import onnxruntime

    from nemo_fast import model_format

    meta = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_modelmeta()
    return model_format.assumptions(meta.custom_metadata_map)


def cmd_lm_build(args) -> int:
    from nemo_fast.lm import build_arpa_file

    counts = build_arpa_file(args.text, args.out, order=args.order,
                             prune_singletons_above=args.prune_singletons_above)
    print(f"{args.out}: " + ", ".join(f"{c} {n}-grams" for n, c in sorted(counts.items())))
    return 0


def cmd_inspect(args) -> int:
    import dataclasses

    from nemo_fast.recognizer import Recognizer

    spec = Recognizer(args.model_dir).spec
    nested = ("features", "geometry", "transducer", "streaming")
    print(f"model: {Path(args.model_dir).resolve()}")
    print(f"mode: {'streaming' if spec.streaming else 'offline'}")
    for field in dataclasses.fields(spec):
        value = getattr(spec, field.name)
        if field.name not in nested and value is not None:
            print(f"{field.name}: {value}")
    if spec.transducer:
        print("transducer head (decoder.onnx, joiner.onnx):")
        for key, value in dataclasses.asdict(spec.transducer).items():
            print(f"  {key}: {value}")
    if spec.geometry:
        print("streaming geometry (first chunk, later chunks) in feature frames:")
        for key, value in dataclasses.asdict(spec.geometry).items():
            print(f"  {key}: {value}")
    print("features:")
    for key, value in sorted(spec.features.to_key_values().items()):
        if key in ("window_taps", "mel_weights"):
            value = f"<checkpoint buffer, {len(value) * 3 // 4 // 4} floats>"
        print(f"  {key}: {value}")
    model_dir = Path(args.model_dir)
    assumed = _assumptions(model_dir / "model.onnx" if model_dir.is_dir() else model_dir)
    if assumed:
        print("imported by nemo-fast import; taken from NeMo's defaults, not from the files:")
        for assumption in assumed:
            print(f"  {assumption}")
    graphs = ["model.onnx"] + (["decoder.onnx", "joiner.onnx"] if spec.transducer else [])
    for graph in graphs:
        print(f"{graph} inputs/outputs:")
        for line in _io_contract(model_dir / graph if model_dir.is_dir() else model_dir):
            print(f"  {line}")
    return 0


def _io_contract(path: Path) -> list[str]:
    """Graph inputs and outputs with shapes, read with the onnxruntime Python API."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    lines = [f"input  {i.name}: {i.type} {i.shape}" for i in session.get_inputs()]
    lines += [f"output {o.name}: {o.type} {o.shape}" for o in session.get_outputs()]
    return lines


def _version() -> str:
    from nemo_fast import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nemo-fast", description="NeMo FastConformer speech recognition on ONNX Runtime")
    parser.add_argument("--version", action="version", version=f"nemo-fast {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("transcribe", help="print the transcript of audio files (WAV; FLAC etc. with soundfile)")
    t.add_argument("files", nargs="*", type=Path)
    t.add_argument("--manifest", type=Path, help="a NeMo manifest (JSON lines: audio_filepath, duration, offset, "
                                                 "text) instead of files")
    t.add_argument("--output-manifest", type=Path, help="where --manifest writes its entries with pred_text, "
                                                        "in the input order")
    t.add_argument("--resume", action="store_true", help="keep the complete entries of --output-manifest and "
                                                         "transcribe the rest")
    t.add_argument("--retry-errors", action="store_true", help="with --resume: transcribe again the kept entries "
                                                               "that failed (e.g. a file that was missing)")
    t.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                   help="transcribe --manifest with Ray Data: --workers actors, each with one recognizer, on the Ray "
                        "cluster at ADDRESS ('auto': the one started on this machine by `ray start`), or on a "
                        "local one when no ADDRESS is given (extra: ray)")
    add_recognizer_arguments(t, max_batch_size=32, long_audio=True)
    t.add_argument("--format", default="txt", choices=["txt", "json", "tsv", "srt", "vtt"],
                   help="txt: one line per segment; json: segments with words and times (one object per file); "
                        "tsv: start and end in ms, text; srt, vtt: subtitles")
    t.add_argument("--cue-starts", choices=["onset", "nemo"], default="onset",
                   help="where srt/vtt cues start: at their first word's onset (default; within about 0.1 s of the "
                        "speech) or at NeMo's word start (CTC: in the pause before the word)")
    t.add_argument("--output-dir", type=Path, help="write FILE_STEM.FORMAT there for each input, not to stdout")
    t.add_argument("--jobs", type=_positive, default=4,
                   help="files each worker decodes at once, as one batch of streams (default 4)")
    t.add_argument("--workers", type=_positive, default=1,
                   help="threads decoding batches side by side (default 1; up to one per core, with --threads 1); "
                        "with --ray, the number of Ray actors")
    t.add_argument("--quiet", action="store_true", help="no progress bar (shown only on a terminal)")
    t.add_argument("--channel", type=int, help="the channel of multi-channel files to recognize, 0-based "
                                                "(default: the average of the channels, as NeMo)")
    t.set_defaults(func=cmd_transcribe)

    s = sub.add_parser("stream", help="transcribe live audio: raw PCM from standard input ('-') or a microphone")
    s.add_argument("input", nargs="?", help="'-': raw PCM from standard input, e.g. "
                                            "ffmpeg -i URL -f s16le -ac 1 -ar 16000 - | nemo-fast stream -")
    s.add_argument("--mic", action="store_true", help="record from the default microphone (extra: mic)")
    s.add_argument("--device", help="the microphone to use (a sounddevice name or index; default: the system's)")
    s.add_argument("--encoding", default="s16le", choices=["s16le", "f32le"], help="raw sample format (default s16le)")
    s.add_argument("--sample-rate", type=_positive, default=16000, help="of the input, resampled as needed (default 16000)")
    s.add_argument("--format", default="text", choices=["text", "json"],
                   help="text: finished segments as lines with times, the growing one redrawn on a terminal; "
                        "json: one event per line, 'partial' as the text grows and 'final' with words and times")
    add_recognizer_arguments(s)
    s.set_defaults(func=cmd_stream)

    e = sub.add_parser("export", help="export a .nemo checkpoint (needs torch and nemo_toolkit)")
    e.add_argument("nemo_file", type=Path)
    e.add_argument("out_dir", type=Path)
    e.add_argument("--att-context-size", type=_att_context, help="lookahead LEFT,RIGHT of a multi-lookahead model")
    e.add_argument("--mode", default="auto", choices=["auto", "streaming", "offline"])
    e.add_argument("--skip-parity-check", action="store_true", help="do not compare with NeMo after export")
    e.add_argument("--quantize", choices=["int8"], help="dynamically quantize the encoder (after the parity check)")
    e.add_argument("--external-data", action="store_true", default=None,
                   help="keep the encoder's weights in model.onnx.data beside the graph (automatic when the graph "
                        "would exceed protobuf's 2 GB)")
    e.add_argument("--default-decoder", choices=["ctc", "rnnt", "tdt"],
                   help="the decoder transcription uses unless --decoder says otherwise (default: NeMo's, the "
                        "transducer of a hybrid model)")
    e.add_argument("--cmvn-stats", type=Path,
                   help="global CMVN: normalize features with fixed statistics from a Kaldi global_cmvn.stats "
                        "(text) or a JSON {\"mean\": [...], \"std\": [...]} file (NeMo's fixed_mean/fixed_std)")
    e.set_defaults(func=cmd_export)

    v = sub.add_parser("serve", help="a server: streaming recognition over WebSocket (sherpa-onnx's protocol on /, "
                            "nemo_fast's on /v1/stream), a browser page on /, OpenAI's transcription endpoint "
                            "(extra: server)")
    v.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    v.add_argument("--port", type=int, default=6006, help="port (default 6006; 0: any free port, printed at start)")
    v.add_argument("--workers", type=int, default=2, help="requests recognized at once")
    add_recognizer_arguments(v, max_batch_size=32)
    v.add_argument("--token", help="require 'Authorization: Bearer TOKEN' (or set NEMO_FAST_TOKEN; WebSocket "
                                   "clients may pass ?token=TOKEN)")
    v.add_argument("--max-connections", type=_positive, default=64,
                   help="WebSocket streams at once; more are refused with close code 1013 (default 64)")
    v.add_argument("--idle-timeout", type=float, default=30.0,
                   help="seconds a WebSocket client may stay silent before it is closed (default 30)")
    v.add_argument("--max-message-bytes", type=_positive, default=2**20,
                   help="largest WebSocket message; larger ones close the connection with 1009 (default 1 MiB)")
    v.add_argument("--max-upload-mb", type=_positive, default=200,
                   help="largest upload to /v1/audio/transcriptions in MiB; larger ones get 413 (default 200)")
    v.add_argument("--max-buffered-seconds", type=float, default=10.0,
                   help="audio a WebSocket client may have waiting for the decoder; beyond it the server stops "
                        "reading from that client until it catches up (default 10)")
    v.add_argument("--shutdown-timeout", type=float, default=10.0,
                   help="on SIGTERM, seconds to finish each open stream and send its finals (default 10)")
    v.add_argument("--log-format", choices=["json", "text"], default="json",
                   help="logs on standard error: one JSON object per line (default) or plain text")
    v.set_defaults(func=cmd_serve)

    m = sub.add_parser("import", help="rewrite an ONNX model NeMo exported (a sherpa-onnx package, NeMo's own "
                                      "model.export() files or an onnx-asr folder) into a model directory "
                                      "nemo-fast runs; no NeMo needed (extra: import)")
    m.add_argument("source", type=Path, help="the folder holding the ONNX files and the tokens file")
    m.add_argument("out_dir", type=Path)
    m.add_argument("--tokens", type=Path, help="the tokens file, when the folder has none (tokens.txt, vocab.txt)")
    m.add_argument("--lookahead", type=int,
                   help="right context (encoder frames) a bare NeMo export of a cache-aware model was exported "
                        "with; sherpa-onnx packages say it themselves")
    m.add_argument("--int8", action="store_true", help="take the folder's *.int8.onnx files")
    m.set_defaults(func=cmd_import)

    lm = sub.add_parser("lm", help="language models for beam search")
    lm_sub = lm.add_subparsers(dest="lm_command", required=True)
    b = lm_sub.add_parser("build", help="an ARPA word n-gram model (modified Kneser-Ney) from a text file, one "
                                        "sentence per line, words as the model spells them")
    b.add_argument("text", type=Path)
    b.add_argument("out", type=Path)
    b.add_argument("--order", type=_positive, default=3, help="n-gram order (default 3)")
    b.add_argument("--prune-singletons-above", type=int, default=0, metavar="N",
                   help="leave out n-grams above order N seen once (smaller model; default 0: keep all)")
    b.set_defaults(func=cmd_lm_build)

    d = sub.add_parser("vad", help="print the speech spans of audio files (Silero VAD; its model from the "
                                   "silero-vad package: pip install --no-deps silero-vad)")
    d.add_argument("files", nargs="+", type=Path)
    d.add_argument("--format", default="txt", choices=["txt", "json", "tsv"],
                   help="txt: 'start --> end' seconds per span; json: one object per file with its speech spans "
                        "in seconds; tsv: file, start and end in ms")
    d.add_argument("--vad-model", type=Path, help="the Silero VAD ONNX model (default: the silero-vad package's)")
    d.add_argument("--threshold", type=float, default=0.5, help="speech probability threshold (default 0.5)")
    d.add_argument("--min-speech-ms", type=int, default=250, help="shorter spans are dropped (default 250)")
    d.add_argument("--min-silence-ms", type=int, default=100, help="silence that ends a span (default 100)")
    d.add_argument("--speech-pad-ms", type=int, default=30, help="padding on each side of a span (default 30)")
    d.add_argument("--max-speech-seconds", type=float, default=float("inf"),
                   help="longer spans are cut at their longest silence (default: no limit)")
    d.set_defaults(func=cmd_vad)

    i = sub.add_parser("inspect", help="print an exported model's contract: inputs, outputs, shapes, geometry")
    i.add_argument("model_dir", type=Path)
    i.set_defaults(func=cmd_inspect)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Warnings as a command-line tool words them, not with the library's source line (restored after: main
    # may run inside another program).
    library_format, warnings.formatwarning = warnings.formatwarning, _format_warning
    try:
        return args.func(args)
    except BrokenPipeError:
        # The reader went away (`nemo-fast ... | head`): stop quietly, as other command-line tools do. Output
        # still buffered would fail again at exit, so standard output now goes nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by the closed pipe
    except (NemoFastError, OSError) as e:
        print(f"nemo-fast: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C: one line, the shell's status for SIGINT; outputs of the files finished so far are complete.
        print("nemo-fast: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.formatwarning = library_format


def _format_warning(message, *_args, **_kwargs) -> str:
    return f"nemo-fast: warning: {message}\n"


if __name__ == "__main__":
    sys.exit(main())
