"""Beam search and language-model fusion on the shipped model: word error rates and agreement with pyctcdecode.

    python recipes/shipped_model/evaluate_decoding.py DATA_DIR MODEL_DIR --lm LM.arpa [--tune] [--out F.json]

DATA_DIR is make_data.py's output (test_seen_voices, test_unseen_voices, dev_seen_voices and train_text.txt);
LM.arpa should come from train_text.txt only (`nemo-fast lm build DATA_DIR/train_text.txt LM.arpa`). The CTC
log-probs of every utterance are computed once (streaming, NeMo's default mode), then decoded:
- WER of greedy decoding, beam search (beam 8) and beam search with the LM, on both test sets;
- --tune: the LM weight and word bonus that give the lowest WER on dev_seen_voices (never on a test set);
- agreement with pyctcdecode 0.5 (the library behind NeMo's "pyctcdecode" strategy; needs pyctcdecode and kenlm):
  the same top transcript (white space normalized) for the same log-probs, LM and weights, as decode_beams (no
  history pruning, as NeMo calls it); again with the two tokens that end a word in pyctcdecode's reading ("▁"
  alone and <unk>, "▁⁇▁") given no probability, where pyctcdecode's one shared "next token starts a word" flag
  leaks from one hypothesis to the others;
- with --hotwords (make_hotword_set.py's output in DATA_DIR): recall of the rare word in each of
  hotword_sentences.json's sentences by greedy decoding, beam+LM, and beam+LM with hotwords.txt as hotwords
  (all the words at once, as a user's list; --hotword-boost), and the WER of test_seen_voices (sentences without
  those words) with and without that list.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate import wer  # noqa: E402


def log_probs_of(recognizer, data_dir: Path, name: str) -> list[tuple[str, np.ndarray]]:
    rows = [json.loads(line) for line in (data_dir / f"{name}.json").read_text().splitlines()]
    return [(row["text"], recognizer.transcribe(row["audio_filepath"]).log_probs) for row in rows]


def decode_all(search, data) -> tuple[float, float]:
    start = time.perf_counter()
    pairs = [(ref, " ".join(search.decode(lp)[0][1].split())) for ref, lp in data]
    return wer(pairs), time.perf_counter() - start


def without_boundary_tokens(lp: np.ndarray, ids: list[int]) -> np.ndarray:
    lp = lp.astype(np.float64).copy()
    lp[:, ids] = -1e4
    lp -= np.log(np.exp(lp).sum(1, keepdims=True))
    return lp.astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--lm", type=Path, required=True)
    parser.add_argument("--lm-weight", type=float, default=0.6)
    parser.add_argument("--word-bonus", type=float, default=2.5)
    parser.add_argument("--beam-size", type=int, default=8)
    parser.add_argument("--tune", action="store_true", help="grid-search the weights on dev_seen_voices first")
    parser.add_argument("--no-pyctcdecode", action="store_true")
    parser.add_argument("--hotwords", action="store_true", help="measure hotwords (make_hotword_set.py's set)")
    parser.add_argument("--hotword-boost", type=float, default=8.0)
    parser.add_argument("--skip-tests", action="store_true", help="only the hotword measurement")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    import nemo_fast
    from nemo_fast import _core

    recognizer = nemo_fast.Recognizer(args.model_dir, decoding="greedy", keep_log_probs=True)
    tokens = recognizer.tokens
    blank = len(tokens) - 1

    def search(beam_size: int, lm: Path | None, lm_weight: float = 0.5, word_bonus: float = 1.5, hotwords=()):
        config = _core.DecodingConfig()
        config.method, config.beam_size = _core.DecodingMethod.beam, beam_size
        config.lm_path = str(lm) if lm else ""
        config.lm_weight, config.word_bonus = lm_weight, word_bonus
        config.hotwords, config.hotword_boost = list(hotwords), args.hotword_boost
        return _core.CtcBeamSearch(tokens, blank, True, config)

    results = {"lm": str(args.lm), "beam_size": args.beam_size}
    if args.tune:
        dev = log_probs_of(recognizer, args.data_dir, "dev_seen_voices")
        grid = {}
        for a, b in itertools.product([0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0], [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]):
            grid[(a, b)] = decode_all(search(args.beam_size, args.lm, a, b), dev)[0]
        (args.lm_weight, args.word_bonus), best = min(grid.items(), key=lambda kv: kv[1])
        results["dev"] = {"utterances": len(dev), "greedy_wer": decode_all(search(1, None), dev)[0],
                          "best_lm_weight": args.lm_weight, "best_word_bonus": args.word_bonus, "best_wer": best}
        print(f"dev: best lm_weight {args.lm_weight} word_bonus {args.word_bonus}: WER {100 * best:.2f}%")
    results.update(lm_weight=args.lm_weight, word_bonus=args.word_bonus)
    boundary = [i for i, t in enumerate(tokens) if t in ("\u2581", "<unk>")]
    if args.hotwords:
        hotwords = _core.read_hotwords_file(str(args.data_dir / "hotwords.txt"))
        rows = [json.loads(line) for line in (args.data_dir / "hotword_sentences.json").read_text().splitlines()]
        data = [(row["text"], recognizer.transcribe(row["audio_filepath"]).log_probs) for row in rows]
        plain = search(args.beam_size, args.lm, args.lm_weight, args.word_bonus)
        boosted = search(args.beam_size, args.lm, args.lm_weight, args.word_bonus, hotwords)
        measured = {"sentences": len(rows), "words": len(hotwords), "hotword_boost": args.hotword_boost}
        for label, decoder in (("greedy", search(1, None)), ("beam_lm", plain), ("beam_lm_hotwords", boosted)):
            texts = [" ".join(decoder.decode(lp)[0][1].split()) for _, lp in data]
            measured[f"{label}_recall"] = sum(row["hotword"] in t.split() for row, t in zip(rows, texts)) / len(rows)
            measured[f"{label}_wer"] = wer([(ref, t) for (ref, _), t in zip(data, texts)])
        seen = log_probs_of(recognizer, args.data_dir, "test_seen_voices")
        measured["test_seen_wer_beam_lm"] = decode_all(plain, seen)[0]
        measured["test_seen_wer_beam_lm_hotwords"] = decode_all(boosted, seen)[0]
        results["hotwords"] = measured
        print("hotwords:", json.dumps(measured))
    for name in [] if args.skip_tests else ["test_seen_voices", "test_unseen_voices"]:
        data = log_probs_of(recognizer, args.data_dir, name)
        greedy = wer([(ref, recognizer_text) for (ref, _), recognizer_text in
                      zip(data, (" ".join(search(1, None).decode(lp)[0][1].split()) for _, lp in data))])
        beam, beam_seconds = decode_all(search(args.beam_size, None), data)
        fused_search = search(args.beam_size, args.lm, args.lm_weight, args.word_bonus)
        fused, fused_seconds = decode_all(fused_search, data)
        row = {"utterances": len(data), "greedy_wer": greedy, "beam_wer": beam, "beam_lm_wer": fused,
               "beam_seconds": beam_seconds, "beam_lm_seconds": fused_seconds}
        print(f"{name}: WER greedy {100 * greedy:.2f}%, beam {100 * beam:.2f}%, beam+LM {100 * fused:.2f}% "
              f"({len(data)} utterances)")
        if not args.no_pyctcdecode:
            logging.disable(logging.WARNING)
            from pyctcdecode import build_ctcdecoder

            labels = list(tokens)
            labels[blank] = ""
            unigrams = [line.split("\t")[1] for line in args.lm.read_text().splitlines()
                        if line.count("\t") >= 1 and not line.startswith("\\") and " " not in line.split("\t")[1]]
            for lm_on in (False, True):
                reference = build_ctcdecoder(labels, kenlm_model_path=str(args.lm) if lm_on else None,
                                             unigrams=unigrams if lm_on else None, alpha=args.lm_weight,
                                             beta=args.word_bonus)
                ours = fused_search if lm_on else search(args.beam_size, None)
                for suppressed in (False, True):
                    same = 0
                    for _, lp in data:
                        if suppressed:
                            lp = without_boundary_tokens(lp, boundary)
                        theirs = reference.decode_beams(lp, beam_width=args.beam_size)[0][0]
                        same += theirs == " ".join(ours.decode(lp)[0][1].split())
                    key = f"pyctcdecode_same{'_lm' if lm_on else ''}{'_boundary_tokens_suppressed' if suppressed else ''}"
                    row[key] = same
                    print(f"  {key}: {same} of {len(data)}")
        results[name] = row
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
