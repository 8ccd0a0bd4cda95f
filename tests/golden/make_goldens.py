"""Writes the golden references of the default test suite by running NeMo (the only writer of goldens).

    python tests/golden/make_goldens.py [--speech]

--speech regenerates the speech clip tests/data/speech_16k.wav with espeak-ng first (otherwise the
committed clip is used). Needs nemo_toolkit[asr] and torch; never needed to run the tests.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from feature_cases import FEATURE_CONFIGS, FEATURE_GOLDEN_DIR, SPEECH_WAV, cases  # noqa: E402
from nemo_features_reference import nemo_log_mel, nemo_log_mel_float64, nemo_preprocessor  # noqa: E402

SPEECH_TEXT = "Streaming speech recognition should give the same words as the reference, every time."


def make_speech_clip() -> None:
    """Speak SPEECH_TEXT with espeak-ng and store it as 16 kHz mono int16."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(raw), SPEECH_TEXT], check=True)
        subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(SPEECH_WAV)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speech", action="store_true", help="regenerate the speech clip with espeak-ng")
    args = parser.parse_args()
    if args.speech:
        make_speech_clip()
    FEATURE_GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    for name, config in FEATURE_CONFIGS.items():
        arrays = {}
        preprocessor = nemo_preprocessor(config)
        arrays["buffer.window"] = preprocessor.featurizer.window.numpy()
        arrays["buffer.mel_weights"] = preprocessor.featurizer.fb[0].numpy()
        for case, x in cases(config["sample_rate"]).items():
            feats = nemo_log_mel(config, x, preprocessor)
            if feats is not None:
                arrays[case] = feats
                arrays[f"{case}.float64"] = nemo_log_mel_float64(config, x).astype(np.float32)
        path = FEATURE_GOLDEN_DIR / f"{name}.npz"
        np.savez_compressed(path, **arrays)
        print(f"{path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}: {len(arrays)} cases")


if __name__ == "__main__":
    main()
