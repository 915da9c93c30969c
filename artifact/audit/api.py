"""The audit trail over the API (admins)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from artifact.audit.filters import event_filter, int_arg
from artifact.audit.services import chain as audit
from artifact.audit.services import trail as audit_trail
from artifact.extensions import db
from artifact.kernel.errors import ValidationFailed
from artifact.models import AuditEvent
from artifact.web.access import require
from artifact.web.json_api import api
from artifact.web.security import current_caller


def event_json(event: AuditEvent) -> dict[str, Any]:
    return audit.event_fields(event)


def _whole_number(name: str, default: int) -> int:
    """An integer parameter: absent means ``default``, present but empty is no number."""
    if request.args.get(name) == "":
        raise ValidationFailed(f"{name} must be a whole number")
    return int_arg(name, default)


@api.get("/audit/events")
@require("audit.view")
def audit_events() -> dict[str, Any]:
    """Events, newest first; filters actor, action, target, outcome, since, until."""
    events, total = audit_trail.list_events(
        db.session,
        current_caller(),
        event_filter(),
        limit=_whole_number("limit", 100),
        offset=_whole_number("offset", 0),
    )
    return {"items": [event_json(e) for e in events], "total": total}


@api.get("/audit/verify")
@require("audit.verify")
def audit_verify() -> dict[str, Any]:
    """Walk the chain and the signed checkpoints."""
    result = audit_trail.verify(
        db.session,
        current_caller(),
        current_app.config["DATA_DIR"],
        current_app.config["AUDIT_WITNESS"],
    )
    return {
        "ok": result.ok,
        "events": result.events,
        "checkpoints": result.checkpoints,
        "first_bad_seq": result.first_bad_seq,
        "message": result.message,
    }
