"""nemo_fast: NVIDIA NeMo FastConformer speech recognition on ONNX Runtime, exact to NeMo, without PyTorch."""

from importlib import metadata as _metadata

from nemo_fast import errors
from nemo_fast._runtime import runtime_info
from nemo_fast.config import FbankOptions, fbank_options_from_nemo
from nemo_fast.features import FbankStream, ImprovedFbank
from nemo_fast.model_spec import ModelSpec, StreamingGeometry, TransducerSpec
from nemo_fast.options import DecodingOptions, RecognizerOptions, SessionOptions
from nemo_fast.recognizer import (
    EndpointConfig,
    EndpointRule,
    LongAudioConfig,
    Recognizer,
    Result,
    Segment,
    Stream,
    StreamUpdate,
    Word,
)
from nemo_fast.vad import SpeechSpan, Vad

try:
    __version__ = _metadata.version("nemo_fast")  # the file VERSION, through the package's metadata
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "unknown"

__all__ = [
    "errors",
    "runtime_info",
    "FbankOptions",
    "fbank_options_from_nemo",
    "FbankStream",
    "ImprovedFbank",
    "ModelSpec",
    "StreamingGeometry",
    "TransducerSpec",
    "DecodingOptions",
    "RecognizerOptions",
    "SessionOptions",
    "EndpointConfig",
    "EndpointRule",
    "LongAudioConfig",
    "Recognizer",
    "Segment",
    "Result",
    "Stream",
    "StreamUpdate",
    "Word",
    "Vad",
    "SpeechSpan",
    "__version__",
]
