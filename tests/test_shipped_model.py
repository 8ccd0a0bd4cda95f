"""The model that ships with the package: the main job works out of the box, and the trained model is exact
to NeMo's own streaming inference of its checkpoint (goldens written by NeMo from recipes/shipped_model's
model.nemo)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from recognizer_cases import feed_in_pieces
from shipped_model_cases import EXAMPLE_WAV, GOLDEN, REPO, SHIPPED_MODEL, audio_cases, main_job_text

import nemo_fast
from nemo_fast.models import default_model_dir

FEEDS = {"whole": None, "10ms": 160, "1234_samples": 1234}


def test_the_installed_package_ships_the_model():
    installed = default_model_dir()
    names = sorted(p.name for p in SHIPPED_MODEL.iterdir())
    assert {"model.onnx", "tokens.txt", "README.md"} <= set(names)
    assert sorted(p.name for p in installed.iterdir() if p.is_file()) == names
    for name in names:
        assert (installed / name).read_bytes() == (SHIPPED_MODEL / name).read_bytes(), name


def golden_texts() -> dict:
    return json.loads(GOLDEN.with_suffix(".json").read_text())


def test_main_job_transcribes_the_example(tmp_path):
    """`nemo-fast transcribe FILE` with no model given prints the beam search with the shipped LM over NeMo's own
    streaming log-probs."""
    out = subprocess.run([sys.executable, "-m", "nemo_fast.cli", "transcribe", str(EXAMPLE_WAV)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == main_job_text()


def test_readme_shows_what_the_main_job_prints():
    """The README's first command is the main job; the line under it must be the transcript it prints."""
    readme = (REPO / "README.md").read_text()
    command = "nemo-fast transcribe examples/speech_example.wav"
    lines = readme.splitlines()
    at = next(i for i, line in enumerate(lines) if command in line)
    assert lines[at + 1].strip() == "# -> " + main_job_text()


def test_shipped_files_are_small():
    total = sum(p.stat().st_size for p in SHIPPED_MODEL.rglob("*") if p.is_file())
    assert total <= 25 * 2**20


@pytest.mark.parametrize("feed", sorted(FEEDS))
@pytest.mark.parametrize("mode", ["default", "pad_and_drop_preencoded"])
def test_trained_model_matches_nemo_streaming(mode, feed):
    arrays = dict(np.load(GOLDEN.with_suffix(".npz")))
    texts = golden_texts()
    recognizer = nemo_fast.Recognizer(SHIPPED_MODEL, decoder="ctc", decoding="greedy", keep_log_probs=True,
                                      streaming_mode=mode)
    for case, audio in audio_cases().items():
        result = feed_in_pieces(recognizer, audio, FEEDS[feed])
        ref = arrays[f"{case}.{mode}.log_probs"]
        where = f"{case} {mode} fed {feed}"
        assert result.log_probs.shape == ref.shape, where
        diff = np.abs(result.log_probs - ref).max()
        assert diff <= 1e-4, f"{where}: max |log-prob diff| {diff:.3g}"
        assert result.token_ids == arrays[f"{case}.{mode}.tokens"].tolist(), where
        assert result.text == texts[f"{case}.{mode}"], where
