"""Step 5 of the shipped-model recipe: the example recording that ships in examples/.

    python recipes/shipped_model/make_example.py examples/speech_example.wav

A held-out test sentence (never in the training text) spoken by espeak-ng's en-us voice, one of the
training voices, as 16 kHz mono 16-bit PCM.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

SENTENCE = "we changed the landscape for solving the problem of payroll inequity"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "165", "-w", str(raw), SENTENCE], check=True)
        subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(args.out)], check=True)
    print(f"{args.out}: {SENTENCE}")


if __name__ == "__main__":
    main()
