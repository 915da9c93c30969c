"""Daily reminder of the catalog: published reports whose validity ends within 60 days and that
no newer report supersedes (``report.validity_ending``, to staff), once per report and end date."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from artifact.catalog.services import validity
from artifact.models import Report
from artifact.models.base import DbSession
from artifact.models.catalog import State
from artifact.notifications import events

NOTICE_DAYS = validity.EXPIRING_DAYS


def emit_validity_ending(db: DbSession, today: date) -> int:
    """Emit the reminders due ``today``; returns how many were new."""
    published = list(db.scalars(select(Report).where(Report.state == State.PUBLISHED)))
    emitted = 0
    for report in published:
        until = validity.valid_until(report)
        if until is None or not today <= until <= date.fromordinal(today.toordinal() + NOTICE_DAYS):
            continue
        if validity.status(report, published, today) == validity.Status.SUPERSEDED:
            continue
        row = events.emit(
            db,
            "report.validity_ending",
            {
                "report_id": report.id,
                "title": report.title,
                "valid_until": until,
                "days": (until - today).days,
            },
            dedupe_key=f"report.validity_ending:{report.id}:{until.isoformat()}",
        )
        emitted += row is not None
    return emitted
