"""A test set for hotwords: sentences around rare words the shipped model has never heard or read.

    python recipes/shipped_model/make_hotword_set.py DATA_DIR [--words 60]

Picks WordNet nouns (one word, 6-12 letters) that occur nowhere in DATA_DIR/train_text.txt (make_data.py's
training text, so neither the model nor a language model built from it has seen them), puts each in two
sentences made of common words, and speaks them with the training voices as make_data.py does. Writes
DATA_DIR/hotword_sentences.json (a NeMo manifest with a `hotword` field) and DATA_DIR/hotwords.txt (the words,
one per line: the list a user would give). Seeded.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_data  # noqa: E402
import text  # noqa: E402

SEED = 20261204
TEMPLATES = ["we talked about {} at lunch today", "the letter from {} arrived this morning",
             "she wrote the word {} on the board", "have you ever heard of {} before",
             "my friend told me about {} last week", "there is a small picture of {} in the book"]


def rare_words(train_text: Path, count: int, rng: random.Random) -> list[str]:
    seen = set(train_text.read_text().split())
    nouns = []
    for line in (text.WORDNET_DIR / "index.noun").read_text(encoding="latin-1").splitlines():
        lemma = line.split(" ", 1)[0]
        if re.fullmatch(r"[a-z]{6,12}", lemma) and lemma not in seen:
            nouns.append(lemma)
    return rng.sample(sorted(nouns), count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--words", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    rng = random.Random(SEED)
    words = rare_words(args.data_dir / "train_text.txt", args.words, rng)
    train_voices, _ = make_data.split_voices()
    out = args.data_dir / "hotword_sentences"
    out.mkdir(parents=True, exist_ok=True)
    jobs, targets = [], []
    for word in words:
        for template in rng.sample(TEMPLATES, 2):
            jobs.append((out / f"{len(jobs):06d}.wav", rng.choice(train_voices), template.format(word),
                         rng.uniform(0.85, 1.25), rng.randint(30, 70)))
            targets.append(word)
    with ProcessPoolExecutor(args.workers) as pool:
        rows = list(pool.map(make_data._render, jobs, chunksize=16))
    with open(args.data_dir / "hotword_sentences.json", "w") as f:
        for row, word in zip(rows, targets):
            f.write(json.dumps({**row, "hotword": word}) + "\n")
    (args.data_dir / "hotwords.txt").write_text("".join(w + "\n" for w in words))
    print(f"{len(rows)} sentences around {len(words)} words")


if __name__ == "__main__":
    main()
