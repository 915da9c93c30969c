"""Processing the outbox: each event once, by every consumer, retried with backoff.

An event is processed by a queued job (right after the commit that wrote it) or by the
worker's sweep (events no job has processed: the queue was down, or a worker died). Consumers
are idempotent (mails are claimed per event and recipient), so offering an event twice sends
nothing twice; only once every consumer succeeded is the event marked processed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from artifact.models import MailSend, OutboxEvent
from artifact.models.base import DbSession, is_id, utcnow
from artifact.models.notifications import SendStatus
from artifact.notifications.events import Consumer, Event

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=6)


def backoff(attempts: int, base_seconds: int) -> timedelta:
    """The wait before attempt ``attempts + 1``: base, 2 x base, 4 x base, ... at most 6 h."""
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def as_event(row: OutboxEvent) -> Event:
    return Event(
        id=row.id, type=row.event_type, data=dict(row.data or {}), created_at=row.created_at
    )


def process_event(
    db: DbSession,
    event_id: str,
    consumers: list[Consumer],
    commit: Callable[[], None],
    retry_base_seconds: int = 10,
) -> bool:
    """Offer the event to every consumer and mark it processed. True when it is (now or
    before); False for an unknown id. A consumer's error is recorded on the row (attempts,
    last error, next attempt) and raised again, so the queue retries the job."""
    row = db.get(OutboxEvent, event_id) if is_id(event_id) else None
    if row is None:
        return False
    if row.processed_at is not None:
        return True
    event = as_event(row)
    try:
        for consumer in consumers:
            consumer(db, event)
    except Exception as error:
        db.rollback()
        row = db.get(OutboxEvent, event_id)
        assert row is not None
        row.attempts += 1
        row.last_error = f"{type(error).__name__}: {str(error)[:500]}"
        row.next_attempt_at = utcnow() + backoff(row.attempts, retry_base_seconds)
        commit()
        raise
    row = db.get(OutboxEvent, event_id)
    assert row is not None
    row.attempts += 1
    row.processed_at = utcnow()
    row.last_error = None
    row.next_attempt_at = None
    commit()
    return True


def due_events(
    db: DbSession, grace: timedelta, now: datetime | None = None, limit: int = 500
) -> list[str]:
    """Ids of unprocessed events the sweep should take: older than ``grace`` (the job queued at
    commit had its chance) and past their next attempt time."""
    now = now or utcnow()
    stmt = (
        select(OutboxEvent.id)
        .where(
            OutboxEvent.processed_at.is_(None),
            OutboxEvent.created_at <= now - grace,
            or_(OutboxEvent.next_attempt_at.is_(None), OutboxEvent.next_attempt_at <= now),
        )
        .order_by(OutboxEvent.created_at)
        .limit(limit)
    )
    return list(db.scalars(stmt))


def overview(db: DbSession, limit: int = 50) -> dict[str, Any]:
    """What admins see of the outbox and the mail record: counts, the unprocessed events with
    their last error, and the latest failed or unfinished sends."""
    unprocessed = list(
        db.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.processed_at.is_(None))
            .order_by(OutboxEvent.created_at)
            .limit(limit)
        )
    )
    failed_sends = list(
        db.scalars(
            select(MailSend)
            .where(MailSend.status != SendStatus.SENT)
            .order_by(MailSend.at.desc())
            .limit(limit)
        )
    )
    counts: dict[str, int] = {
        str(status): int(count)
        for status, count in db.execute(
            select(MailSend.status, func.count()).group_by(MailSend.status)
        )
    }
    return {
        "unprocessed_total": db.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.processed_at.is_(None))
        )
        or 0,
        "processed_total": db.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.processed_at.is_not(None))
        )
        or 0,
        "unprocessed": unprocessed,
        "sends": {status: int(counts.get(status, 0)) for status in ("sent", "failed", "sending")},
        "failed_sends": failed_sends,
    }
