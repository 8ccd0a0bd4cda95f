"""Files per second of `nemo-fast transcribe` over the WAV files of a folder: --jobs N (a batch of streams)
against --jobs 1, whole processes alternating, median of --rounds each.

    python benchmarks/files_per_second.py DIR [--jobs 4] [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path


def seconds(files: list[Path], jobs: int) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nemo_fast.cli", "transcribe", "--quiet", "--decoding", "greedy", "--jobs", str(jobs), *map(str, files)],
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    files = sorted(args.folder.glob("*.wav"))
    batched, single = [], []
    for _ in range(args.rounds):
        batched.append(seconds(files, args.jobs))
        single.append(seconds(files, 1))
    b, s = statistics.median(batched), statistics.median(single)
    print(f"{len(files)} files: --jobs {args.jobs} {len(files) / b:.1f} files/s, --jobs 1 {len(files) / s:.1f} files/s "
          f"({s / b:.2f}x; whole processes, median of {args.rounds})")


if __name__ == "__main__":
    main()
