"""Test tiers: unit and golden tests always run; `nemo` tests recompute references with live NeMo and `cpp`
tests build and run the C++ unit tests. With NEMO_FAST_REQUIRE_ALL=1 (set by the test script and CI) a
missing NeMo or C++ toolchain fails those tests instead of skipping them."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
sys.path.insert(0, str(Path(__file__).resolve().parent / "models"))

REQUIRE_ALL = os.environ.get("NEMO_FAST_REQUIRE_ALL") == "1"


def require(available: bool, what: str) -> None:
    """Skip when `what` is missing, or fail when the run requires every tier."""
    if available:
        return
    if REQUIRE_ALL:
        pytest.fail(f"{what} is required (NEMO_FAST_REQUIRE_ALL=1) but not available")
    pytest.skip(f"{what} not available", allow_module_level=True)


def importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def require_module(name: str, what: str | None = None):
    """The module, imported; when it is missing, skip (or fail when every tier is required) as require()."""
    require(importable(name), what or name)
    return importlib.import_module(name)


def read_terminal(primary: int) -> bytes:
    """Everything written to a pseudo-terminal until the process on its other side closes it (then closed)."""
    shown = b""
    while True:
        try:
            data = os.read(primary, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not data:
            break
        shown += data
    os.close(primary)
    return shown


@pytest.fixture(scope="session")
def nemo_available() -> None:
    require(importable("nemo") and importable("torch"), "nemo_toolkit with torch")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("nemo"):
            # First, so that the guard runs before any fixture that builds a NeMo model.
            item.fixturenames.insert(0, "nemo_available")
