"""The README's examples run as written: every code block of README.md (and the blocks of docs/usage.md marked
`<!-- run by tests/test_readme.py -->`) is run from a folder with the repository's examples/, on the shipped
model; a `# -> TEXT` line after a command (or at the end of a Python block) is what it must print. A README block
that needs what a test machine lacks (a NeMo checkpoint, a Ray cluster) is marked `<!-- not run by
tests/test_readme.py: why -->`. In a shell block, `pip install ... &&` is left out (the package is installed) and
so is `bash scripts/run_tests.sh` (it is what runs this test)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^(<!-- (?P<marker>[^>]*) -->\n)?```(?P<lang>\w+)\n(?P<body>.*?)^```$", re.M | re.S)


def _blocks(path: Path, marked_only: bool) -> list[tuple[str, str, str]]:
    """(id, language, body) of the blocks to run."""
    blocks = []
    for m in FENCE.finditer(path.read_text(encoding="utf-8")):
        marker = m.group("marker") or ""
        if marker.startswith("not run by tests/test_readme.py"):
            continue
        if marked_only and marker != "run by tests/test_readme.py":
            continue
        if m.group("lang") in ("bash", "python"):
            line = path.read_text(encoding="utf-8")[: m.start()].count("\n") + 1
            blocks.append((f"{path.name}:{line}", m.group("lang"), m.group("body")))
    return blocks


BLOCKS = _blocks(ROOT / "README.md", False) + _blocks(ROOT / "docs" / "usage.md", True)


def _expected(lines: list[str]) -> list[str]:
    return [line[len("# -> "):] for line in lines if line.startswith("# -> ")]


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    return tmp_path


def test_the_readme_has_runnable_blocks_of_both_kinds():
    kinds = {lang for _, lang, _ in BLOCKS}
    assert kinds == {"bash", "python"} and len(BLOCKS) >= 4


@pytest.mark.parametrize("where,lang,body", BLOCKS, ids=[b[0] for b in BLOCKS])
def test_a_documented_block_runs_as_written(workdir, where, lang, body):
    lines = body.splitlines()
    if lang == "python":
        run = subprocess.run([sys.executable, "-c", body], capture_output=True, text=True, cwd=workdir, timeout=300)
        assert run.returncode == 0, f"{where}: {run.stderr[-2000:]}"
        printed = run.stdout.splitlines()
        for expected in _expected(lines):  # each in order, among what the block prints
            assert expected in printed, (where, expected, printed)
            printed = printed[printed.index(expected) + 1:]
        return
    commands = []  # (command, the output lines it must print)
    for line in lines:
        if line.startswith("# -> "):
            commands[-1][1].append(line[len("# -> "):])
        elif line.strip() and not line.startswith("#"):
            command = re.sub(r"^pip install \S+ && ", "", line)
            if command.startswith(("pip install", "bash scripts/run_tests.sh")):
                continue
            commands.append((command, []))
    assert commands, where
    for command, expected in commands:
        run = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, cwd=workdir,
                             timeout=300)  # fmt: skip
        assert run.returncode == 0, f"{where}: {command}: {run.stderr[-2000:]}"
        if expected:
            assert [" ".join(line.split()) for line in run.stdout.splitlines()] == [
                " ".join(e.split()) for e in expected], (where, command, run.stdout)
