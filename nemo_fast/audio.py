"""Reading audio files into mono sample arrays (PCM WAV with the standard library; FLAC and other formats
through the optional `soundfile` package, `pip install "nemo_fast[audio]"`)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np

from nemo_fast.errors import AudioError

AudioSource = Union[str, Path, BinaryIO]  # a path, or a binary file object such as io.BytesIO

# Raw PCM as live sources send it (nemo-fast stream, the server's WebSocket protocols): little-endian mono.
PCM_ENCODINGS = {"s16le": np.dtype("<i2"), "f32le": np.dtype("<f4")}


def raw_pcm(data: bytes, encoding: str) -> np.ndarray:
    """The samples of raw PCM bytes (a view, no copy). AudioError for an unknown encoding, bytes that are not
    whole samples, and float samples that are NaN or infinite."""
    dtype = PCM_ENCODINGS.get(encoding) if isinstance(encoding, str) else None
    if dtype is None:
        raise AudioError(f"encoding must be one of {', '.join(PCM_ENCODINGS)}, got {encoding!r}")
    if len(data) % dtype.itemsize:
        raise AudioError(f"{len(data)} bytes are not whole {encoding} samples (a multiple of {dtype.itemsize})")
    samples = np.frombuffer(data, dtype=dtype)
    if dtype.kind == "f" and not np.isfinite(samples).all():
        where = int(np.flatnonzero(~np.isfinite(samples))[0])
        raise AudioError(f"audio contains a non-finite sample ({samples[where]}) at index {where}")
    return samples


def read_audio(source: AudioSource, channel: int | None = None) -> tuple[np.ndarray, int]:
    """Mono samples (float32 in [-1, 1], or int16 PCM) and sample rate of an audio file or file object.

    Several channels are averaged (NeMo's channel_selector="average") unless `channel` picks one (0-based).
    PCM WAV is read with the standard library, FLAC/OGG and others with soundfile (extra `audio`), and what
    neither reads (m4a, mp4, webm, mp3, ...) through ffmpeg when it is on PATH."""
    samples, rate = _read_any(source)
    return _mono(samples, channel, _name(source)), rate


def iter_audio(source: AudioSource, channel: int | None = None, block_seconds: float = 10.0
               ) -> Iterator[tuple[np.ndarray, int]]:
    """read_audio in blocks of about block_seconds (mono samples and the rate, as read_audio gives them): a PCM
    WAV file is read block by block, so an hours-long recording is never all in memory; other formats are
    decoded whole and then cut."""
    if not hasattr(source, "read") and Path(source).is_file():
        try:
            w = wave.open(str(source), "rb")
        except (wave.Error, EOFError):
            w = None
        except OSError as e:
            raise AudioError(f"{source}: cannot read the file: {e.strerror or e}") from e
        if w is not None:
            with w:
                channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
                block = max(1, int(block_seconds * rate))
                while True:
                    frames = w.readframes(block)
                    if not frames:
                        return
                    yield _mono(_pcm_samples(frames, width, channels), channel, str(source)), rate
    samples, rate = read_audio(source, channel)
    block = max(1, int(block_seconds * rate))
    for start in range(0, max(len(samples), 1), block):
        yield samples[start:start + block], rate


def _name(source: AudioSource) -> str:
    return str(getattr(source, "name", "<file object>")) if hasattr(source, "read") else str(source)


def _read_any(source: AudioSource) -> tuple[np.ndarray, int]:
    """(frames, channels) samples and the sample rate."""
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
    if path.is_char_device() or path.is_block_device():  # /dev/zero would be read forever (pipes are taken)
        raise AudioError(f"{path} is a device, not an audio file")
    try:
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise FileNotFoundError(f"audio file not found: {path}") from e
    except OSError as e:
        raise AudioError(f"{path}: cannot read the file: {e.strerror or e}") from e
    return _read(io.BytesIO(data), str(path), data)


def _read(file: BinaryIO, name: str, data: bytes) -> tuple[np.ndarray, int]:
    if not data:
        raise AudioError(f"{name}: the file is empty (0 bytes), not audio")
    try:
        with wave.open(file, "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError):
        return _read_with_soundfile(data, name)
    return _pcm_samples(frames, width, channels), rate


def _pcm_samples(frames: bytes, width: int, channels: int) -> np.ndarray:
    """(frames, channels) samples of PCM bytes: int16 as they are, other widths as float32 in [-1, 1]."""
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
    return samples.reshape(-1, channels)


def _read_with_soundfile(data: bytes, name: str) -> tuple[np.ndarray, int]:
    try:
        import soundfile
    except ImportError:
        soundfile = None
    if soundfile is not None:
        try:
            return soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
        except RuntimeError as e:  # soundfile's LibsndfileError: a format libsndfile does not read
            problem = str(e)
    else:
        problem = "not a PCM WAV file and the soundfile package is not installed"
    if shutil.which("ffmpeg") is None:
        raise AudioError(f"{name}: cannot read audio ({problem}); other formats need the soundfile package "
                         "(pip install \"nemo_fast[audio]\") or, for m4a, mp4, webm, mp3 and more, ffmpeg on PATH")
    return _read_with_ffmpeg(data, name)


def _read_with_ffmpeg(data: bytes, name: str) -> tuple[np.ndarray, int]:
    """Decodes with ffmpeg into 16-bit PCM WAV, keeping the rate and the channels."""
    # The name's extension helps ffmpeg guess the format; a client's name may hold anything (NUL, 300 bytes).
    suffix = Path(name).suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,10}", Path(name).suffix) else ""
    with tempfile.NamedTemporaryFile(suffix=suffix) as source:  # a file: mp4 needs to seek
        source.write(data)
        source.flush()
        run = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", source.name, "-vn", "-f", "wav",
                              "-acodec", "pcm_s16le", "pipe:1"], capture_output=True)
    if run.returncode != 0 or not run.stdout:
        # ffmpeg names the temporary copy; the user knows the file by its own name.
        message = run.stderr.decode(errors="replace").replace(source.name, name).strip().splitlines()
        raise AudioError(f"{name}: cannot read audio: ffmpeg: {message[-1] if message else 'no audio'}")
    with wave.open(io.BytesIO(run.stdout), "rb") as w:
        channels, rate = w.getnchannels(), w.getframerate()
        frames = w.readframes(w.getnframes())
    return np.frombuffer(frames, dtype="<i2").reshape(-1, channels), rate


def _mono(frames: np.ndarray, channel: int | None, name: str) -> np.ndarray:
    channels = frames.shape[1]
    if channel is not None:
        if not 0 <= channel < channels:
            raise AudioError(f"{name} has {channels} channel(s); channel {channel} does not exist (0-based)")
        return np.ascontiguousarray(frames[:, channel])
    if channels == 1:
        return np.ascontiguousarray(frames[:, 0])
    # NeMo's channel_selector="average": the mean of the channels, in float.
    scale = 1.0 / 32768.0 if frames.dtype == np.int16 else 1.0
    return (frames.astype(np.float64).mean(axis=1) * scale).astype(np.float32)
