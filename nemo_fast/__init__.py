"""nemo_fast: NVIDIA NeMo FastConformer speech recognition on ONNX Runtime, exact to NeMo, without PyTorch."""

from nemo_fast import errors
from nemo_fast._runtime import runtime_info
from nemo_fast.config import FbankOptions, fbank_options_from_nemo
from nemo_fast.features import FbankStream, ImprovedFbank
from nemo_fast.recognizer import Recognizer, Result, Stream

__version__ = "0.1.0"

__all__ = [
    "errors",
    "runtime_info",
    "FbankOptions",
    "fbank_options_from_nemo",
    "FbankStream",
    "ImprovedFbank",
    "Recognizer",
    "Result",
    "Stream",
    "__version__",
]
