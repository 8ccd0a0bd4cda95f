"""scripts/run_tests.sh: --help prints its usage without installing anything; --quick installs only this
package and runs the tier that needs neither NeMo nor the C++ toolchain. (The interpreter is a stand-in that
records what it was asked to run.)"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    calls = tmp_path / "calls.txt"
    fake = tmp_path / "python"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    fake.chmod(0o755)
    run = subprocess.run(["bash", str(ROOT / "scripts" / "run_tests.sh"), *args], capture_output=True, text=True,
                         env=dict(os.environ, PYTHON=str(fake)), timeout=60)  # fmt: skip
    return run, calls.read_text().splitlines() if calls.exists() else []


def test_help_prints_the_usage_and_runs_nothing(tmp_path):
    for flag in ("--help", "-h"):
        run, calls = _run(tmp_path, flag)
        assert run.returncode == 0 and run.stdout.startswith("usage: bash scripts/run_tests.sh")
        assert "--quick" in run.stdout and calls == []


def test_quick_installs_only_the_package_and_runs_the_tier_without_nemo(tmp_path):
    run, calls = _run(tmp_path, "--quick", "-k", "beam")
    assert run.returncode == 0, run.stderr
    installs = [c for c in calls if c.startswith("-m pip install")]
    assert installs and not [c for c in installs if "torch" in c or "nemo-toolkit" in c]
    assert calls[-1] == "-m pytest -m not nemo and not cpp -k beam"
