"""Snippets: a window of stored text around the first match, every character escaped, the
matched words wrapped in <mark> by us (never by a backend's formatter)."""

from __future__ import annotations

from markupsafe import Markup, escape

from artifact.search.query import WORD_RE, Phrase, Prefix, Query, Term

BEFORE, WIDTH = 80, 260


def _marked(text: str, query: Query) -> list[tuple[int, int]]:
    """Spans of the words the query's positive text clauses match, in order."""
    tokens = [(m.start(), m.end(), m.group().lower()) for m in WORD_RE.finditer(text)]
    marked: set[int] = set()
    for clause in query.positive_text:
        if isinstance(clause, Term):
            marked.update(i for i, t in enumerate(tokens) if t[2] == clause.word)
        elif isinstance(clause, Prefix):
            marked.update(i for i, t in enumerate(tokens) if t[2].startswith(clause.stem))
        elif isinstance(clause, Phrase):
            size = len(clause.words)
            for i in range(len(tokens) - size + 1):
                if tuple(t[2] for t in tokens[i:i + size]) == clause.words:
                    marked.update(range(i, i + size))
    return [(tokens[i][0], tokens[i][1]) for i in sorted(marked)]


def snippet(text: str, query: Query) -> Markup:
    spans = _marked(text, query)
    start = max(0, spans[0][0] - BEFORE) if spans else 0
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < spans[0][0] else start
    end = min(len(text), start + WIDTH)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > (spans[0][1] if spans else start) else end
    out = [Markup("… ") if start else Markup("")]
    cursor = start
    for span_start, span_end in spans:
        if span_start < cursor or span_end > end:
            continue
        out.append(escape(text[cursor:span_start]))
        out.append(Markup("<mark>%s</mark>") % text[span_start:span_end])
        cursor = span_end
    out.append(escape(text[cursor:end]))
    if end < len(text):
        out.append(Markup(" …"))
    return Markup("").join(out)
