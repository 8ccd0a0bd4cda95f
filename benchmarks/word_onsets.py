"""Word starts against speech onsets: espeak-ng phrases separated by pauses (shorter than the endpoint's, so
they stay one segment), each phrase's true onset taken from the synthesized audio (the first 10 ms frame above
-35 dB of the loudest after the pause). For the first word of each phrase: NeMo's start (CTC: the onset of the
token before, inside the pause) and the onset (the frame its first token was emitted at), and the start of the
nearest subtitle cue with either convention (subtitles.cues(starts=...)). Prints the median and the 90th
percentile of |time - speech onset|.

    python benchmarks/word_onsets.py [--model DIR] [--phrases 40]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import numpy as np

import nemo_fast
from nemo_fast import subtitles
from nemo_fast.audio import read_audio

PHRASES = [
    "the cat sat on the mat", "we changed the landscape", "solving the problem of pay", "the dog sat on the log",
    "a cat and a dog", "the mat was on the floor", "we solved the problem", "the landscape changed",
    "pay the cat", "the floor was clean", "a dog and a log", "the problem was solved",
]


def synthesize(text: str, folder: Path, k: int) -> tuple[np.ndarray, int]:
    """espeak-ng's audio (at its own rate: the recognizer resamples) at one of four speeds."""
    path = folder / f"p{k}.wav"
    subprocess.run(["espeak-ng", "-w", str(path), "-s", str(150 + 10 * (k % 4)), text], check=True)
    audio, rate = read_audio(path)
    return audio.astype(np.float32) / 32768, rate


def onset(audio: np.ndarray, rate: int) -> float:
    """Seconds to the first 10 ms frame within 35 dB of the loudest."""
    hop = rate // 100
    frames = audio[: len(audio) // hop * hop].reshape(-1, hop)
    energy = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    return float(np.argmax(energy > energy.max() - 35)) * 0.01


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--phrases", type=int, default=36)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between phrases (default 1.0)")
    args = parser.parse_args()
    recognizer = nemo_fast.Recognizer(args.model, decoding="greedy")
    errors = {"nemo_start": [], "onset": [], "cue_onset": [], "cue_nemo": []}
    with tempfile.TemporaryDirectory() as tmp:
        for group in range(0, args.phrases, 3):  # three phrases per file, one segment each
            pieces, onsets, at = [], [], 0.0
            for k in range(group, min(group + 3, args.phrases)):
                audio, rate = synthesize(PHRASES[k % len(PHRASES)], Path(tmp), k)
                onsets.append(at + onset(audio, rate))
                pieces += [audio, np.zeros(int(args.pause * rate), np.float32)]
                at += (len(audio) + int(args.pause * rate)) / rate
            segments = recognizer.transcribe_segments(np.concatenate(pieces), sample_rate=rate)
            words = [w for s in segments for w in s.words]
            cue_sets = {name: [c for s in segments for c in subtitles.cues(s, name)] for name in ("onset", "nemo")}
            for true in onsets:
                # The phrase's first word: the first word whose onset is past the previous phrase's end.
                first = min(words, key=lambda w: abs(w.onset - true), default=None)
                if first is None:
                    continue
                errors["nemo_start"].append(abs(first.start - true))
                errors["onset"].append(abs(first.onset - true))
                for name, cue_list in cue_sets.items():  # the cue nearest the phrase's onset
                    errors[f"cue_{name}"].append(min(abs(c.start - true) for c in cue_list))
    print(f"{len(errors['onset'])} phrases, pause {args.pause} s; |word start - speech onset| in seconds:")
    for name, values in errors.items():
        v = np.array(values)
        print(f"  {name:11s} median {np.median(v):.3f}  p90 {np.percentile(v, 90):.3f}  max {v.max():.3f}")


if __name__ == "__main__":
    main()
