"""What a text field may hold, decided once for every feature.

One-line fields (titles, names, issuers, series) hold no control character at all: a line
break, tab, BEL or ESC in a title is refused rather than silently flattened. Every field,
one-line or not, refuses the bidirectional embedding, override and isolate characters
(U+202A..U+202E, U+2066..U+2069), which make text read differently from what it is stored as
("Trojan Source"); multi-line fields keep tab, line feed and carriage return."""

from __future__ import annotations

import unicodedata

from artifact.kernel.errors import ValidationFailed

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_NAMES = {"\t": "a tab", "\n": "a line break", "\r": "a line break", "\x00": "NUL"}


def _describe(char: str) -> str:
    return _NAMES.get(char, f"U+{ord(char):04X}")


def check_text(value: str, field: str, *, multiline: bool = False) -> None:
    """Raises ValidationFailed naming ``field`` and the character it may not hold."""
    for char in value:
        if char in BIDI_CONTROLS:
            raise ValidationFailed(
                f"the {field} contains a bidirectional control character ({_describe(char)}), "
                "which makes text read differently from what it is; remove it"
            )
        if unicodedata.category(char) == "Cc" and not (multiline and char in "\t\n\r"):
            where = "must be a single line" if char in "\n\r" else "may not hold control characters"
            raise ValidationFailed(f"the {field} {where}: it contains {_describe(char)}")


def one_line(value: str, field: str) -> str:
    """``value`` checked as a one-line field, with surrounding and repeated spaces made one."""
    check_text(value, field)
    return " ".join(value.split())
