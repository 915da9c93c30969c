"""The event types webhooks carry, and what of an event's data may leave the server.

A webhook names things (ids, titles, states, dates, version numbers), never carries what is in
them: no document text, no message a customer typed, no agreement text. Data members outside
``ALLOWED_FIELDS``, and values that are not short scalars, are dropped before anything is
stored or sent."""

from __future__ import annotations

from typing import Any

EVENT_TYPES = (
    "report.published",
    "report.version_added",
    "access_request.created",
    "access_request.decided",
    "agreement.accepted",
    "agreement.terminated",
    "evidence.expiring",
)
ALLOWED_FIELDS = frozenset(
    {
        "id",
        "report_id",
        "request_id",
        "agreement_id",
        "acceptance_id",
        "evidence_id",
        "title",
        "category",
        "series",
        "visibility",
        "state",
        "status",
        "version",
        "scope",
        "requester",
        "organization",
        "decided_by",
        "created_at",
        "decided_at",
        "expires_at",
        "expires_on",
        "effective_at",
        "days_left",
        "owner",
    }
)
VALUE_MAX = 300


def clean_data(data: dict[str, Any]) -> dict[str, Any]:
    """The members of ``data`` a webhook may carry: allowed names with a string (at most 300
    characters), a number, a boolean or null."""
    kept: dict[str, Any] = {}
    for key, value in data.items():
        scalar = value is None or isinstance(value, bool | int | float)
        short_text = isinstance(value, str) and len(value) <= VALUE_MAX
        if key in ALLOWED_FIELDS and (scalar or short_text):
            kept[key] = value
    return kept
