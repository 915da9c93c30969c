"""Client file names: kept as metadata only, cleaned on the way in, made safe on the way out."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_NAME = 200
# C0/C1 controls, DEL, zero-width and bidirectional controls (U+202E can disguise an extension).
_UNSAFE_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_ASCII_UNSAFE_RE = re.compile(r"[^A-Za-z0-9._ ()+-]")


def clean_filename(name: str | None, default: str) -> str:
    """The last path component, without control or bidi characters, at most 200 characters
    (the extension kept), never empty or a dot name."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = " ".join(_UNSAFE_RE.sub("", unicodedata.normalize("NFC", base)).split())
    base = base.lstrip(". ")
    if not base:
        return default
    if len(base) > MAX_NAME:
        stem, dot, ext = base.rpartition(".")
        keep = f".{ext}" if dot and 0 < len(ext) <= 10 else ""
        base = (stem if keep else base)[: MAX_NAME - len(keep)] + keep
    return base


def ascii_fallback(name: str, default: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    folded = _ASCII_UNSAFE_RE.sub("_", folded).strip(" ._") or default
    return folded[:MAX_NAME]


def content_disposition(
    name: str, default: str = "download.pdf", disposition: str = "attachment"
) -> str:
    """RFC 6266: a quoted ASCII ``filename`` and a UTF-8 ``filename*``."""
    cleaned = clean_filename(name, default)
    fallback = ascii_fallback(cleaned, default)
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(cleaned, safe='')}"
