"""Word n-gram language models for beam search: ``nemo-fast lm build TEXT OUT.arpa --order N``.

The estimate is interpolated modified Kneser-Ney (Chen and Goodman; the model KenLM's ``lmplz`` builds): three
discounts per order from the counts of counts, continuation counts below the highest order, interpolation down to
a uniform distribution, written as an ARPA back-off model whose back-off weights renormalize each context exactly
(so pruned n-grams leave a proper distribution). KenLM's ``lmplz`` cannot be installed here (it is in neither
PyPI's ``kenlm`` nor Debian), and the pure-Python ARPA builders on PyPI write files KenLM refuses; this is small
enough to own, and the tests check it against KenLM's own reader.
"""

from __future__ import annotations

import math
import os
from collections import Counter, defaultdict
from pathlib import Path

from nemo_fast import _core
from nemo_fast.errors import ConfigError

BOS, EOS, UNK = "<s>", "</s>", "<unk>"


def _discounts(counts: Counter, order: int) -> tuple[float, float, float]:
    """Modified Kneser-Ney's D1, D2, D3+ from the counts of counts (Chen and Goodman's estimate)."""
    of = Counter(c for c in counts.values() if c <= 4)
    t1, t2, t3, t4 = (of.get(k, 0) for k in (1, 2, 3, 4))
    if min(t1, t2, t3, t4) == 0:
        # Too little text for the estimate (KenLM's lmplz refuses it): fixed discounts.
        return 0.5, 1.0, 1.5
    y = t1 / (t1 + 2 * t2)
    found = (1 - 2 * y * t2 / t1, 2 - 3 * y * t3 / t2, 3 - 4 * y * t4 / t3)
    return tuple(min(max(d, 0.05), k) for k, d in zip((1, 2, 3), found))


def build_arpa(lines, order: int = 3, prune_singletons_above: int = 0) -> str:
    """An ARPA model of the word sequences in `lines` (one sentence per line, words split on white space).

    prune_singletons_above: n-grams above this order seen once in the text are left out (0: keep all); their
    probability comes from the back-off instead, as KenLM's ``--prune``."""
    if not 1 <= order <= _core.ArpaLm.max_order:
        raise ConfigError(f"order must lie in 1..{_core.ArpaLm.max_order} (what the beam search reads), got {order}")
    if prune_singletons_above < 0:
        raise ConfigError(f"prune_singletons_above must be >= 0 (0: keep all), got {prune_singletons_above}")
    raw = [Counter() for _ in range(order)]  # raw[n-1]: counts of n-grams
    for line in lines:
        words = line.split()
        if not words:
            continue
        seq = [BOS] + words + [EOS]
        for n in range(1, order + 1):
            grams = raw[n - 1]
            for i in range(max(0, 1 - (n > 1)), len(seq) - n + 1):
                grams[tuple(seq[i:i + n])] += 1
    if not raw[0]:
        raise ConfigError("the text has no words")
    raw[0].pop((BOS,), None)
    # Kneser-Ney's adjusted counts: below the highest order, the number of distinct words before an n-gram
    # (raw counts for n-grams that start a sentence, which nothing precedes).
    adjusted = [Counter() for _ in range(order)]
    adjusted[order - 1] = raw[order - 1]
    for n in range(order, 1, -1):
        for gram in raw[n - 1]:
            adjusted[n - 2][gram[1:]] += 1
    for n in range(1, order):
        for gram, count in raw[n - 1].items():
            if gram[0] == BOS:
                adjusted[n - 1][gram] = count
    adjusted[0].pop((BOS,), None)
    adjusted[0][(UNK,)] = 0
    vocabulary = len(adjusted[0])
    # Interpolated probabilities, lowest order first.
    prob: list[dict] = [dict() for _ in range(order)]
    gamma: list[dict] = [dict() for _ in range(order)]  # by context (n-1 words), for order n
    for n in range(1, order + 1):
        counts = adjusted[n - 1]
        d1, d2, d3 = _discounts(counts, n)
        totals, kinds = defaultdict(int), defaultdict(lambda: [0, 0, 0])
        for gram, c in counts.items():
            totals[gram[:-1]] += c
            if c > 0:
                kinds[gram[:-1]][min(c, 3) - 1] += 1
        for context, total in totals.items():
            k = kinds[context]
            gamma[n - 1][context] = (d1 * k[0] + d2 * k[1] + d3 * k[2]) / total if total else 1.0
        keep = counts
        if prune_singletons_above and n > prune_singletons_above:
            keep = {g: c for g, c in counts.items() if raw[n - 1].get(g, 0) > 1}
        for gram, c in keep.items():
            context = gram[:-1]
            total = totals[context]
            discounted = max(c - (d1, d2, d3)[min(c, 3) - 1], 0.0) / total if c > 0 else 0.0
            lower = 1.0 / vocabulary if n == 1 else _lower(prob, gamma, gram[1:], vocabulary)
            prob[n - 1][gram] = discounted + gamma[n - 1][context] * lower
    # Back-off weights that renormalize each context over what the model keeps.
    backoff = [dict() for _ in range(order)]
    if order > 1:
        for n in range(2, order + 1):
            kept_mass, lower_mass = defaultdict(float), defaultdict(float)
            for gram, p in prob[n - 1].items():
                kept_mass[gram[:-1]] += p
                lower_mass[gram[:-1]] += _lower(prob, gamma, gram[1:], vocabulary)
            for context in kept_mass:
                left, lower_left = 1.0 - kept_mass[context], 1.0 - lower_mass[context]
                backoff[n - 2][context] = left / lower_left if left > 0 and lower_left > 0 else 1e-12
    return _write(prob, backoff, order)


def _lower(prob, gamma, gram: tuple, vocabulary: int) -> float:
    """The interpolated probability of gram's last word given its context (gram may be unseen)."""
    n = len(gram)
    if n == 1:
        return prob[0].get(gram, prob[0].get((UNK,), 0.0))
    found = prob[n - 1].get(gram)
    if found is not None:
        return found
    return gamma[n - 1].get(gram[:-1], 1.0) * _lower(prob, gamma, gram[1:], vocabulary)


def _write(prob, backoff, order: int) -> str:
    out = ["\\data\\"]
    unigrams = dict(prob[0])
    out += [f"ngram {n + 1}={len(prob[n]) + (1 if n == 0 else 0)}" for n in range(order)]
    out.append("")
    for n in range(order):
        out.append(f"\\{n + 1}-grams:")
        rows = sorted(unigrams.items()) if n == 0 else sorted(prob[n].items())
        if n == 0:
            bo = backoff[0].get((BOS,))
            out.append("-99\t<s>" + (f"\t{math.log10(bo):.6f}" if bo is not None else ""))
        for gram, p in rows:
            line = f"{math.log10(max(p, 1e-99)):.6f}\t{' '.join(gram)}"
            if n < order - 1 and gram in backoff[n]:
                line += f"\t{math.log10(backoff[n][gram]):.6f}"
            out.append(line)
        out.append("")
    out.append("\\end\\")
    return "\n".join(out) + "\n"


def build_arpa_file(text_path: str | os.PathLike, out_path: str | os.PathLike, order: int = 3,
                    prune_singletons_above: int = 0) -> dict:
    """Writes the ARPA model of a text file (one sentence per line); returns its n-gram counts."""
    text_path = Path(text_path)
    if not text_path.is_file():
        raise FileNotFoundError(f"text file not found: {text_path}")
    with open(text_path, encoding="utf-8") as f:
        arpa = build_arpa(f, order, prune_singletons_above)
    Path(out_path).write_text(arpa, encoding="utf-8")
    counts = {}
    for line in arpa.splitlines():
        if line.startswith("ngram "):
            n, c = line[6:].split("=")
            counts[int(n)] = int(c)
        elif line.startswith("\\1-grams"):
            break
    return counts
