"""Fault sweep of beam search's inputs: ARPA files (truncated, wrong counts, NaN/inf, duplicate n-grams, order
9, not text) end in a ModelError naming the file and line; hotwords (100,000 phrases, inf/NaN boosts,
characters outside the vocabulary) are refused with the phrase named, or searched in bounded time and memory.
Each recognizer that refuses leaves the process able to decode as before."""

from __future__ import annotations

import math
import os
import resource
import time
from pathlib import Path

import numpy as np
import pytest

import nemo_fast
from nemo_fast.audio import read_audio
from nemo_fast.errors import ConfigError, ModelError

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "models" / "default"
SPEECH = ROOT / "examples" / "speech_example.wav"
SANITIZED = os.environ.get("NEMO_FAST_SANITIZED") == "1"

GOOD_ARPA = """\\data\\
ngram 1=5
ngram 2=3

\\1-grams:
-1.0\t<s>\t-0.3
-0.7\t</s>
-0.5\tthe\t-0.2
-0.9\tcat\t-0.1
-1.2\tsat

\\2-grams:
-0.2\t<s> the
-0.3\tthe cat
-0.4\tcat sat

\\end\\
"""


def _replace(old: str, new: str) -> str:
    assert old in GOOD_ARPA
    return GOOD_ARPA.replace(old, new, 1)


ARPA_DAMAGE = {  # name -> (file content, what the message says)
    "truncated_in_the_bigrams": (GOOD_ARPA[: GOOD_ARPA.index("-0.3\tthe cat")], "the header counts 3, the section has 1"),
    "truncated_in_a_line": (GOOD_ARPA[: GOOD_ARPA.index("\tcat sat") + 1] + "\n", "expected a log10 probability"),
    "truncated_before_the_bigrams": (GOOD_ARPA[: GOOD_ARPA.index("\\2-grams")], "missing \\2-grams:"),
    "header_counts_more": (_replace("ngram 2=3", "ngram 2=4"), "the header counts 4, the section has 3"),
    "header_counts_fewer": (_replace("ngram 1=5", "ngram 1=2"), "the header counts 2, the section has 5"),
    "header_count_negative": (_replace("ngram 1=5", "ngram 1=-5"), "'-5' is not a count"),
    "header_count_letters": (_replace("ngram 1=5", "ngram 1=five"), "'five' is not a count"),
    "header_count_huge": (_replace("ngram 1=5", "ngram 1=999999999999999999"), "the header counts"),
    "header_order_letters": (_replace("ngram 2=3", "ngram two=3"), "expected 'ngram N=count'"),
    "nan_probability": (_replace("-0.9\tcat", "nan\tcat"), "'nan' is not a finite number"),
    "inf_probability": (_replace("-0.9\tcat", "inf\tcat"), "'inf' is not a finite number"),
    "minus_inf_backoff": (_replace("-0.5\tthe\t-0.2", "-0.5\tthe\t-inf"), "'-inf' is not a finite number"),
    "positive_probability": (_replace("-0.9\tcat", "0.5\tcat"), "log10 probability 0.5 is above 0"),
    "duplicate_unigram": (_replace("-1.2\tsat", "-1.2\tcat"), "'cat' is listed twice"),
    "duplicate_bigram": (_replace("-0.4\tcat sat", "-0.4\tthe cat"), "'the cat' is listed twice"),
    "bigram_of_an_unknown_word": (_replace("-0.4\tcat sat", "-0.4\tcat dog"), "'dog' is not a unigram"),
    "no_sentence_markers": (_replace("-1.0\t<s>\t-0.3", "-1.0\tmat\t-0.3").replace("<s> the", "mat the"),
                            "lack <s> or </s>"),
    "order_9": ("\\data\\\n" + "".join(f"ngram {n}=1\n" for n in range(1, 10)) + "\n", "order 9 is above"),
    "no_data_section": ("just some text\nand more\n", "no \\data\\ section"),
    "empty": ("", "no \\data\\ section"),
}  # fmt: skip


def _decode(recognizer) -> str:
    audio, rate = read_audio(SPEECH)
    return recognizer.transcribe(audio, sample_rate=rate).text


@pytest.fixture(scope="module")
def beam_text():
    return _decode(nemo_fast.Recognizer(SHIPPED, decoding="beam"))


@pytest.mark.parametrize("damage", ARPA_DAMAGE)
def test_a_damaged_arpa_file_is_named_with_its_line(tmp_path, damage):
    content, message = ARPA_DAMAGE[damage]
    path = tmp_path / f"{damage}.arpa"
    path.write_text(content)
    with pytest.raises(ModelError) as raised:
        nemo_fast.Recognizer(SHIPPED, decoding="beam", lm=path)
    assert str(path) in str(raised.value) and message in str(raised.value), str(raised.value)


def test_binary_and_utf16_files_are_not_language_models(tmp_path):
    garbage = tmp_path / "garbage.arpa"
    garbage.write_bytes(np.random.default_rng(0).bytes(1 << 16))
    utf16 = tmp_path / "utf16.arpa"
    utf16.write_bytes(GOOD_ARPA.encode("utf-16"))
    for path in (garbage, utf16):
        with pytest.raises(ModelError, match="not an ARPA language model"):
            nemo_fast.Recognizer(SHIPPED, decoding="beam", lm=path)


def test_the_undamaged_arpa_file_loads_and_after_every_refusal_decoding_is_unchanged(tmp_path, beam_text):
    path = tmp_path / "good.arpa"
    path.write_text(GOOD_ARPA)
    assert _decode(nemo_fast.Recognizer(SHIPPED, decoding="beam", lm=path))  # the control: it loads and decodes
    assert _decode(nemo_fast.Recognizer(SHIPPED, decoding="beam")) == beam_text


@pytest.mark.parametrize("boost", [math.inf, -math.inf, math.nan, -1.0])
def test_a_hotword_boost_that_is_not_a_finite_positive_number_is_refused(boost):
    with pytest.raises(ConfigError, match="hotword 'cat': its boost"):
        nemo_fast.Recognizer(SHIPPED, decoding="beam", hotwords=[("cat", boost)])


@pytest.mark.parametrize("boost", [math.inf, math.nan, -2.0, 0.0])
def test_the_default_hotword_boost_must_be_finite_and_positive(boost):
    with pytest.raises(ConfigError, match="hotword_boost"):
        nemo_fast.Recognizer(SHIPPED, decoding="beam", hotwords=["cat"], hotword_boost=boost)


@pytest.mark.parametrize("line,message", [("cat :inf", "positive number"), ("cat :nan", "positive number"),
                                          ("cat :-3", "positive number"), ("caf\u00e9", "no token of the model spells"),
                                          ("\u732b", "no token of the model spells")])  # fmt: skip
def test_a_bad_line_in_a_hotwords_file_is_named(tmp_path, line, message):
    path = tmp_path / "hotwords.txt"
    path.write_text(f"dog\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        nemo_fast.Recognizer(SHIPPED, decoding="beam", hotwords=path)


def test_a_hotwords_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "hotwords.txt"
    path.write_bytes(b"cat\n\xff\xfedog\n")
    with pytest.raises(ConfigError, match="hotwords.txt:2"):
        nemo_fast.Recognizer(SHIPPED, decoding="beam", hotwords=path)


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def test_a_hundred_thousand_hotwords_build_and_search_in_bounded_time_and_memory(beam_text):
    """A large phrase list (a contact book, a product catalogue) is a trie of a few million bytes: it builds
    in seconds, and decoding with it still gives words (none of the phrases is in the speech)."""
    rng = np.random.default_rng(1)
    letters = np.array(list("bcdfghjklmnpqrstvwxz"))
    phrases = {"".join(rng.choice(letters, size=rng.integers(5, 10))) + " " +
               "".join(rng.choice(letters, size=rng.integers(4, 8))) for _ in range(100_000)}  # fmt: skip
    before = _rss_mb()
    started = time.perf_counter()
    recognizer = nemo_fast.Recognizer(SHIPPED, decoding="beam", hotwords=sorted(phrases))
    built = time.perf_counter() - started
    grown = _rss_mb() - before
    started = time.perf_counter()
    text = _decode(recognizer)
    decoded = time.perf_counter() - started
    print(f"{len(phrases)} hotwords: built in {built:.2f} s, +{grown:.0f} MB RSS, decoded in {decoded:.2f} s")
    assert text.split() == beam_text.split()  # consonant-only phrases never match English speech
    assert grown < 600, f"{len(phrases)} hotwords took {grown:.0f} MB"
    if not SANITIZED:
        assert built < 20 and decoded < 20, (built, decoded)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert peak < 4000
