"""The command line's recognizer flags, declared once for every command that recognizes (transcribe, stream,
serve) and read into one RecognizerOptions."""

from __future__ import annotations

import argparse
from pathlib import Path

from nemo_fast.options import DECODERS, RecognizerOptions, absolute_paths


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from e
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def providers(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in ("cpu", "cuda", "tensorrt")]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"providers are cpu, cuda and tensorrt, comma-separated; got {text!r}")
    return names


def add_recognizer_arguments(parser: argparse.ArgumentParser, *, max_batch_size: int | None = None,
                             long_audio: bool = False) -> None:
    """--model, the decoder, where it runs, NeMo's streaming mode, decoding (beam, LM, hotwords), and, for
    commands that batch many streams, --max-batch-size (its default given) and, for files, the long-audio cuts."""
    parser.add_argument("--model", type=Path, help="exported model directory (default: the shipped model)")
    parser.add_argument("--decoder", choices=DECODERS,
                        help="the decoder to use (default: the model's default, the transducer of a hybrid)")
    parser.add_argument("--threads", type=positive, default=1,
                        help="ONNX Runtime intra-op threads of one encoder call; on a GPU, of the transducer's "
                             "joint on the CPU (default 1)")
    parser.add_argument("--provider", type=providers, metavar="LIST",
                        help="ONNX Runtime execution providers in order, e.g. cuda,cpu (cuda and tensorrt need the "
                             "onnxruntime-gpu wheel; cpu last: fall back to the CPU)")
    parser.add_argument("--streaming-mode", choices=["default", "pad_and_drop_preencoded"],
                        help="NeMo's streaming mode (default: the model's own; imported NeMo exports stream only "
                             "in pad_and_drop_preencoded)")
    if max_batch_size is not None:
        parser.add_argument("--max-batch-size", type=positive, default=max_batch_size,
                            help=f"streams decoded in one encoder call (default {max_batch_size})")
    parser.add_argument("--decoding", choices=["greedy", "beam"],
                        help="greedy (NeMo's greedy decoding) or beam search (CTC: prefix beam search with the "
                             "--lm; RNN-T/TDT: modified beam search; default: the model's, see its decoding.json, "
                             "else greedy)")
    parser.add_argument("--beam-size", type=positive, help="hypotheses the beam search keeps (default 8)")
    parser.add_argument("--lm", type=Path, help="an ARPA word n-gram language model for the beam search "
                                                "(nemo-fast lm build makes one from text)")
    parser.add_argument("--lm-weight", type=float, help="the language model's weight (pyctcdecode's alpha)")
    parser.add_argument("--word-bonus", type=float, help="log-score added per word with --lm (pyctcdecode's beta)")
    parser.add_argument("--hotwords", type=Path, help="phrases to favour, one per line, optionally 'PHRASE :BOOST'")
    parser.add_argument("--hotword-boost", type=float, help="the boost of a phrase that gives none (default 8)")
    parser.add_argument("--token-min-log-prob", type=float,
                        help="CTC beam search expands a frame's tokens above this log-prob only (default -5)")
    parser.add_argument("--beam-prune-log-prob", type=float,
                        help="hypotheses further than this below the best are dropped (default -10)")
    if long_audio:
        parser.add_argument("--max-window-seconds", type=float,
                            help="offline models: cut longer audio into windows of at most this, at pauses "
                                 "(default 30, or the model's position limit if shorter)")
        parser.add_argument("--vad-cuts", action="store_true",
                            help="offline models: cut long audio where Silero VAD finds the least speech, not the "
                                 "least energy (the silero-vad package's model: pip install --no-deps silero-vad)")


_DECODING_FLAGS = ("decoding", "beam_size", "lm", "lm_weight", "word_bonus", "hotwords", "hotword_boost",
                   "token_min_log_prob", "beam_prune_log_prob")  # fmt: skip


def options_from_args(args: argparse.Namespace) -> RecognizerOptions:
    """The RecognizerOptions the flags of add_recognizer_arguments set (the unset ones keep the defaults and the
    model's decoding.json); files as absolute paths (Ray actors and servers may run in another folder)."""
    keywords = {name: getattr(args, name) for name in _DECODING_FLAGS if getattr(args, name, None) is not None}
    keywords.update(decoder=args.decoder, num_threads=args.threads, providers=args.provider or (),
                    streaming_mode=args.streaming_mode)
    if getattr(args, "max_batch_size", None) is not None:
        keywords["max_batch_size"] = args.max_batch_size
    if getattr(args, "max_window_seconds", None) is not None or getattr(args, "vad_cuts", False):
        from nemo_fast.recognizer import LongAudioConfig
        from nemo_fast.vad import default_model_path

        keywords["long_audio"] = LongAudioConfig(max_window_seconds=args.max_window_seconds or 0.0,
                                                 vad_model=str(default_model_path()) if args.vad_cuts else "")
    return absolute_paths(RecognizerOptions.from_keywords(**keywords))
