"""A report's history: its edits, state changes and terms changes, read back from the audit
trail (where each was recorded with the fields it changed, from and to)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from artifact.catalog.services.reports import get_report
from artifact.kernel.caller import Caller
from artifact.models import AuditEvent, User
from artifact.models.base import DbSession

# The audit actions that change a report's record, and how each one's details name the fields.
_EDITS = ("report.edit", "report.state", "report.set_terms")
_FIELD_OF = {"report.state": "state", "report.set_terms": "terms_agreement_id"}


@dataclass(frozen=True)
class Change:
    at: datetime
    by: str  # the actor's e-mail ("cli" or the like for the command line)
    by_name: str
    action: str
    fields: dict[str, dict[str, Any]]


def report_history(db: DbSession, caller: Caller, report_id: str) -> list[Change]:
    """The report's changes, newest first. Raises NotFound, PermissionDenied."""
    report = get_report(db, caller, report_id, "report.history")
    rows = db.execute(
        select(AuditEvent, User.name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(
            AuditEvent.target_type == "report",
            AuditEvent.target_id == report.id,
            AuditEvent.action.in_(_EDITS),
            AuditEvent.outcome == "success",
        )
        .order_by(AuditEvent.seq.desc())
    ).all()
    return [_change(event, name) for event, name in rows]


def _change(event: AuditEvent, name: str | None) -> Change:
    details = json.loads(event.details or "{}")
    if event.action in _FIELD_OF:
        fields = {_FIELD_OF[event.action]: {"from": details.get("from"), "to": details.get("to")}}
    else:
        fields = dict(details.get("fields") or {})
    return Change(
        at=event.occurred_at,
        by=event.actor_email or "system",
        by_name=name or "",
        action=event.action,
        fields=fields,
    )


def change_json(change: Change) -> dict[str, Any]:
    return {
        "at": change.at.isoformat(),
        "by": change.by,
        "action": change.action,
        "fields": change.fields,
    }
