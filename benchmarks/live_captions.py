"""The cost of live captions: MINUTES of speech fed in 20 ms pieces, the text read after every piece; prints the
share of the loop spent reading results (median of --repeats runs).

    python benchmarks/live_captions.py [--model DIR] [--minutes 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from common import tiled_speech

import nemo_fast

ROOT = Path(__file__).resolve().parents[1]


def one_run(recognizer: nemo_fast.Recognizer, audio, piece: int) -> tuple[float, float]:
    stream = recognizer.create_stream()
    reading = 0.0
    start = time.perf_counter()
    for i in range(0, len(audio), piece):
        stream.accept_waveform(audio[i:i + piece], 16000)
        t = time.perf_counter()
        _ = stream.result().text
        reading += time.perf_counter() - t
    stream.input_finished()
    return time.perf_counter() - start, reading


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    recognizer = nemo_fast.Recognizer(args.model, decoding="greedy")
    audio = tiled_speech(args.minutes * 60)
    runs = [one_run(recognizer, audio, 320) for _ in range(args.repeats)]
    loop = statistics.median(r[0] for r in runs)
    reading = statistics.median(r[1] for r in runs)
    print(f"{args.minutes:g} min in 20 ms pieces: loop {loop:.2f} s, reading results {reading:.2f} s "
          f"({100 * reading / loop:.1f}% of the loop), median of {args.repeats}")


if __name__ == "__main__":
    sys.exit(main())
