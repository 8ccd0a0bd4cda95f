"""Live transcription for `nemo-fast stream`: raw PCM from a pipe or audio from a microphone, decoded as it
arrives, with the growing segment shown in place on a terminal and each finished segment printed with its
times (or one JSON event per line)."""

from __future__ import annotations

import json
import os
import queue
import shutil
import sys
from collections.abc import Iterator
from typing import BinaryIO, TextIO

import numpy as np

from nemo_fast import subtitles
from nemo_fast.audio import PCM_ENCODINGS, raw_pcm
from nemo_fast.errors import ConfigError, MissingDependencyError

BLOCK_SECONDS = 0.1  # audio read per step: small, so that decoding starts as soon as a chunk is complete


def pcm_blocks(source: BinaryIO, encoding: str, sample_rate: int) -> Iterator[np.ndarray]:
    """Mono samples from a raw PCM byte stream, as they arrive (a read returns what the pipe holds, up to one
    block). Bytes of an unfinished sample wait for the rest; a trailing incomplete sample at the end is an error."""
    if encoding not in PCM_ENCODINGS:
        raise ConfigError(f"encoding must be one of {', '.join(PCM_ENCODINGS)}, got {encoding!r}")
    dtype = PCM_ENCODINGS[encoding]
    block_bytes = max(dtype.itemsize, int(sample_rate * BLOCK_SECONDS) * dtype.itemsize)
    fd = source.fileno()
    pending = b""
    while True:
        data = os.read(fd, block_bytes)
        if not data:
            break
        pending += data
        whole = len(pending) // dtype.itemsize * dtype.itemsize
        if whole:
            yield raw_pcm(pending[:whole], encoding)
            pending = pending[whole:]
    if pending:
        raise ConfigError(f"the input ended inside a sample: {len(pending)} stray byte(s) after the last whole "
                          f"{encoding} sample (is the encoding right?)")


def microphone_blocks(sample_rate: int, device: str | int | None = None) -> Iterator[np.ndarray]:
    """Mono float32 samples from a microphone (the sounddevice package), until interrupted."""
    try:
        import sounddevice
    except (ImportError, OSError) as e:  # OSError: the package is there but the PortAudio library is not
        raise MissingDependencyError(f"--mic needs the sounddevice package and the PortAudio library: pip install "
                                     f"\"nemo_fast[mic]\" (and e.g. apt-get install libportaudio2): {e}") from e
    blocks: queue.Queue[np.ndarray] = queue.Queue()

    def on_audio(indata, frames, time, status):
        blocks.put(indata[:, 0].copy())

    with sounddevice.InputStream(samplerate=sample_rate, channels=1, dtype="float32", device=device,
                                 blocksize=int(sample_rate * BLOCK_SECONDS), callback=on_audio):
        while True:
            try:  # waits in short steps, so that Ctrl-C is seen on every platform
                yield blocks.get(timeout=0.2)
            except queue.Empty:
                continue


class LivePrinter:
    """Shows a stream's transcript: on a terminal the growing segment is redrawn in place and finished segments
    stay as lines; elsewhere only finished segments are printed (text) or every change is an event (json)."""

    def __init__(self, out: TextIO, fmt: str, terminal: bool):
        self.out, self.fmt, self.terminal = out, fmt, terminal
        self.finished = 0

    def partial(self, text: str) -> None:
        if self.fmt == "json":
            self._line(json.dumps({"type": "partial", "segment": self.finished, "text": text}, ensure_ascii=False))
        elif self.terminal:
            width = shutil.get_terminal_size().columns - 1
            self.out.write("\r\x1b[2K" + (text if len(text) <= width else "..." + text[-(width - 3):]))
            self.out.flush()

    def final(self, segment) -> None:
        if self.fmt == "json":
            event = {"type": "final", "segment": self.finished, **subtitles.segment_json(segment)}
            self._line(json.dumps(event, ensure_ascii=False))
        else:
            prefix = "\r\x1b[2K" if self.terminal else ""
            self._line(f"{prefix}[{segment.start_seconds:.2f} --> {segment.end_seconds:.2f}] {segment.text}")
        self.finished += 1

    def _line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()  # a pipe reader sees each event at once


def run(recognizer, blocks: Iterator[np.ndarray], sample_rate: int, printer: LivePrinter) -> None:
    """Feeds the blocks to one stream, printing as segments grow and end. At the end of the input (or on Ctrl-C)
    the stream is flushed, so the last words are printed too."""
    stream = recognizer.create_stream()
    try:
        for samples in blocks:
            stream.accept_waveform(samples, sample_rate)
            _show(stream, printer)
    except KeyboardInterrupt:
        pass
    finally:  # also when the input turns out bad: what came before it is still printed
        stream.input_finished()
        _show(stream, printer)


def _show(stream, printer: LivePrinter) -> None:
    update = stream.pop_update()
    for segment in update.finals:
        printer.final(segment)
    if update.partial is not None:
        printer.partial(update.partial)


def stream_command(args, out: TextIO | None = None) -> int:
    from nemo_fast.models import default_model_dir
    from nemo_fast.recognizer import Recognizer

    if args.mic == (args.input is not None):
        raise ConfigError("give '-' to read raw PCM from standard input, or --mic (one of them)")
    if args.input not in (None, "-"):
        raise ConfigError(f"nemo-fast stream reads standard input ('-') or a microphone (--mic), not {args.input!r}; "
                          "use nemo-fast transcribe for files")
    out = out or sys.stdout  # looked up now: tests and callers may have replaced it since import
    from nemo_fast.arguments import options_from_args

    recognizer = Recognizer(args.model or default_model_dir(), options_from_args(args))
    if args.mic:
        blocks = microphone_blocks(args.sample_rate, args.device)
    else:
        blocks = pcm_blocks(sys.stdin.buffer, args.encoding, args.sample_rate)
    printer = LivePrinter(out, args.format, terminal=args.format == "text" and out.isatty())
    if args.format == "json":  # the model is loaded: a client can start the clock
        printer._line(json.dumps({"type": "ready", "sample_rate": args.sample_rate}))
    run(recognizer, blocks, args.sample_rate, printer)
    return 0
