"""Registering, listing and deleting webhook endpoints, and their delivery log (admins)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import func, select, update

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.infra import webhook_http
from artifact.infra.storage.kek import KeyProvider
from artifact.kernel.caller import Caller
from artifact.kernel.errors import NotFound, ValidationFailed
from artifact.models import WebhookDelivery, WebhookEndpoint
from artifact.models.base import DbSession, is_id, new_id, utcnow
from artifact.models.webhooks import DeliveryStatus
from artifact.webhooks.services import secrets
from artifact.webhooks.services.events import EVENT_TYPES

DELIVERY_LOG_MAX = 200


def shown_url(url: str) -> str:
    """The URL without its query (which may carry a receiver's token), for the audit trail."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _events(events: Any) -> list[str]:
    if not isinstance(events, list) or not events:
        raise ValidationFailed(
            f"'events' must be a non-empty list of event types: {', '.join(EVENT_TYPES)}"
        )
    unknown = [e for e in events if not isinstance(e, str) or e not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed(
            f"unknown event type {unknown[0]!r}; choose from {', '.join(EVENT_TYPES)}"
        )
    return sorted(set(events), key=EVENT_TYPES.index)


def check_target(url: Any, *, production: bool) -> str:
    """The URL rules (see ``webhook_http.check_url``); in production the host must also
    resolve, to public addresses only. Raises ValidationFailed."""
    if not isinstance(url, str) or not url.strip():
        raise ValidationFailed("'url' must be an https:// URL")
    cleaned: str = url.strip()
    try:
        webhook_http.check_url(cleaned, production=production)
        if production:
            parts = urlsplit(cleaned)
            host = parts.hostname or ""
            if webhook_http.literal_address(host) is None:
                webhook_http.resolve_public(host, parts.port or 443)
    except webhook_http.TargetRefused as error:
        raise ValidationFailed(str(error)) from error
    return cleaned


def create_endpoint(
    db: DbSession,
    caller: Caller,
    keyring: KeyProvider,
    *,
    url: Any,
    events: Any,
    production: bool,
) -> tuple[WebhookEndpoint, str]:
    """A new enabled endpoint and its secret (returned once, stored sealed). Raises
    PermissionDenied, ValidationFailed."""
    policy.require(caller, "webhook.manage")
    chosen = _events(events)
    url = check_target(url, production=production)
    secret = webhook_http.new_secret()
    endpoint_id = new_id()
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        url=url,
        events=chosen,
        secret_ciphertext=secrets.seal(keyring, endpoint_id, secret),
        enabled=True,
        consecutive_failures=0,
        created_by_id=caller.user_id,
    )
    db.add(endpoint)
    db.flush()
    audit.record(
        db,
        caller,
        "webhook.create",
        target_type="webhook",
        target_id=endpoint.id,
        details={"url": shown_url(url), "events": chosen},
    )
    return endpoint, secret


def list_endpoints(db: DbSession, caller: Caller) -> list[WebhookEndpoint]:
    policy.require(caller, "webhook.manage")
    return list(
        db.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.deleted_at.is_(None))
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
    )


def get_endpoint(db: DbSession, caller: Caller, endpoint_id: str) -> WebhookEndpoint:
    """Raises PermissionDenied, NotFound (also for a deleted endpoint)."""
    policy.require(caller, "webhook.manage")
    endpoint = db.get(WebhookEndpoint, endpoint_id) if is_id(endpoint_id) else None
    if endpoint is None or endpoint.deleted_at is not None:
        raise NotFound("no such webhook")
    return endpoint


def delete_endpoint(db: DbSession, caller: Caller, endpoint_id: str) -> WebhookEndpoint:
    """Stop delivering to it (what was queued is cancelled); its record and log are kept.
    Raises PermissionDenied, NotFound."""
    endpoint = get_endpoint(db, caller, endpoint_id)
    now = utcnow()
    endpoint.deleted_at = now
    endpoint.enabled = False
    cancel_pending(db, endpoint.id)
    audit.record(
        db,
        caller,
        "webhook.delete",
        target_type="webhook",
        target_id=endpoint.id,
        details={"url": shown_url(endpoint.url), "events": list(endpoint.events)},
    )
    return endpoint


def enable_endpoint(db: DbSession, caller: Caller, endpoint_id: str) -> WebhookEndpoint:
    """Deliver again to an endpoint that failures disabled: its failure count starts at zero.
    Events that happened while it was disabled are not sent (the receiver's owner can read the
    catalog or the feed for them). Raises PermissionDenied, NotFound (also when deleted)."""
    endpoint = get_endpoint(db, caller, endpoint_id)
    if endpoint.enabled:
        return endpoint
    endpoint.enabled = True
    endpoint.disabled_at = None
    endpoint.disabled_reason = None
    endpoint.consecutive_failures = 0
    audit.record(
        db,
        caller,
        "webhook.enable",
        target_type="webhook",
        target_id=endpoint.id,
        details={"url": shown_url(endpoint.url)},
    )
    return endpoint


def cancel_pending(db: DbSession, endpoint_id: str) -> None:
    db.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.CANCELLED, completed_at=utcnow(), next_attempt_at=None)
    )


def list_deliveries(
    db: DbSession, caller: Caller, endpoint_id: str, limit: int = DELIVERY_LOG_MAX
) -> tuple[list[WebhookDelivery], int]:
    """The endpoint's newest deliveries with their tries, and how many there are in all.
    Raises PermissionDenied, NotFound."""
    endpoint = get_endpoint(db, caller, endpoint_id)
    where = WebhookDelivery.endpoint_id == endpoint.id
    total = db.scalar(select(func.count()).select_from(WebhookDelivery).where(where)) or 0
    rows = db.scalars(
        select(WebhookDelivery)
        .where(where)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
        .limit(limit)
    ).all()
    return list(rows), total


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def endpoint_json(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "enabled": endpoint.enabled,
        "consecutive_failures": endpoint.consecutive_failures,
        "disabled_at": _when(endpoint.disabled_at),
        "disabled_reason": endpoint.disabled_reason,
        "created_at": _when(endpoint.created_at),
    }


def delivery_json(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": _when(delivery.next_attempt_at),
        "created_at": _when(delivery.created_at),
        "completed_at": _when(delivery.completed_at),
        "tries": [
            {
                "number": t.number,
                "started_at": _when(t.started_at),
                "duration_ms": t.duration_ms,
                "succeeded": t.succeeded,
                "response_code": t.response_code,
                "error": t.error,
            }
            for t in delivery.tries
        ],
    }


def subscribed(endpoints: Iterable[WebhookEndpoint], event_type: str) -> list[WebhookEndpoint]:
    return [e for e in endpoints if event_type in (e.events or [])]
