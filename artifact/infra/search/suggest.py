"""Typo suggestions, shared by both backends: how far a word may be from what was typed, and the
distance itself (optimal string alignment: an insertion, a deletion, a substitution or a swap of
two neighbouring letters is one edit, so "encyrption" is one edit from "encryption").

Candidates come from the index's lexicon of words as written (not stemmed) that share the first
letter of the typed word (typos rarely hit the first letter, and the lexicon walked stays
small); a backend keeps only those found in an entry inside the caller's scope."""

from __future__ import annotations

SUGGEST_PREFIX = 1
MIN_CHARS = 4


def max_distance(word: str) -> int:
    """No suggestion under 4 characters, 1 edit for 4-7, 2 for longer words."""
    if len(word) < MIN_CHARS:
        return 0
    return 1 if len(word) <= 7 else 2


def distance(a: str, b: str) -> int:
    """Optimal string alignment distance between ``a`` and ``b``."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def within(candidate: str, word: str, limit: int) -> bool:
    return abs(len(candidate) - len(word)) <= limit and distance(candidate, word) <= limit


def best(word: str, candidates: list[str]) -> str | None:
    """The closest candidate (then the alphabetically first, so answers are stable)."""
    if not candidates:
        return None
    return min(candidates, key=lambda c: (distance(c, word), c))
