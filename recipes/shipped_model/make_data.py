"""Step 1 of the shipped-model recipe: synthetic English speech, made offline and reproducibly.

    python recipes/shipped_model/make_data.py DATA_DIR [--workers 2]

Text (text.py): WordNet's example sentences, of which a fixed 600 are held out for testing, and 50,000 of
WordNet's definitions, which only train (more distinct words and word contexts). Voices: every
espeak-ng English accent and variant and every flite voice train, except the espeak-ng West Midlands
accent (en-gb-x-gbcwmd), which is held out with the whole festival engine. Each training sentence is spoken
once by a voice drawn at random, at a random rate (0.85-1.25) and pitch (30-70). Writes 16 kHz mono WAV
files and NeMo manifests: train.json, test_seen_voices.json (held-out sentences, training voices) and
test_unseen_voices.json (held-out sentences, held-out voices), and train_text.txt (the training sentences, for
language models). Everything is seeded.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import text  # noqa: E402
import voices  # noqa: E402

SEED = 20261124
TEST_SENTENCES = 600
# Run 8 fitted its 41,679 training sentences (training-batch WER 0.05 against 0.19 on held-out ones), and
# 5.6% of the test words never occur in them; with these definitions, 4.1%.
TRAIN_DEFINITIONS = 50_000
HELD_OUT_ACCENT = "en-gb-x-gbcwmd"


def split_voices():
    train, held_out = [], []
    for v in voices.all_voices():
        if v.engine == "festival" or v.name.split("+")[0] == HELD_OUT_ACCENT:
            held_out.append(v)
        else:
            train.append(v)
    return train, held_out


def _render(job):
    import soundfile

    path, voice, sentence, rate, pitch = job
    audio = voices.synthesize(voice, sentence, rate, pitch)
    audio = audio / max(1e-3, float(np.abs(audio).max())) * 0.5  # the voices' levels differ a lot
    soundfile.write(path, audio, voices.SAMPLE_RATE, subtype="PCM_16")
    return {"audio_filepath": str(path), "duration": round(len(audio) / voices.SAMPLE_RATE, 3), "text": sentence,
            "voice": voice.id}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-train", type=int, default=0, help="use at most this many training sentences")
    parser.add_argument("--dev", type=int, default=200,
                        help="definitions outside the training text spoken by training voices (dev_seen_voices.json, "
                             "for tuning decoding weights without touching the test sets)")
    args = parser.parse_args()
    rng = random.Random(SEED)
    all_sentences = text.sentences()
    rng.shuffle(all_sentences)
    test, train = all_sentences[:TEST_SENTENCES], all_sentences[TEST_SENTENCES:]
    train_voices, held_out_voices = split_voices()
    jobs = {"train": [], "test_seen_voices": [], "test_unseen_voices": []}
    for name, sentences, pool in [("train", train, train_voices), ("test_seen_voices", test, train_voices),
                                  ("test_unseen_voices", test, held_out_voices)]:
        out = args.data_dir / name
        out.mkdir(parents=True, exist_ok=True)
        for i, s in enumerate(sentences):
            voice = rng.choice(pool)
            jobs[name].append((out / f"{i:06d}.wav", voice, s, rng.uniform(0.85, 1.25), rng.randint(30, 70)))
    # Drawn after the test sets, so that those are the same as without definitions.
    definitions = text.definitions()
    rng.shuffle(definitions)
    for i, s in enumerate(definitions[:TRAIN_DEFINITIONS], start=len(jobs["train"])):
        jobs["train"].append((args.data_dir / "train" / f"{i:06d}.wav", rng.choice(train_voices), s,
                              rng.uniform(0.85, 1.25), rng.randint(30, 70)))
    # Drawn last, so that everything above is the same whatever --dev is.
    dev_out = args.data_dir / "dev_seen_voices"
    dev_out.mkdir(parents=True, exist_ok=True)
    jobs["dev_seen_voices"] = [(dev_out / f"{i:06d}.wav", rng.choice(train_voices), s, rng.uniform(0.85, 1.25),
                                rng.randint(30, 70))
                               for i, s in enumerate(definitions[TRAIN_DEFINITIONS:TRAIN_DEFINITIONS + args.dev])]
    # The training text (of the full training set, whatever --max-train): what a language model may learn from.
    args.data_dir.mkdir(parents=True, exist_ok=True)
    (args.data_dir / "train_text.txt").write_text("".join(job[2] + "\n" for job in jobs["train"]))
    if args.max_train:  # cut after the draws, so that the test sets are the same whatever --max-train is
        jobs["train"] = jobs["train"][: args.max_train]
    (args.data_dir / "voices.json").write_text(json.dumps(
        {"train": [v.id for v in train_voices], "held_out": [v.id for v in held_out_voices]}, indent=1))
    start = time.time()
    with ProcessPoolExecutor(args.workers) as pool:
        for name, job_list in jobs.items():
            rows = list(pool.map(_render, job_list, chunksize=64))
            with open(args.data_dir / f"{name}.json", "w") as f:
                for row in rows:
                    f.write(json.dumps(row) + "\n")
            hours = sum(r["duration"] for r in rows) / 3600
            print(f"{name}: {len(rows)} utterances, {hours:.2f} h, {time.time() - start:.0f} s so far", flush=True)


if __name__ == "__main__":
    main()
