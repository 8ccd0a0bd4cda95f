"""Typed errors of nemo_fast.

Every error subclasses :class:`NemoFastError` and also the builtin a caller would catch for that kind of
problem, so ``except ValueError`` keeps working for bad input and ``except FileNotFoundError`` for a
missing model file.
"""


class NemoFastError(Exception):
    """Base class of all nemo_fast errors."""


class ConfigError(NemoFastError, ValueError):
    """An option or a NeMo config value is invalid, unknown or unsupported."""


class AudioError(NemoFastError, ValueError):
    """Audio input is unusable: wrong shape (e.g. stereo), wrong dtype."""


class NonFiniteAudioError(AudioError):
    """Audio contains NaN or Inf samples."""


class EmptyAudioError(AudioError):
    """Audio has no samples where some are required."""


class SampleRateMismatchError(AudioError):
    """Audio sample rate differs from the rate the model or features expect."""


class ModelError(NemoFastError, ValueError):
    """A model file is malformed, lacks required metadata, or is of an unsupported kind."""


class ModelFileNotFoundError(ModelError, FileNotFoundError):
    """A required model file does not exist."""


class StreamStateError(NemoFastError, RuntimeError):
    """A call the stream's state does not allow, such as audio after input_finished()."""


class StreamBusyError(StreamStateError):
    """A stream is in use by another call at this moment (another thread feeds, decodes or reads it).

    A stream belongs to one thread at a time; the refused call leaves the stream unchanged."""


class ArgumentError(NemoFastError, ValueError):
    """An argument of a call is unusable, such as a stream listed twice or a stream of another recognizer."""


class MissingDependencyError(NemoFastError, ImportError):
    """An optional package that this feature needs is not installed; the message names what to install."""


class OnnxRuntimeError(NemoFastError, RuntimeError):
    """ONNX Runtime could not be found, loaded, or failed while running a model."""


__all__ = [
    "NemoFastError",
    "ConfigError",
    "AudioError",
    "NonFiniteAudioError",
    "EmptyAudioError",
    "SampleRateMismatchError",
    "ModelError",
    "ModelFileNotFoundError",
    "StreamStateError",
    "StreamBusyError",
    "ArgumentError",
    "MissingDependencyError",
    "OnnxRuntimeError",
]
