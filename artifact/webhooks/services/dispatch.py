"""From an event to deliveries: one per enabled endpoint that subscribed to its type.

``on_event`` runs in the unit of work of whoever hands it the event (the outbox's consumer),
and is idempotent: an event handed over twice makes no second delivery for an endpoint."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from artifact.models import AccessRequest, WebhookDelivery, WebhookEndpoint
from artifact.models.base import DbSession, utcnow
from artifact.models.webhooks import DeliveryStatus
from artifact.webhooks.services.endpoints import subscribed
from artifact.webhooks.services.events import EVENT_TYPES, clean_data

log = logging.getLogger(__name__)
EVENT_ID_MAX = 100


def body_for(event_type: str, data: dict[str, Any], at: datetime) -> str:
    """The JSON body every try of a delivery sends: ``{"type", "timestamp", "data"}``."""
    payload = {
        "type": event_type,
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "data": clean_data(data),
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def on_event(
    db: DbSession,
    event_id: str,
    event_type: str,
    data: dict[str, Any],
    now: datetime | None = None,
) -> list[str]:
    """The ids of the deliveries of this event (made now or earlier), one per enabled endpoint
    subscribed to ``event_type``; each is due at once. An unknown type makes none (logged).
    Raises ValueError for an empty or overlong event id."""
    if not event_id or len(event_id) > EVENT_ID_MAX:
        raise ValueError("an event id of 1 to 100 characters is needed")
    if event_type not in EVENT_TYPES:
        log.warning("webhooks: ignoring an event of unknown type %r", event_type)
        return []
    now = now or utcnow()
    endpoints = db.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.enabled.is_(True), WebhookEndpoint.deleted_at.is_(None)
        )
    ).all()
    body = body_for(event_type, data, now)
    ids: list[str] = []
    for endpoint in subscribed(endpoints, event_type):
        ids.append(_delivery_for(db, endpoint, event_id, event_type, body, now))
    return ids


def _delivery_for(
    db: DbSession,
    endpoint: WebhookEndpoint,
    event_id: str,
    event_type: str,
    body: str,
    now: datetime,
) -> str:
    def existing() -> str | None:
        return db.scalar(
            select(WebhookDelivery.id).where(
                WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.event_id == event_id
            )
        )

    found = existing()
    if found is not None:
        return found
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        event_id=event_id,
        event_type=event_type,
        body=body,
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    try:
        with db.begin_nested():  # another consumer may hand over the same event meanwhile
            db.add(delivery)
    except IntegrityError:
        raced = existing()
        if raced is None:
            raise
        return raced
    return delivery.id


def access_request_data(request: AccessRequest) -> dict[str, Any]:
    """What ``access_request.created`` and ``access_request.decided`` carry about a request:
    ids, scope, state and dates; never the requester's message."""
    return {
        "request_id": request.id,
        "report_id": request.report_id,
        "title": request.report.title if request.report is not None else None,
        "series": request.series,
        "category": request.category,
        "state": request.state,
        "requester": request.user.email,
        "created_at": request.created_at.isoformat() if request.created_at else None,
        "decided_at": request.decided_at.isoformat() if request.decided_at else None,
        "expires_at": request.expires_at.isoformat() if request.expires_at else None,
    }


def outbox_consumer(db: DbSession, event: Any) -> None:
    """The outbox's consumer (``artifact.notifications.events.register_consumer``): the event's
    deliveries, in the worker's unit of work, keyed on the outbox event's stable id. Internal
    event types (not offered to webhooks) make none."""
    if event.type in EVENT_TYPES:
        on_event(db, str(event.id), str(event.type), dict(event.data), now=event.created_at)
