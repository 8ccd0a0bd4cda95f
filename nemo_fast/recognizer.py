"""Speech recognition with an exported NeMo FastConformer model: streaming and whole inputs."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from nemo_fast import _core, _runtime
from nemo_fast.audio import iter_audio, read_audio
from nemo_fast.errors import ArgumentError, AudioError, ConfigError, NemoFastError
from nemo_fast.model_spec import ModelSpec
from nemo_fast.models import default_model_dir
from nemo_fast.options import RecognizerOptions, hotword_list

StreamingMode = _core.StreamingMode
EndpointConfig = _core.EndpointConfig
EndpointRule = _core.EndpointRule
LongAudioConfig = _core.LongAudioConfig
_TRANSCRIBE_PIECE_SECONDS = 10
_LOUD_FLOAT_SAMPLE = 1.5  # above this, float samples are almost surely not scaled to [-1, 1]


@dataclass(frozen=True)
class Word:
    """A word with NeMo's word timestamps and confidence (what NeMo's ``transcribe(..., timestamps=True)`` and
    its default ConfidenceConfig give for the same tokens; see docs/usage.md for the rules)."""

    text: str
    start: float       # seconds of the stream, a whole number of encoder frames (NeMo's start)
    end: float
    confidence: float  # in [0, 1]: NeMo's Tsallis-entropy confidence, the least over the word's tokens
    onset: float       # the frame its first token was emitted at (CTC: NeMo's start is the token before's)

    @classmethod
    def _from_core(cls, w: _core.Word) -> Word:
        return cls(w.text, w.start_seconds, w.end_seconds, w.confidence, w.onset_seconds)


@dataclass(frozen=True)
class Segment:
    """One utterance of a stream, cut where the endpoint rules found a pause (or the segment grew too long)."""

    text: str
    start_seconds: float  # the start of its first token's encoder frame
    end_seconds: float    # the end of its last encoder frame with speech
    words: list[Word]
    token_ids: list[int]
    token_times_seconds: list[float]
    token_confidences: list[float]
    final: bool           # ended (by an endpoint or the end of the input); else still growing

    @classmethod
    def _from_core(cls, s: _core.Segment) -> Segment:
        return cls(s.text, s.start_seconds, s.end_seconds, [Word._from_core(w) for w in s.words], list(s.token_ids),
                   list(s.token_times_seconds), list(s.token_confidences), s.final)


@dataclass(frozen=True)
class StreamUpdate:
    """What changed in a stream's transcript since the last Stream.pop_update()."""

    first_segment: int     # the index of finals[0] among the stream's segments; the growing one's comes after them
    finals: list[Segment]  # the segments that ended, in order
    partial: str | None    # the growing segment's text when it changed ("" once nothing grows); None: unchanged

    @property
    def partial_segment(self) -> int:
        """The index of the growing segment."""
        return self.first_segment + len(self.finals)


class Result:
    """What a stream has recognized so far.

    Taking a result costs in proportion to what is read: the text is kept up to date as chunks are decoded,
    and the token lists are converted from the core's arrays only when first read (a live caption that reads
    `.text` after every piece of audio does not pay for the whole transcript each time)."""

    __slots__ = ("_core", "_keep_log_probs", "_text", "_token_ids", "_token_times_seconds")

    def __init__(self, core: _core.RecognitionResult, keep_log_probs: bool):
        self._core = core
        self._keep_log_probs = keep_log_probs
        self._text: str | None = None
        self._token_ids: list[int] | None = None
        self._token_times_seconds: list[float] | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self._core.text
        return self._text

    @property
    def token_ids(self) -> list[int]:
        if self._token_ids is None:
            self._token_ids = list(self._core.token_ids)
        return self._token_ids

    @property
    def token_times_seconds(self) -> list[float]:
        """Start of the encoder frame that emitted each token."""
        if self._token_times_seconds is None:
            self._token_times_seconds = list(self._core.token_times_seconds)
        return self._token_times_seconds

    @property
    def token_confidences(self) -> list[float]:
        """NeMo's default confidence of each token, in [0, 1]."""
        return list(self._core.token_confidences)

    @property
    def num_frames(self) -> int:
        """Encoder output frames decoded."""
        return self._core.num_frames

    @property
    def log_probs(self) -> np.ndarray | None:
        """(num_frames, vocab_size) CTC log-probs when the recognizer keeps them."""
        return self._core.log_probs if self._keep_log_probs else None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Result):
            return NotImplemented
        return (self.text, self.token_ids, self.token_times_seconds, self.num_frames) == (
            other.text, other.token_ids, other.token_times_seconds, other.num_frames)

    def __repr__(self) -> str:
        return f"Result(text={self.text!r}, tokens={len(self.token_ids)}, num_frames={self.num_frames})"


class Stream:
    """One utterance. Feed audio in pieces of any size; decoding happens as chunks become ready.

    Use a stream from one thread at a time. Create streams with :meth:`Recognizer.create_stream`.
    """

    def __init__(self, recognizer: Recognizer, core: _core.RecognizerStream):
        self._recognizer = recognizer
        self._core = core
        self._warned_loud = False

    def _check_scale(self) -> None:
        if not self._warned_loud and self._core.peak_abs_sample > _LOUD_FLOAT_SAMPLE:
            self._warned_loud = True
            warnings.warn(f"float audio reaches {self._core.peak_abs_sample:.4g}, far outside [-1, 1]: are these "
                          "int16 values in a float array? Divide by 32768 (or pass the int16 array)", RuntimeWarning,
                          stacklevel=3)

    def accept_waveform(self, samples: np.ndarray, sample_rate: int) -> None:
        """Add mono samples (float32/float64 in [-1, 1], or int16) and decode every chunk now ready.

        Audio at another rate than the model's (:attr:`Recognizer.sample_rate`) is resampled; a stream keeps
        the rate of its first samples until :meth:`reset`."""
        self._core.accept_waveform(samples, sample_rate)
        self._check_scale()
        self._recognizer._core.decode_streams([self._core])

    def input_finished(self) -> None:
        """Mark the end of the audio and decode the rest: the result then holds every token."""
        self._core.input_finished()
        self._recognizer._core.decode_streams([self._core])

    def result(self) -> Result:
        return Result(self._core.result(), self._recognizer.keep_log_probs)

    def segments(self) -> list[Segment]:
        """The result cut into segments: the finished ones not yet popped, then the growing one."""
        return [Segment._from_core(s) for s in self._core.segments()]

    def pop_segments(self) -> list[Segment]:
        """Takes the finished segments (and, after input_finished(), the last one) out of the stream: their
        tokens leave its result, so a stream that runs for hours holds only what was not taken yet."""
        return [Segment._from_core(s) for s in self._core.pop_segments()]

    def pop_update(self) -> StreamUpdate:
        """What changed since the last call: the segments that ended (taken out, as pop_segments) and the growing
        segment's text if it changed. What a live front-end sends on (nemo-fast stream, the server)."""
        update = self._core.pop_update()
        return StreamUpdate(update.first_segment, [Segment._from_core(s) for s in update.finals],
                            update.partial if update.partial_changed else None)

    def reset(self) -> None:
        """Start a new utterance with this stream (same as a fresh stream)."""
        self._core.reset()
        self._warned_loud = False

    @property
    def is_ready(self) -> bool:
        """Whether a chunk waits for :meth:`Recognizer.decode_streams` (after accept_waveform_only)."""
        return self._core.is_ready

    def accept_waveform_only(self, samples: np.ndarray, sample_rate: int) -> None:
        """Add samples without decoding, for callers that batch streams with Recognizer.decode_streams."""
        self._core.accept_waveform(samples, sample_rate)
        self._check_scale()

    def input_finished_only(self) -> None:
        """Mark the end of the audio without decoding (see accept_waveform_only)."""
        self._core.input_finished()


class Recognizer:
    """An exported NeMo model ready to recognize speech. Immutable; share one across threads.

    ``Recognizer(model_dir, options)`` takes a RecognizerOptions (nemo_fast.options); keyword arguments, named
    as below, replace its fields (``Recognizer(model_dir, decoding="greedy", num_threads=2)``). The options in
    use are ``recognizer.options``.

    Args:
        model_dir: directory written by ``nemo-fast export`` or ``nemo-fast import`` (model.onnx + tokens.txt,
            and the transducer graphs of transducer and hybrid models); None: the shipped model.
        options: a RecognizerOptions (default: the defaults); the keywords below replace its fields.
        decoder: the decoder to use: ``"ctc"``, ``"rnnt"`` or ``"tdt"`` (as the model has them);
            None takes the model's default (NeMo's: the transducer of a hybrid).
        num_threads: ONNX Runtime intra-op threads for one encoder call; with the encoder on a GPU, the CPU
            threads of the transducer's joint and prediction network (one beside an encoder on the CPU).
        streaming_mode: ``"default"`` (NeMo's default first chunk) or ``"pad_and_drop_preencoded"``; None: the
            model's own (``"default"``, or ``"pad_and_drop_preencoded"`` for a model imported from NeMo's
            own ONNX export, whose graph serves only that mode).
        keep_log_probs: keep every frame's CTC log-probs in results (CTC head only).
        endpoint: where streams cut their transcripts into segments (EndpointConfig; default: sherpa-onnx's
            rules: 2.4 s of silence with nothing decoded, 1.2 s after speech, or 20 s of segment).
        max_batch_size: most streams decoded in one batched encoder call.
        long_audio: how an offline model cuts a long input into windows decoded one after another
            (LongAudioConfig: windows of at most ``max_window_seconds``, default 30 s or the model's position
            limit if shorter, each cut at the quietest ``quiet_seconds`` of its last ``cut_search_seconds``;
            with ``vad_model`` (a Silero VAD model, e.g. ``nemo_fast.vad.default_model_path()``), at the least
            speech-like stretch by VAD, energy deciding between equals). Streaming models ignore it.
        graph_optimization_level: ONNX Runtime's 0, 1, 2 or 99 (all).
        session_config_entries: extra ONNX Runtime session config keys.
        providers: ONNX Runtime execution providers in order of preference: ``"cuda"``, ``"tensorrt"``,
            ``"cpu"`` (default: the CPU). One the loaded ONNX Runtime lacks (the CPU wheel has neither GPU
            provider: install ``onnxruntime-gpu``) is an error, unless ``"cpu"`` follows it, which makes the
            CPU the fall-back. ``runtime_info()["providers"]`` lists what the library offers.
        provider_options: ONNX Runtime's options per provider, e.g. ``{"cuda": {"device_id": "1"},
            "tensorrt": {"trt_fp16_enable": "1", "trt_engine_cache_enable": "1", "trt_engine_cache_path":
            "/cache"}}``. CUDA's ``cudnn_conv_algo_search`` defaults to ``"HEURISTIC"`` here (ONNX Runtime's
            own default, ``"EXHAUSTIVE"``, times every algorithm again for each new batch size).
        profile: a path prefix: ONNX Runtime profiles the encoder session (each node's time and execution
            provider, Chrome trace JSON) into ``<profile>_<date>.json``, complete when ``end_profile()`` is
            called or the recognizer deleted; ``python benchmarks/ort_profile_summary.py FILE`` sums it up.
        decoding: ``"greedy"`` (NeMo's greedy decoding, exactly) or ``"beam"`` (prefix beam search, CTC head);
            None: the model's default, its ``decoding.json`` if it has one (the shipped model's: beam search with
            its language model), else greedy. The options below left at None take the model's values too.
        beam_size: hypotheses kept by the beam search (default 8).
        lm: an ARPA word n-gram language model for shallow fusion (beam), e.g. from ``nemo-fast lm build``.
        lm_weight, word_bonus: pyctcdecode's alpha and beta: ``score = log P(tokens) + lm_weight * ln P_LM(words)
            + word_bonus * words`` (defaults 0.5 and 1.5, pyctcdecode's).
        hotwords: phrases to favour (beam): a file (one phrase per line, optionally ``phrase :BOOST``) or a
            list of phrases or ``(phrase, boost)`` pairs.
        hotword_boost: the log-score a phrase without its own boost adds when recognized whole (default 8).
        token_min_log_prob: CTC beam search expands a frame's tokens above this log-prob only (and its best
            token; default -5).
        beam_prune_log_prob: hypotheses further than this below the best are dropped (default -10).
    """

    def __init__(self, model_dir: str | Path | None = None, options: RecognizerOptions | None = None, **keywords):
        _runtime.ensure_loaded()
        if model_dir is None:
            model_dir = default_model_dir()
        options = RecognizerOptions.from_keywords(options, **keywords)
        providers = options.session.providers
        offered = _runtime.runtime_info()["providers"]
        gpu = [name for name, full in (("cuda", "CUDAExecutionProvider"), ("tensorrt", "TensorrtExecutionProvider"))
               if name in providers and full in offered]  # fmt: skip
        other = _runtime.other_onnxruntime_module() if gpu else None
        if other:
            raise ConfigError(
                f"the Python module onnxruntime from {other} is imported in this process next to the ONNX Runtime "
                f"library nemo_fast loaded ({_runtime.runtime_info()['library_path']}): two builds in one process "
                f"make the {gpu[0]} provider call into the other one and crash. Use one build: install "
                f"onnxruntime-gpu as the only onnxruntime and leave ONNXRUNTIME_ROOT unset, or do not import "
                f"onnxruntime (NeMo does) in the process that runs the GPU")
        config = options.to_core()
        self.options = options
        self.keep_log_probs = options.keep_log_probs
        self.model_dir = Path(model_dir)
        self._core = _core.Recognizer(str(model_dir), config)
        self._spec = ModelSpec._from_core(self._core.spec)
        if self._core.cache_memory.startswith("host ("):
            warnings.warn(f"{self.providers[0]}: the encoder's caches stay in host memory, copied to the device "
                          f"and back every step: {self._core.cache_memory[6:-1]}", RuntimeWarning, stacklevel=2)

    @property
    def spec(self) -> ModelSpec:
        """The model's contract as read from its metadata (features, streaming geometry, caches, vocabulary)."""
        return self._spec

    @property
    def cache_memory(self) -> str:
        """Where the encoder's caches stay between chunks: ``"host"`` on the CPU, ``"cuda:N"`` on a GPU (IO
        binding, no host round trip per step), or ``"host (...)"`` with the reason a GPU session could not keep
        them on its device (a warning says so when the recognizer is made)."""
        return self._core.cache_memory

    def end_profile(self) -> Path:
        """Ends the encoder's ONNX Runtime profile (``profile=``) and returns the file it completed. Call it when
        no ``decode_streams`` is running. ConfigError for a recognizer made without ``profile`` or a second
        call."""
        return Path(self._core.end_profile())

    @property
    def providers(self) -> list[str]:
        """The encoder's execution providers, ONNX Runtime's names in order (the CPU last, as ONNX Runtime's
        fall-back for what the others cannot run)."""
        return list(self._core.providers)

    @property
    def max_batch_size(self) -> int:
        """The most streams one batched encoder call of ``decode_streams`` takes (more are split)."""
        return self._core.config.max_batch_size

    @property
    def max_window_seconds(self) -> float | None:
        """Offline models: the longest window a long input is cut into (None for streaming models)."""
        samples = self._core.max_window_samples
        return samples / self.sample_rate if samples else None

    def windows(self, audio: np.ndarray | str | os.PathLike | BinaryIO, sample_rate: int | None = None
                ) -> list[tuple[float, float]]:
        """Offline models: the windows (start, end seconds) a long input is cut into and decoded as, at the
        model's rate (a file is read and must be at it)."""
        if isinstance(audio, np.ndarray):
            rate = sample_rate
        else:
            audio, rate = read_audio(audio)
        if rate != self.sample_rate:
            raise ConfigError(f"windows() takes audio at the model's rate ({self.sample_rate} Hz), not {rate}")
        starts = self._core.window_starts(audio)
        ends = [*starts[1:], len(audio)]
        return [(a / rate, b / rate) for a, b in zip(starts, ends)]

    @property
    def decoder(self) -> str:
        """The decoder this recognizer uses ("ctc", "rnnt" or "tdt")."""
        return self._core.decoder

    @property
    def endpoint(self) -> EndpointConfig:
        """The endpoint rules of the streams this recognizer creates (a copy)."""
        return self._core.config.endpoint

    @property
    def tokens(self) -> list[str]:
        """The model's vocabulary: token i is the piece (or character) of id i; the blank is the last."""
        return self._core.tokens

    @property
    def sample_rate(self) -> int:
        return self._spec.features.sample_rate

    def create_stream(self, endpoint: EndpointConfig | None = None,
                      hotwords: str | os.PathLike | Sequence[str | tuple[str, float]] | None = None) -> Stream:
        """A new stream; `endpoint` replaces the recognizer's endpoint rules and `hotwords` its hotwords (beam
        decoding; same forms as the Recognizer's) for this stream only."""
        return Stream(self, self._core.create_stream(endpoint, None if hotwords is None else hotword_list(hotwords)))

    @property
    def decoding(self) -> str:
        """How tokens are found: "greedy" or "beam"."""
        return self._core.config.decoding.method.name

    def decode_streams(self, streams: Sequence[Stream]) -> None:
        """Decode every ready chunk of these streams, batching chunks of equal shape in one encoder call."""
        for i, stream in enumerate(streams):
            if not isinstance(stream, Stream):
                raise ArgumentError(f"decode_streams(): item {i} is a {type(stream).__name__}, not a Stream of "
                                    "create_stream()")
        self._core.decode_streams([s._core for s in streams])

    def transcribe(self, audio: np.ndarray | str | os.PathLike | BinaryIO, sample_rate: int | None = None,
                   channel: int | None = None) -> Result:
        """Recognize a whole input: a mono sample array (give its sample_rate), an audio file path, or a binary
        file object (e.g. io.BytesIO of a WAV or FLAC file), at any sample rate (resampled to the model's). A
        file's channels are averaged unless `channel` picks one."""
        return self._decode_whole(audio, sample_rate, channel).result()

    def transcribe_segments(self, audio: np.ndarray | str | os.PathLike | BinaryIO, sample_rate: int | None = None,
                            channel: int | None = None) -> list[Segment]:
        """As transcribe(), cut into segments by the recognizer's endpoint rules."""
        return self._decode_whole(audio, sample_rate, channel).pop_segments()

    def transcribe_many(self, sources: Iterable, batch: int = 4, channel: int | None = None,
                        on_audio: Callable[[float], None] | None = None,
                        reader: Callable[[object], tuple[np.ndarray, int]] | None = None, workers: int = 1
                        ) -> Iterator[tuple[object, list[Segment] | NemoFastError | OSError]]:
        """Segments of many files in the order given: each of `workers` threads decodes `batch` files at once as
        a batch of streams (decode_streams), taking the next file when one ends. A file that cannot be read
        yields its error instead and the others go on. on_audio, if given, is called with the seconds of audio
        fed at each step (for progress bars; from the worker threads). reader, if given, turns a source into
        (samples, sample rate) instead of read_audio (e.g. a manifest entry's cut of a file)."""
        if batch < 1:
            raise ConfigError(f"batch must be >= 1, got {batch}")
        if workers < 1:
            raise ConfigError(f"workers must be >= 1, got {workers}")
        numbered = enumerate(sources)
        if reader is None:  # files block by block: an hours-long WAV file is never all in memory
            def read(source):
                return iter_audio(source, channel, 1.0)
        else:
            def read(source):
                samples, rate = reader(source)
                return ((samples[at:at + rate], rate) for at in range(0, len(samples), rate))
        finished: dict[int, tuple] = {}
        next_out = 0
        if workers == 1:
            for order, source, result in self._decode_batches(numbered, batch, read, on_audio):
                finished[order] = (source, result)
                while next_out in finished:
                    yield finished.pop(next_out)
                    next_out += 1
            return
        import queue
        import threading

        lock, stop, results = threading.Lock(), threading.Event(), queue.Queue()

        def take():  # the next source for whichever worker asks, until the consumer stops
            while not stop.is_set():
                with lock:
                    item = next(numbered, None)
                if item is None:
                    return
                yield item

        def work():
            try:
                for item in self._decode_batches(take(), batch, read, on_audio):
                    results.put(item)
            except BaseException as e:  # noqa: B036 -- handed to the consumer, which raises it
                results.put(e)
            results.put(None)

        threads = [threading.Thread(target=work, name=f"nemo_fast-transcribe-{i}", daemon=True)
                   for i in range(workers)]
        for thread in threads:
            thread.start()
        try:
            running = workers
            while running:
                item = results.get()
                if item is None:
                    running -= 1
                    continue
                if isinstance(item, BaseException):
                    raise item
                order, source, result = item
                finished[order] = (source, result)
                while next_out in finished:
                    yield finished.pop(next_out)
                    next_out += 1
        finally:
            stop.set()

    def _decode_batches(self, numbered: Iterator, batch: int, read, on_audio) -> Iterator[tuple]:
        """(order, source, segments or error) for each (order, source), `batch` decoded at once, as they end.
        read(source) gives the source's audio as (samples, rate) blocks of about a second."""
        active: list[list] = []  # [order, source, stream, blocks, the next block or None at the end]
        exhausted = False
        while active or not exhausted:
            while not exhausted and len(active) < batch:
                item = next(numbered, None)
                if item is None:
                    exhausted = True
                    break
                order, source = item
                try:
                    blocks = read(source)
                    active.append([order, source, self.create_stream(), blocks, next(blocks, None)])
                except (NemoFastError, OSError) as e:
                    yield order, source, e
            ended = []
            for entry in list(active):  # one block of each file's audio per step
                _, _, stream, blocks, block = entry
                try:
                    if block is not None:
                        stream.accept_waveform_only(block[0], block[1])
                        if on_audio is not None:
                            on_audio(len(block[0]) / block[1])
                        entry[4] = block = next(blocks, None)
                    if block is None:
                        stream.input_finished_only()
                        ended.append(entry)
                except (NemoFastError, OSError) as e:  # a file damaged past its start
                    active.remove(entry)
                    yield entry[0], entry[1], e
            if active:
                self.decode_streams([entry[2] for entry in active])
            for entry in ended:
                active.remove(entry)
                yield entry[0], entry[1], entry[2].pop_segments()

    def _decode_whole(self, audio, sample_rate: int | None, channel: int | None) -> Stream:
        if isinstance(audio, (str, os.PathLike)) or hasattr(audio, "read"):
            # Block by block (a WAV file is read so too): an hours-long file is never all in memory.
            stream = self.create_stream()
            for block, file_rate in iter_audio(audio, channel, _TRANSCRIBE_PIECE_SECONDS):
                if sample_rate is not None and sample_rate != file_rate:
                    raise ConfigError(f"sample_rate={sample_rate} given for a {file_rate} Hz file")
                stream.accept_waveform(block, file_rate)
            stream.input_finished()
            return stream
        if not isinstance(audio, np.ndarray):
            raise AudioError(f"transcribe() takes a numpy array of samples, an audio file path or a binary file "
                             f"object, got {type(audio).__name__}")
        elif sample_rate is None:
            raise ConfigError("transcribe(array) needs sample_rate")
        stream = self.create_stream()
        # The core checks the rate, and an array that is not 1-D, before they cut pieces (an empty piece when
        # the array is fine).
        stream.accept_waveform(audio[:0] if audio.ndim == 1 else audio, sample_rate)
        # Fed in pieces, so that features of a long recording are never all held at once and Ctrl-C is
        # honoured between pieces as well as between chunks.
        piece = _TRANSCRIBE_PIECE_SECONDS * sample_rate
        for start in range(0, len(audio), piece):
            stream.accept_waveform(audio[start:start + piece], sample_rate)
        stream.input_finished()
        return stream
