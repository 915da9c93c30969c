"""Daily reminder of evidence: its owner hears 30, 7 and 1 days before it expires
(``evidence.expiring``), each once per expiry date (a missed day sends the nearest one only)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from artifact.models import Evidence
from artifact.models.base import DbSession
from artifact.notifications import events

NOTICE_DAYS = (1, 7, 30)


def notice_for(days_left: int) -> int | None:
    """The reminder due with ``days_left`` days to go (the nearest threshold), or None."""
    if days_left < 1:
        return None
    return next((t for t in NOTICE_DAYS if days_left <= t), None)


def emit_expiring(db: DbSession, today: date) -> int:
    """Emit the reminders due ``today``; returns how many were new."""
    horizon = today + timedelta(days=max(NOTICE_DAYS))
    found = db.scalars(
        select(Evidence).where(Evidence.expires_on > today, Evidence.expires_on <= horizon)
    )
    emitted = 0
    for evidence in found:
        assert evidence.expires_on is not None
        days = (evidence.expires_on - today).days
        notice = notice_for(days)
        if notice is None:
            continue
        row = events.emit(
            db,
            "evidence.expiring",
            {
                "evidence_id": evidence.id,
                "title": evidence.title,
                "owner_id": evidence.owner_id,
                "expires_on": evidence.expires_on,
                "days": days,
                "state": evidence.state,
            },
            dedupe_key=f"evidence.expiring:{evidence.id}:{evidence.expires_on.isoformat()}:{notice}",
        )
        emitted += row is not None
    return emitted
