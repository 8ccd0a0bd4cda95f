"""The cost of endpointing and word timing: the same stream (MINUTES of speech with pauses, in 0.1 s pieces, segments
popped as they finish, each with its words, times and confidences) decoded with the endpoint rules on and off,
alternating in one process; prints the median ratio. (Token confidences are computed in both arms: the decoders
always keep them; BENCHMARKS.md gives their cost against a build without them.)

    python benchmarks/segmentation_cost.py [--model DIR] [--minutes 2] [--rounds 11]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from common import tiled_speech

import nemo_fast

ROOT = Path(__file__).resolve().parents[1]


def stream_seconds(recognizer: nemo_fast.Recognizer, audio: np.ndarray) -> tuple[float, int]:
    stream = recognizer.create_stream()
    segments = words = 0
    start = time.perf_counter()
    for i in range(0, len(audio), 1600):
        stream.accept_waveform(audio[i:i + 1600], 16000)
        popped = stream.pop_segments()
        segments += len(popped)
        words += sum(len(s.words) for s in popped)
    stream.input_finished()
    segments += len(stream.pop_segments())
    return time.perf_counter() - start, segments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args()
    speech = tiled_speech(8.0)
    pause = np.zeros(32000, np.float32)
    audio = np.tile(np.concatenate([speech, pause]), int(np.ceil(args.minutes * 60 / 10)))
    off = nemo_fast.EndpointConfig(enabled=False)
    with_rules = nemo_fast.Recognizer(args.model, decoding="greedy")
    without = nemo_fast.Recognizer(args.model, decoding="greedy", endpoint=off)
    ratios, segments = [], 0
    for _ in range(args.rounds):
        on_s, segments = stream_seconds(with_rules, audio)
        off_s, _ = stream_seconds(without, audio)
        ratios.append(on_s / off_s)
    print(f"{len(audio) / 16000:.0f} s of speech with pauses, {segments} segments: with / without endpointing "
          f"{statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f}), {args.rounds} rounds")


if __name__ == "__main__":
    main()
