"""Finding and loading the ONNX Runtime shared library.

nemo_fast does not link ONNX Runtime at build time. At first use it loads one library, in this order:

1. ``$ONNXRUNTIME_ROOT/lib/libonnxruntime.so*`` when the ``ONNXRUNTIME_ROOT`` environment variable is set
   (a user's own ONNX Runtime install, e.g. an official release archive);
2. the library inside the installed ``onnxruntime`` or ``onnxruntime-gpu`` Python wheel (both provide the
   module ``onnxruntime``; ``onnxruntime/capi/libonnxruntime.so.*``). Install nemo_fast with the extra of the
   flavour you want: ``pip install "nemo_fast[cpu]"`` or ``"nemo_fast[gpu]"``; the GPU wheel's library runs the
   CPU provider too.

Any release that offers the C API version of nemo_fast's headers (21, ONNX Runtime 1.21) or newer works.
The ``onnxruntime`` Python module carries its own copy of ONNX Runtime, so ``import onnxruntime`` in the same
process loads a second one next to nemo_fast's; on the CPU they keep apart, but the GPU providers' shared
library binds to whichever loaded first (see ``other_onnxruntime_module``).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
import threading
import warnings
from pathlib import Path

from nemo_fast.errors import OnnxRuntimeError

try:
    from nemo_fast import _core
except ImportError as e:  # e.g. Python started in the source tree, whose nemo_fast/ has no built extension
    raise ImportError(f"nemo_fast's C++ extension is not built in {Path(__file__).parent}: install the package "
                      "(pip install .) and import it from outside the source tree") from e

_lock = threading.Lock()


def _library_in(directory: Path) -> Path | None:
    candidates = sorted(directory.glob("libonnxruntime.so*")) + sorted(directory.glob("libonnxruntime*.dylib"))
    # Prefer the fully versioned file (the real library) over symlinks to it.
    candidates.sort(key=lambda p: (p.is_symlink(), -len(p.name)))
    return candidates[0] if candidates else None


_WHEELS = ("onnxruntime", "onnxruntime-gpu", "onnxruntime-directml", "onnxruntime-openvino")


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


def find_onnxruntime_library() -> Path:
    """The ONNX Runtime library nemo_fast will load (see the module docstring for the order)."""
    root = os.environ.get("ONNXRUNTIME_ROOT")
    if root:
        lib = _library_in(Path(root) / "lib")
        if lib is None:
            raise OnnxRuntimeError(f"ONNXRUNTIME_ROOT={root} has no lib/libonnxruntime.so*")
        return lib
    spec = importlib.util.find_spec("onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        raise OnnxRuntimeError(
            "ONNX Runtime not found: install one flavour, pip install \"nemo_fast[cpu]\" (the onnxruntime wheel) or "
            "\"nemo_fast[gpu]\" (onnxruntime-gpu), or set ONNXRUNTIME_ROOT to an ONNX Runtime install"
        )
    flavours = [name for name in _WHEELS if _installed(name)]
    if len(flavours) > 1:
        warnings.warn(f"{' and '.join(flavours)} are both installed; they provide the same module 'onnxruntime' and "
                      f"overwrite each other's files: uninstall all but one, then reinstall it", RuntimeWarning,
                      stacklevel=2)
    capi = Path(list(spec.submodule_search_locations)[0]) / "capi"
    lib = _library_in(capi)
    if lib is None:
        raise OnnxRuntimeError(f"the onnxruntime package at {capi.parent} has no capi/libonnxruntime.so*")
    return lib


def ensure_loaded() -> dict:
    """Load ONNX Runtime if needed; returns what is loaded."""
    with _lock:
        if _core.onnxruntime_loaded():
            return _core.runtime_info()
        return _core.load_onnxruntime(str(find_onnxruntime_library()))


def runtime_info() -> dict:
    """ONNX Runtime as actually loaded: ``{"version", "library_path", "api_version", "providers"}`` (providers:
    the execution providers the library offers, e.g. ``["CPUExecutionProvider"]`` for the CPU wheel).

    Loads the library first if nothing has needed it yet.
    """
    return dict(ensure_loaded())


def other_onnxruntime_module() -> str | None:
    """The ``onnxruntime`` Python module imported in this process, when it comes from another directory than the
    library nemo_fast loaded (another build: ``ONNXRUNTIME_ROOT``, or another wheel); else None.

    ONNX Runtime's GPU providers find their host through ``libonnxruntime_providers_shared.so``, and the
    dynamic linker gives them the copy loaded first: with another build's module imported before, nemo_fast's
    CUDA provider called into that build and crashed (measured: segmentation fault in the first batched step,
    the module of onnxruntime 1.30 next to the library of 1.31.1; NeMo imports ``onnxruntime``).
    """
    module = sys.modules.get("onnxruntime")
    location = getattr(module, "__file__", None)
    if not location:
        return None
    package = Path(location).resolve().parent
    library = Path(ensure_loaded()["library_path"]).resolve()
    if package in library.parents:
        return None
    return f"{package} (onnxruntime {getattr(module, '__version__', 'of unknown version')})"
