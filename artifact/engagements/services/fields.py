"""Reading the fields of engagements and requests: text, dates, whole numbers, e-mail lists.
Each raises ValidationFailed naming the field and what it must be."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from artifact.kernel.errors import ValidationFailed
from artifact.kernel.text import check_text

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def no_nulls(values: dict[str, Any], *, allowed: tuple[str, ...] = ()) -> None:
    """A member sent as null is refused (leave it out instead), but those in ``allowed``."""
    for name, value in values.items():
        if value is None and name not in allowed:
            raise ValidationFailed(f"{name} may not be null (leave it out instead)")


def text(values: dict[str, Any], name: str, limit: int, *, required: bool = False) -> str:
    """At most ``limit`` characters; single-line fields have runs of white space made one
    space, multi-line ones (``description``, ``body``) are trimmed only."""
    raw = values.get(name)
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise ValidationFailed(f"the {name} must be a string")
    multiline = name in ("description", "body", "comment")
    check_text(raw, name, multiline=multiline)
    value = raw.strip() if multiline else " ".join(raw.split())
    if required and not value:
        raise ValidationFailed(f"the {name} is required")
    if len(raw) > limit:
        raise ValidationFailed(f"the {name} is too long (at most {limit} characters)")
    return value


def day(values: dict[str, Any], name: str, *, required: bool = False) -> date | None:
    value = values.get(name)
    if value in (None, ""):
        if required:
            raise ValidationFailed(f"{name} is required (a date like 2025-06-30)")
        return None
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value.strip()):
        raise ValidationFailed(f"{name} must be a date like 2025-06-30")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(f"{name} must be a date like 2025-06-30") from None


def required_day(values: dict[str, Any], name: str) -> date:
    found = day(values, name, required=True)
    assert found is not None
    return found


def positive_int(values: dict[str, Any], name: str, *, limit: int = 1_000_000) -> int | None:
    value = values.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= limit:
        raise ValidationFailed(f"{name} must be a whole number from 1 to {limit}")
    return value


def string_list(values: dict[str, Any], name: str, *, limit: int) -> list[str]:
    """A list of strings, or one string of them separated by commas or lines; duplicates and
    blanks dropped."""
    value = values.get(name)
    if value in (None, ""):
        return []
    listed = isinstance(value, list)
    items = value if listed else [value]
    found: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValidationFailed(f"{name} must be a list of strings")
        # One string may list them on lines (a CSV cell); a list holds one line each.
        check_text(item, name, multiline=not listed)
        if listed and not item.strip():
            raise ValidationFailed(f"{name} may not hold an empty item")
        found += [" ".join(n.split()) for n in item.replace("\n", ",").split(",") if n.strip()]
    if len(found) > limit:
        raise ValidationFailed(f"too many {name} (at most {limit})")
    return list(dict.fromkeys(found))
