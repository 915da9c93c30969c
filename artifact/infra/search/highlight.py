"""Snippets: a window of stored text around the first match, every character escaped, the
matched words wrapped in <mark> by us (never by a backend's formatter).

The query's positive text clauses become one compiled regular expression (whole words, as the
analyser cuts them: runs of letters and digits, compared case-insensitively); it finds the first
match and then marks matches inside the window only, so a long page is never tokenised whole.
The index stems words (see ``language``): a word of four or more letters' stem marks every word
that starts with that stem ("encrypted" marks "encryption"), a shorter one only itself."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from artifact.infra.search.language import stem
from artifact.infra.search.query import MAX_WORD_CHARS, Phrase, Prefix, Query, Term

BEFORE, WIDTH = 80, 260
_WORD = r"[^\W_]"  # what WORD_RE repeats: a letter or a digit
_GAP = r"[\W_]+"  # what separates two words of a phrase
MIN_STEM_CHARS = 4


def _word(word: str) -> str:
    """The word as typed, or any word that starts with its stem."""
    root = stem(word)
    if len(root) < MIN_STEM_CHARS:
        return re.escape(word)
    return f"(?:{re.escape(word)}|{re.escape(root)}{_WORD}*)"


def pattern(query: Query) -> re.Pattern[str] | None:
    """One regex for the words, phrases and prefixes the snippet marks; None if there are none.
    The words come from our parser (letters and digits only), and are escaped all the same."""
    parts = []
    for clause in query.positive_text:
        if isinstance(clause, Term):
            parts.append(_word(clause.word))
        elif isinstance(clause, Prefix):
            parts.append(re.escape(clause.stem) + _WORD + "*")
        elif isinstance(clause, Phrase):
            parts.append(_GAP.join(_word(w) for w in clause.words))
    if not parts:
        return None
    return re.compile(rf"(?<!{_WORD})(?:{'|'.join(parts)})(?!{_WORD})", re.IGNORECASE)


def _window(text: str, first: re.Match[str] | None) -> tuple[int, int]:
    start = max(0, first.start() - BEFORE) if first else 0
    if start:
        space = text.find(" ", start)
        start = space + 1 if first and 0 <= space < first.start() else start
    end = min(len(text), start + WIDTH)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > (first.end() if first else start) else end
    return start, end


def snippet(text: str, query: Query, compiled: re.Pattern[str] | None = None) -> Markup:
    """``compiled`` is ``pattern(query)``, when the caller made it once for many hits. Every
    piece of ``text`` is escaped once (``escape``) and the pieces joined as plain strings."""
    regex = compiled if compiled is not None else pattern(query)
    first = regex.search(text) if regex is not None else None
    start, end = _window(text, first)
    out: list[str] = ["… " if start else ""]
    cursor = start
    if regex is not None:
        # Look a word past the window's end so a word is never marked by half.
        for match in regex.finditer(text, start, min(len(text), end + MAX_WORD_CHARS * 4)):
            if match.end() > end:
                break
            out.append(escape(text[cursor : match.start()]))
            out.append(f"<mark>{escape(match.group())}</mark>")
            cursor = match.end()
    out.append(escape(text[cursor:end]))
    if end < len(text):
        out.append(" …")
    return Markup("".join(out))  # noqa: S704  (every piece of the text is escaped above)
