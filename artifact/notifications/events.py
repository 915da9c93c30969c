"""Domain events, written to the transactional outbox in the caller's transaction.

``emit(session, event_type, data)`` adds an ``OutboxEvent`` row to the session: it commits with
the change it announces or not at all. After the commit a job is queued to process it; if the
queue cannot be reached the request still succeeds and the worker's periodic sweep finds the
row. Processing calls every registered consumer (the mail consumer of this feature; webhooks
plug in with ``register_consumer``); a consumer must be idempotent, as an event can be offered
again after a crash or a failed attempt.

``data`` carries ids, titles and states only, never the text of a document.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from artifact.kernel import uow
from artifact.models import OutboxEvent
from artifact.models.base import DbSession

log = logging.getLogger(__name__)

# The public event types (webhooks offer exactly these) and the internal ones (mails only).
PUBLIC_TYPES = (
    "report.published",
    "report.version_added",
    "access_request.created",
    "access_request.decided",
    "agreement.accepted",
    "agreement.terminated",
    "evidence.expiring",
)
INTERNAL_TYPES = (
    "agreement.version_added",
    "report.validity_ending",
    "engagement.request_created",
    "engagement.comment_added",
    "engagement.request_returned",
    "engagement.request_due",
)
EVENT_TYPES = PUBLIC_TYPES + INTERNAL_TYPES


@dataclass(frozen=True)
class Event:
    """What a consumer is given: the outbox row's id (stable: use it as an idempotency key),
    type, data and time."""

    id: str
    type: str
    data: Mapping[str, Any]
    created_at: datetime


Consumer = Callable[[DbSession, Event], None]
# Scans run once a day by the worker; each emits the reminders that are due (with a dedupe key).
DailyScan = Callable[[DbSession, date], int]

# Work the worker runs every minute in an app context (e.g. webhook deliveries that are due).
Periodic = Callable[[], object]

_consumers: list[Consumer] = []
_daily_scans: list[DailyScan] = []
_minutely: list[Periodic] = []


def register_consumer(consumer: Consumer) -> None:
    """Add a consumer of every event (called in registration order while an event is
    processed, in the worker, with the worker's session; it may raise to have the event tried
    again later). Registering the same callable twice has no effect."""
    if consumer not in _consumers:
        _consumers.append(consumer)


def consumers() -> list[Consumer]:
    return list(_consumers)


def register_minutely(work: Periodic) -> None:
    """Add work the worker runs every minute (in an app context; errors are logged)."""
    if work not in _minutely:
        _minutely.append(work)


def minutely() -> list[Periodic]:
    return list(_minutely)


def register_daily_scan(scan: DailyScan) -> None:
    if scan not in _daily_scans:
        _daily_scans.append(scan)


def daily_scans() -> list[DailyScan]:
    return list(_daily_scans)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


# Set by the app (artifact.notifications.jobs): queues the processing of committed events.
Enqueue = Callable[[Iterable[str]], None]
_PENDING = "artifact_outbox_pending"


def emit(
    session: DbSession,
    event_type: str,
    data: Mapping[str, Any],
    *,
    dedupe_key: str | None = None,
    enqueue: Enqueue | None = None,
) -> OutboxEvent | None:
    """Write the event in the session's transaction; once committed, ``enqueue`` (by default
    the current app's queue) is asked to process it. With a ``dedupe_key`` already emitted,
    nothing is written and None is returned."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    if dedupe_key is not None and session.scalar(
        select(OutboxEvent.id).where(OutboxEvent.dedupe_key == dedupe_key)
    ):
        return None
    row = OutboxEvent(event_type=event_type, data=_plain(dict(data)), dedupe_key=dedupe_key)
    session.add(row)
    session.flush()
    pending: list[str] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        uow.after_commit(session, lambda: _after_commit(session, enqueue))
        uow.on_rollback(session, lambda: session.info.pop(_PENDING, None))
    pending.append(row.id)
    return row


def _after_commit(session: DbSession, enqueue: Enqueue | None) -> None:
    ids: list[str] = session.info.pop(_PENDING, [])
    if not ids:
        return
    target = enqueue or _app_enqueue()
    if target is None:
        return  # no queue here (a bare session): the worker's sweep will find the rows
    try:
        target(ids)
    except Exception as error:  # the queue is down: the outbox keeps the events
        log.warning(
            "could not queue %d outbox event(s) (%s); the worker's sweep will process them",
            len(ids),
            type(error).__name__,
        )


def _app_enqueue() -> Enqueue | None:
    from flask import current_app, has_app_context

    if not has_app_context():
        return None
    enqueue: Enqueue | None = current_app.extensions.get("artifact_enqueue_events")
    return enqueue
