"""Daily reminders of the request list: whoever answers a request (its owner, else staff)
hears 3 days and 1 day before its due date, on the day, and once when it is overdue
(``engagement.request_due``), each once per due date; only for open engagements and requests
still waiting on the company."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from artifact.models import Engagement, EngagementRequest
from artifact.models.base import DbSession
from artifact.models.engagements import PENDING_STATUSES, EngagementState
from artifact.notifications import events

NOTICE_DAYS = (0, 1, 3)
OVERDUE = "overdue"


def notice_for(days_left: int) -> str | None:
    """The reminder due with ``days_left`` days to go (the nearest threshold), or None."""
    if days_left < 0:
        return OVERDUE
    return next((str(t) for t in NOTICE_DAYS if days_left <= t), None)


def emit_due(db: DbSession, today: date) -> int:
    """Emit the reminders due ``today``; returns how many were new."""
    horizon = today + timedelta(days=max(NOTICE_DAYS))
    found = db.scalars(
        select(EngagementRequest)
        .join(Engagement, Engagement.id == EngagementRequest.engagement_id)
        .where(
            Engagement.state == EngagementState.OPEN,
            EngagementRequest.status.in_(PENDING_STATUSES),
            EngagementRequest.due_on.is_not(None),
            EngagementRequest.due_on <= horizon,
        )
    )
    emitted = 0
    for request in found:
        assert request.due_on is not None
        days = (request.due_on - today).days
        notice = notice_for(days)
        if notice is None:
            continue
        row = events.emit(
            db,
            "engagement.request_due",
            {
                "engagement_id": request.engagement_id,
                "request_id": request.id,
                "number": request.number,
                "title": request.title,
                "due_on": request.due_on,
                "days": days,
            },
            dedupe_key=(
                f"engagement.request_due:{request.id}:{request.due_on.isoformat()}:{notice}"
            ),
        )
        emitted += row is not None
    return emitted
