"""Parse the audit trail's filters from query parameters (shared by the page, CSV and API)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import request

from artifact.audit.services.trail import EventFilter
from artifact.kernel.errors import ValidationFailed


def _time(name: str) -> datetime | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError) as exc:  # overflow: a time zone past year 1 or 9999
        raise ValidationFailed(
            f"{name} must be an ISO 8601 date or time, got {raw[:40]!r}"
        ) from exc


def _text(name: str) -> str | None:
    raw = request.args.get(name) or ""
    if "\x00" in raw:  # no database takes it in a query, so it can match nothing
        raise ValidationFailed(f"{name} holds a NUL character")
    return raw.strip()[:320] or None


def event_filter() -> EventFilter:
    return EventFilter(
        actor=_text("actor"),
        action=_text("action"),
        target=_text("target"),
        outcome=_text("outcome"),
        since=_time("since"),
        until=_time("until"),
    )


def int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValidationFailed(f"{name} must be a whole number") from exc
