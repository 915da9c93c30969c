"""How an agreement's text is shown, on the page, in the printable view and in the certificate.

The stored text is plain text with a little markdown-like structure: a line starting with
``#`` marks a heading, a block opening with a short numbered line ("1. What is confidential")
marks a section heading, lines starting with ``- `` or ``* `` make a list and ``**words**`` are
emphasised. Everything else is escaped: no HTML in the text is ever interpreted, blank lines
part paragraphs and single newlines are line breaks, so the words the reader sees are the words
that were hashed (``/agreements/ID/text.txt`` serves those exact bytes)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from markupsafe import Markup, escape

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")
_HASH_HEADING = re.compile(r"#{1,6}[ \t]+(\S.*?)[ \t#]*")
# A short numbered line without closing punctuation: "1. Definitions", "2.3 Term".
_NUMBERED_HEADING = re.compile(r"(\d{1,3}(?:\.\d{1,3})*)\.?[ \t]+([^\n]{1,80})")
_BULLET = re.compile(r"[-*+][ \t]+(\S.*)")
_STRONG = re.compile(r"\*\*(\S(?:.*?\S)?)\*\*")


def _inline(line: str) -> Markup:
    """One escaped line; ``**words**`` become <strong> (applied to the escaped text)."""
    escaped = str(escape(line))
    return Markup(_STRONG.sub(r"<strong>\1</strong>", escaped))  # noqa: S704 (escaped above)


def _heading(level: int, line: str) -> Markup:
    return Markup("<h{0}>{1}</h{0}>").format(level, _inline(line))


def _numbered_heading(line: str) -> Markup | None:
    match = _NUMBERED_HEADING.fullmatch(line.strip())
    if match is None or match.group(2).rstrip()[-1] in ".;,:":
        return None
    return _heading(2 if "." not in match.group(1) else 3, line.strip())


def _paragraph(lines: list[str]) -> Markup:
    return Markup("<p>") + Markup("<br>\n").join(_inline(line) for line in lines) + Markup("</p>")


def _block(part: str) -> Iterator[Markup]:
    lines = part.split("\n")
    if len(lines) > 1 and (heading := _numbered_heading(lines[0])) is not None:
        yield heading
        lines = lines[1:]
    run: list[str] = []
    bullets: list[str] = []
    for line in lines:
        hashed = _HASH_HEADING.fullmatch(line.strip())
        bullet = _BULLET.fullmatch(line.strip())
        if (hashed or not bullet) and bullets:
            items = Markup("").join(Markup("<li>") + _inline(b) + Markup("</li>") for b in bullets)
            yield Markup("<ul>") + items + Markup("</ul>")
            bullets = []
        if (hashed or bullet) and run:
            yield _paragraph(run)
            run = []
        if hashed:
            level = min(len(line.strip()) - len(line.strip().lstrip("#")) + 1, 6)
            yield _heading(level, hashed.group(1))
        elif bullet:
            bullets.append(bullet.group(1))
        else:
            run.append(line)
    if bullets:
        items = Markup("").join(Markup("<li>") + _inline(b) + Markup("</li>") for b in bullets)
        yield Markup("<ul>") + items + Markup("</ul>")
    if run:
        yield _paragraph(run)


@functools.lru_cache(maxsize=64)
def paragraphs(text: str) -> Markup:
    """The text as HTML paragraphs and lists (every piece escaped). Kept for the last texts
    rendered: an agreement version's text never changes, and each view of it renders it."""
    parts = [part for part in _PARAGRAPH_BREAK.split(text or "") if part.strip()]
    return Markup("\n").join(piece for part in parts for piece in _block(part))
