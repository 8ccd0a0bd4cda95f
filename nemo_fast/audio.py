"""Reading audio files into mono sample arrays (PCM WAV with the standard library; FLAC and other formats
through the optional `soundfile` package, `pip install "nemo_fast[audio]"`)."""

from __future__ import annotations

import io
import wave
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np

from nemo_fast.errors import AudioError

AudioSource = Union[str, Path, BinaryIO]  # a path, or a binary file object such as io.BytesIO


def read_audio(source: AudioSource) -> tuple[np.ndarray, int]:
    """Samples (float32 in [-1, 1], or int16 PCM) and sample rate of a mono audio file or file object."""
    if hasattr(source, "read"):
        name = str(getattr(source, "name", "<file object>"))
        if isinstance(source, io.TextIOBase):
            raise AudioError(f"{name}: a file object of audio must be opened in binary mode ('rb')")
        data = source.read()
        if not isinstance(data, bytes):
            raise AudioError(f"{name}: a file object of audio must be opened in binary mode ('rb')")
        return _read(io.BytesIO(data), name, data)
    path = Path(source)
    if path.is_dir():
        raise AudioError(f"{path} is a directory, not an audio file")
    try:
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise FileNotFoundError(f"audio file not found: {path}") from e
    except OSError as e:
        raise AudioError(f"{path}: cannot read the file: {e.strerror or e}") from e
    return _read(io.BytesIO(data), str(path), data)


def _read(file: BinaryIO, name: str, data: bytes) -> tuple[np.ndarray, int]:
    try:
        with wave.open(file, "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError):
        return _read_with_soundfile(data, name)
    # A data chunk that ends inside a sample frame (odd byte count, stereo with a sample missing): the partial
    # frame is dropped, as libsndfile does.
    frames = frames[: len(frames) - len(frames) % (width * channels)]
    if width == 2:
        samples = np.frombuffer(frames, dtype="<i2")
    elif width == 3:  # 24-bit PCM: little-endian three-byte integers, sign-extended
        b = np.frombuffer(frames, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        values = (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8 >> 8
        samples = (values.astype(np.float64) / 2**23).astype(np.float32)
    elif width == 4:
        samples = (np.frombuffer(frames, dtype="<i4").astype(np.float64) / 2**31).astype(np.float32)
    else:  # 8-bit unsigned
        samples = ((np.frombuffer(frames, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0).astype(np.float32)
    return _mono(samples.reshape(-1, channels), name), rate


def _read_with_soundfile(data: bytes, name: str) -> tuple[np.ndarray, int]:
    try:
        import soundfile
    except ImportError as e:
        raise AudioError(f"{name}: not a PCM WAV file; other formats (FLAC, OGG, ...) need the soundfile package: "
                         "pip install \"nemo_fast[audio]\"") from e
    try:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except RuntimeError as e:  # soundfile's LibsndfileError
        raise AudioError(f"{name}: cannot read audio: {e}") from e
    return _mono(samples, name), rate


def _mono(frames: np.ndarray, name: str) -> np.ndarray:
    if frames.shape[1] != 1:
        raise AudioError(f"{name} has {frames.shape[1]} channels; nemo_fast needs mono audio (mix down first)")
    return np.ascontiguousarray(frames[:, 0])
