"""Voice activity detection with Silero VAD: the ONNX model of the silero-vad package, run in the C++ core
through the recognizer's ONNX Runtime (no torch), with the package's get_speech_timestamps rules, so that the
speech spans are the package's to the sample.

The model file is the package's own, found where the package is installed (``pip install --no-deps
silero-vad``: the package declares torch, which nemo_fast does not need), or any path given; it is never
downloaded.
"""

from __future__ import annotations

import importlib.util
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nemo_fast import _core, _runtime
from nemo_fast.audio import AudioSource, read_audio
from nemo_fast.errors import MissingDependencyError


def default_model_path() -> Path:
    """The silero_vad.onnx of the installed silero-vad package (found without importing it: it imports torch)."""
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError("Silero VAD needs the model of the silero-vad package: pip install --no-deps "
                                     "silero-vad (nemo_fast does not need its torch), or give the model's path")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "silero_vad.onnx"
    if not path.is_file():
        raise MissingDependencyError(f"the silero-vad package has no model at {path}; give the model's path")
    return path


@dataclass(frozen=True)
class SpeechSpan:
    """A stretch of speech, as get_speech_timestamps gives it (padded), in samples and seconds of the input."""

    start_sample: int
    end_sample: int
    sample_rate: int

    @property
    def start(self) -> float:
        return self.start_sample / self.sample_rate

    @property
    def end(self) -> float:
        return self.end_sample / self.sample_rate


class Vad:
    """Silero VAD with get_speech_timestamps' parameters (its defaults: threshold 0.5, neg_threshold
    max(threshold - 0.15, 0.01), min_speech_ms 250, min_silence_ms 100, speech_pad_ms 30, no max_speech_seconds).
    Immutable; share one between threads. Rates: 8000 and 16000 Hz, and multiples of 16000 (one sample in
    rate / 16000 is taken, as the package does)."""

    def __init__(self, model_path: str | os.PathLike | None = None, num_threads: int = 1, threshold: float = 0.5,
                 neg_threshold: float | None = None, min_speech_ms: int = 250, min_silence_ms: int = 100,
                 speech_pad_ms: int = 30, max_speech_seconds: float = math.inf):
        _runtime.ensure_loaded()
        self.options = _core.VadOptions()
        self.options.threshold = threshold
        self.options.neg_threshold = -1.0 if neg_threshold is None else neg_threshold
        self.options.min_speech_ms = min_speech_ms
        self.options.min_silence_ms = min_silence_ms
        self.options.speech_pad_ms = speech_pad_ms
        self.options.max_speech_seconds = max_speech_seconds
        self.options.validate()
        self.model_path = Path(model_path) if model_path is not None else default_model_path()
        self._model = _core.SileroVadModel(os.fspath(self.model_path), num_threads)

    def _stream(self, audio: np.ndarray | AudioSource, sample_rate: int | None):
        if isinstance(audio, np.ndarray):
            if sample_rate is None:
                from nemo_fast.errors import ConfigError

                raise ConfigError("an array of samples needs its sample_rate")
        else:
            audio, sample_rate = read_audio(audio)
        stream = _core.VadStream(self._model, sample_rate)
        stream.accept_waveform(audio)
        stream.input_finished()
        return stream, sample_rate

    def probabilities(self, audio: np.ndarray | AudioSource, sample_rate: int | None = None) -> np.ndarray:
        """The speech probability of each 32 ms window (512 samples at 16 kHz; the last one zero-padded)."""
        return self._stream(audio, sample_rate)[0].probabilities

    def speech(self, audio: np.ndarray | AudioSource, sample_rate: int | None = None) -> list[SpeechSpan]:
        """The speech spans of a file (path or binary file object) or an array with its sample_rate."""
        stream, rate = self._stream(audio, sample_rate)
        return [SpeechSpan(start, end, rate) for start, end in _core.speech_spans(stream, self.options)]
