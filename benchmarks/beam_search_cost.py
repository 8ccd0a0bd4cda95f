"""The cost of beam search with a language model: the same stream (SECONDS of speech, in 0.1 s pieces, as live
audio arrives) decoded greedily and with beam search + LM (+ hotwords), alternating in one process; prints the
median time ratio and the share of the beam-search time in the beam run's time. Also times the search alone: the
beam decoder run over the stream's kept CTC log-probs (no encoder).

    python benchmarks/beam_search_cost.py --model DIR --lm LM.arpa [--beam-size 8] [--hotwords FILE]
                                          [--threads 1] [--seconds 60] [--rounds 7]

With a model that has random weights the emission rate is not a trained model's; say which model you ran.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
from common import tiled_speech

import nemo_fast
from nemo_fast import _core

ROOT = Path(__file__).resolve().parents[1]


def stream_seconds(recognizer: nemo_fast.Recognizer, audio: np.ndarray):
    stream = recognizer.create_stream()
    start = time.perf_counter()
    for i in range(0, len(audio), 1600):
        stream.accept_waveform(audio[i:i + 1600], 16000)
        stream.result()  # a live caption asks for the text after every piece
    stream.input_finished()
    result = stream.result()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--lm", type=Path, default=ROOT / "models" / "default" / "lm.arpa")
    parser.add_argument("--lm-weight", type=float, default=0.6)
    parser.add_argument("--word-bonus", type=float, default=2.5)
    parser.add_argument("--beam-size", type=int, default=8)
    parser.add_argument("--hotwords", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    audio = tiled_speech(args.seconds)
    off = nemo_fast.EndpointConfig(enabled=False)  # both arms decode one utterance: the search never commits
    greedy = nemo_fast.Recognizer(args.model, decoding="greedy", num_threads=args.threads, endpoint=off)
    beam = nemo_fast.Recognizer(args.model, decoding="beam", beam_size=args.beam_size, lm=args.lm,
                                lm_weight=args.lm_weight, word_bonus=args.word_bonus, hotwords=args.hotwords,
                                num_threads=args.threads, endpoint=off)
    search = _core.CtcBeamSearch(greedy.tokens, len(greedy.tokens) - 1,
                                 any(t.startswith("\u2581") for t in greedy.tokens), beam._core.config.decoding)
    # The search alone runs over the log-probs a greedy run keeps (kept only there: copying them is not free).
    keeper = nemo_fast.Recognizer(args.model, decoding="greedy", num_threads=args.threads, endpoint=off,
                                  keep_log_probs=True)
    log_probs = keeper.transcribe(audio, sample_rate=16000).log_probs
    ratios, shares, greedy_times, beam_times = [], [], [], []
    for _ in range(args.rounds):
        greedy_s, greedy_result = stream_seconds(greedy, audio)
        beam_s, beam_result = stream_seconds(beam, audio)
        start = time.perf_counter()
        search.decode(log_probs)
        search_s = time.perf_counter() - start
        ratios.append(beam_s / greedy_s)
        shares.append(search_s / beam_s)
        greedy_times.append(greedy_s)
        beam_times.append(beam_s)
    frames = greedy_result.num_frames
    summary = {
        "model": str(args.model), "lm": str(args.lm), "beam_size": args.beam_size, "threads": args.threads,
        "seconds": args.seconds, "rounds": args.rounds, "frames": frames,
        "beam_over_greedy_median": statistics.median(ratios), "beam_over_greedy_range": [min(ratios), max(ratios)],
        "search_share_of_beam_run_median": statistics.median(shares),
        "greedy_rtf_median": statistics.median(greedy_times) / args.seconds,
        "beam_rtf_median": statistics.median(beam_times) / args.seconds,
        "greedy_words": len(greedy_result.text.split()), "beam_words": len(beam_result.text.split()),
    }
    print(json.dumps(summary, indent=1))
    if args.out:
        args.out.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
