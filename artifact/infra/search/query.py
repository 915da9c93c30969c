"""The search language, parsed by us into a small tree; backends build their own queries from it
and never see the user's raw syntax.

    words                 every word must match (AND)
    "a quoted phrase"     the words in this order
    secur*                words starting with "secur" (at least 2 letters)
    category:reports  series:SOC  framework:"SOC 2"  type:report  year:2025
    version:all           older versions of files too (default: current versions only)
    -word  NOT word       exclude

Anything else is text: ``title:foo`` is the phrase "title foo"; ``AC-2`` is the phrase "ac 2".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

FILTER_FIELDS = ("category", "series", "framework", "type", "year")
VERSIONS = ("all", "current")
MAX_QUERY_CHARS = 500
MAX_CLAUSES = 32
MAX_WORD_CHARS = 40
MIN_PREFIX_CHARS = 2
WORD_RE = re.compile(r"[^\W_]+")
_TOKEN_RE = re.compile(r'\s+|"[^"]*"|[^\s"]+(?:"[^"]*")?|"')


class QueryError(ValueError):
    """The query cannot be understood; the message is written for the person who typed it."""


@dataclass(frozen=True)
class Term:
    word: str


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]


@dataclass(frozen=True)
class Prefix:
    stem: str


@dataclass(frozen=True)
class Filter:
    field: str
    value: str


@dataclass(frozen=True)
class Not:
    clause: Term | Phrase | Prefix | Filter


Clause = Term | Phrase | Prefix | Filter | Not


@dataclass(frozen=True)
class Query:
    """All clauses must hold; an empty query matches everything the caller may see."""

    clauses: tuple[Clause, ...] = ()
    all_versions: bool = False  # version:all

    @property
    def positive_text(self) -> tuple[Term | Phrase | Prefix, ...]:
        """The clauses a snippet highlights."""
        return tuple(c for c in self.clauses if isinstance(c, Term | Phrase | Prefix))

    @property
    def is_empty(self) -> bool:
        return not self.clauses

    def with_clauses(self, more: tuple[Clause, ...]) -> Query:
        return Query(self.clauses + more, self.all_versions)


def facet_value(value: str) -> str:
    """How filter and facet values are compared: case-folded, commas and runs of space as one
    space."""
    return " ".join(value.replace(",", " ").split()).lower()


def words(text: str) -> list[str]:
    """The analyser both backends use: runs of letters and digits, lower-cased."""
    return [w.lower() for w in WORD_RE.findall(text)]


def parse(raw: str | None) -> Query:
    """Parse what the user typed. Raises QueryError with a friendly message."""
    text = raw or ""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"The search is too long (at most {MAX_QUERY_CHARS} characters).")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") for c in text):
        raise QueryError("The search contains control characters; type plain words.")
    if text.count('"') % 2:
        raise QueryError('A quotation mark is not closed: put phrases "between quotes".')
    clauses: list[Clause] = []
    negate = False
    all_versions = False
    for part in (t for t in _TOKEN_RE.findall(text) if t.strip()):
        token = part
        if part in ("NOT", "-"):
            if negate:
                raise QueryError("NOT must be followed by a word, not another NOT.")
            negate = True
            continue
        if part == "AND":
            continue
        if part == "OR":
            raise QueryError("OR is not supported: results match all the words you type.")
        if token.startswith("-") and len(token) > 1:
            if negate:
                raise QueryError("NOT must be followed by a word, not another NOT.")
            negate, token = True, token[1:]
        field, sep, value = token.partition(":")
        if sep and field.lower() == "version":
            if negate or value.lower() not in VERSIONS:
                raise QueryError("version: takes all (older versions too) or current.")
            all_versions = value.lower() == "all"
            continue
        clause = _clause(token)
        if clause is not None:
            clauses.append(Not(clause) if negate else clause)
        negate = False
    if negate:
        raise QueryError("NOT must be followed by the word to leave out.")
    if len(clauses) > MAX_CLAUSES:
        raise QueryError(f"The search has too many words (at most {MAX_CLAUSES}).")
    return Query(tuple(clauses), all_versions)


def _clause(token: str) -> Term | Phrase | Prefix | Filter | None:
    field, sep, value = token.partition(":")
    if sep and field.lower() in FILTER_FIELDS:
        value = value[1:-1] if value.startswith('"') and value.endswith('"') else value
        cleaned = facet_value(value)
        if not cleaned:
            raise QueryError(f"{field}: needs a value, like {field}:{_EXAMPLES[field.lower()]}.")
        return Filter(field.lower(), cleaned)
    if token.startswith('"'):
        return _text(words(token[1:-1]))
    if token.endswith("*"):
        return _prefix(token)
    return _text(words(token))


_EXAMPLES = {
    "category": "reports",
    "series": "SOC",
    "framework": '"SOC 2"',
    "type": "report",
    "year": "2025",
}


def _prefix(token: str) -> Prefix:
    found = words(token.rstrip("*"))
    if len(found) != 1 or not token.rstrip("*") or found[0] != token.rstrip("*").lower():
        raise QueryError("A * ends a single word, like secur*.")
    if len(found[0]) < MIN_PREFIX_CHARS:
        raise QueryError(f"Put at least {MIN_PREFIX_CHARS} letters before the *.")
    _check_length(found)
    return Prefix(found[0])


def _text(found: list[str]) -> Term | Phrase | None:
    if not found:
        return None  # punctuation only: nothing to search for
    _check_length(found)
    return Term(found[0]) if len(found) == 1 else Phrase(tuple(found))


def _check_length(found: list[str]) -> None:
    if any(len(w) > MAX_WORD_CHARS for w in found):
        raise QueryError(f"Words longer than {MAX_WORD_CHARS} characters are not searchable.")
