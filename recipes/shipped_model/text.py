"""English text for the shipped model, from offline sources on a Debian machine: the example sentences
and the definitions of WordNet 3.0 (Debian package wordnet-base), normalized to lowercase letters,
apostrophes and spaces, with numbers spelled out."""

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


def _glosses() -> list[str]:
    """The gloss of every synset (definition, then quoted examples), in file order."""
    glosses = []
    for part in ["noun", "verb", "adj", "adv"]:
        for line in (WORDNET_DIR / f"data.{part}").read_text(encoding="latin-1").splitlines():
            if not line.startswith("  ") and "|" in line:
                glosses.append(line.split("|", 1)[1])
    return glosses


def wordnet_examples() -> list[str]:
    """Every quoted example sentence in WordNet's glosses, in file order."""
    return [example for gloss in _glosses() for example in re.findall(r'"([^"]+)"', gloss)]


def wordnet_definitions() -> list[str]:
    """The definitions in WordNet's glosses (the text outside the quoted examples), cut at semicolons."""
    return [part for gloss in _glosses() for part in re.sub(r'"[^"]*"', ";", gloss).split(";")]


def _normalized(texts: list[str], min_words: int, max_words: int) -> set[str]:
    out = set()
    for t in texts:
        s = normalize(t)
        if s and min_words <= len(s.split()) <= max_words:
            out.add(s)
    return out


def sentences(min_words: int = 3, max_words: int = 16) -> list[str]:
    """Normalized, deduplicated example sentences of min..max words, sorted (deterministic)."""
    return sorted(_normalized(wordnet_examples(), min_words, max_words))


def definitions(min_words: int = 3, max_words: int = 16) -> list[str]:
    """Normalized, deduplicated definitions of min..max words that are not also example sentences, sorted."""
    return sorted(_normalized(wordnet_definitions(), min_words, max_words) - set(sentences(min_words, max_words)))
