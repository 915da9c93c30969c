"""Query-string arguments that views of several features read the same way."""

from __future__ import annotations

from flask import request

from artifact.kernel.errors import ValidationFailed


def version_arg() -> int | None:
    """``?version=N`` (a document's version number), or None for the current version."""
    raw = request.args.get("version")
    if raw in (None, ""):
        return None
    # isascii: str.isdigit() also admits digits int() refuses, such as "²".
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise ValidationFailed("version must be a positive whole number")
    return int(raw)
