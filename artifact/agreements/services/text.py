"""How an agreement's text is shown, on the page and in the certificate: the stored text,
escaped, with blank lines as paragraph breaks and single newlines as line breaks. Nothing in
the text is interpreted as markup, so what is hashed is what the reader sees."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")


def paragraphs(text: str) -> Markup:
    parts = [part for part in _PARAGRAPH_BREAK.split(text or "") if part.strip()]
    rendered = (
        Markup("<p>")
        + Markup("<br>\n").join(escape(line) for line in part.split("\n"))
        + Markup("</p>")
        for part in parts
    )
    return Markup("\n").join(rendered)
