"""Reading audio files into mono sample arrays (WAV with the standard library; FLAC and other formats
through the optional `soundfile` package)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from nemo_fast.errors import AudioError


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Samples (float32 in [-1, 1], or int16 PCM) and sample rate of a mono audio file."""
    path = Path(path)
    if path.is_dir():
        raise AudioError(f"{path} is a directory, not an audio file")
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            data = w.readframes(w.getnframes())
    except FileNotFoundError as e:
        raise FileNotFoundError(f"audio file not found: {path}") from e
    except OSError as e:
        raise AudioError(f"{path}: cannot read the file: {e.strerror or e}") from e
    except (wave.Error, EOFError):
        return _read_with_soundfile(path)
    # A data chunk that ends inside a sample frame (odd byte count, stereo with a sample missing): the partial
    # frame is dropped, as libsndfile does.
    data = data[:len(data) - len(data) % (width * channels)]
    if width == 2:
        samples = np.frombuffer(data, dtype="<i2")
    elif width == 4:
        samples = (np.frombuffer(data, dtype="<i4").astype(np.float64) / 2**31).astype(np.float32)
    elif width == 1:
        samples = ((np.frombuffer(data, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0).astype(np.float32)
    else:
        return _read_with_soundfile(path)
    return _mono(samples.reshape(-1, channels), path), rate


def _read_with_soundfile(path: Path) -> tuple[np.ndarray, int]:
    try:
        import soundfile
    except ImportError as e:
        raise AudioError(f"{path}: not a PCM WAV file; install the soundfile package to read other formats") from e
    try:
        samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except RuntimeError as e:
        raise AudioError(f"{path}: cannot read audio: {e}") from e
    return _mono(samples, path), rate


def _mono(frames: np.ndarray, path: Path) -> np.ndarray:
    if frames.shape[1] != 1:
        raise AudioError(f"{path} has {frames.shape[1]} channels; nemo_fast needs mono audio (mix down first)")
    return np.ascontiguousarray(frames[:, 0])
