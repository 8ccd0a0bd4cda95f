"""English sentences for the shipped model, from offline sources on a Debian machine: the example
sentences of WordNet 3.0 (Debian package wordnet-base), normalized to lowercase letters, apostrophes and
spaces, with numbers spelled out."""

from __future__ import annotations

import re
from pathlib import Path

WORDNET_DIR = Path("/usr/share/wordnet")

_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
        "seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = [(10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred")]


def spell_number(n: int) -> str:
    """Cardinal number words: 1945 -> 'one thousand nine hundred forty five'."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    for value, name in _SCALES:
        if n >= value:
            rest = n % value
            return f"{spell_number(n // value)} {name}" + ("" if rest == 0 else " " + spell_number(rest))
    raise AssertionError(n)


def normalize(text: str) -> str | None:
    """Lowercase letters, apostrophes inside words and single spaces; None if anything else remains."""
    text = text.lower().replace("`", "'").replace("\u2019", "'")
    text = re.sub(r"(\d+)%", r"\1 percent", text)
    text = re.sub(r"\d+", lambda m: " " + spell_number(int(m.group())) + " " if len(m.group()) <= 9 else " ", text)
    text = re.sub(r"[-/]", " ", text)
    text = re.sub(r"[.,;:!?()\"]", " ", text)
    text = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", text)  # quotes, not apostrophes inside words
    text = re.sub(r"\s+", " ", text).strip()
    if not text or not re.fullmatch(r"[a-z' ]+", text):
        return None
    return text


def wordnet_examples() -> list[str]:
    """Every quoted example sentence in WordNet's glosses, in file order."""
    examples = []
    for part in ["noun", "verb", "adj", "adv"]:
        for line in (WORDNET_DIR / f"data.{part}").read_text(encoding="latin-1").splitlines():
            if line.startswith("  ") or "|" not in line:
                continue
            examples += re.findall(r'"([^"]+)"', line.split("|", 1)[1])
    return examples


def sentences(min_words: int = 3, max_words: int = 16) -> list[str]:
    """Normalized, deduplicated sentences of min..max words, sorted (deterministic)."""
    out = set()
    for example in wordnet_examples():
        s = normalize(example)
        if s and min_words <= len(s.split()) <= max_words:
            out.add(s)
    return sorted(out)
