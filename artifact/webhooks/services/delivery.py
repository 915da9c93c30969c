"""Trying deliveries: claim one that is due, record what its POST got, schedule the next try
with exponential backoff and jitter, give up after the last, and disable an endpoint that
failed too many times in a row.

The HTTP call itself happens between ``claim`` and ``record``, outside any transaction (see
``artifact.webhooks.jobs``): a claim moves ``next_attempt_at`` a lease ahead, so a worker that
dies mid-try leaves the delivery to be tried again once the lease runs out, and two workers
never try the same delivery at once."""

from __future__ import annotations

import logging
import secrets as random_source
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from artifact.audit.services import chain as audit
from artifact.infra import secretbox
from artifact.infra.storage.kek import KeyProvider
from artifact.infra.webhook_http import Outcome
from artifact.kernel.caller import Caller
from artifact.models import User, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from artifact.models.accounts import Role
from artifact.models.base import DbSession, utcnow
from artifact.models.webhooks import DeliveryStatus
from artifact.webhooks.services import secrets
from artifact.webhooks.services.endpoints import cancel_pending, shown_url

log = logging.getLogger(__name__)
SYSTEM = Caller.operator("webhooks")


@dataclass(frozen=True)
class Settings:
    production: bool
    timeout: float = 10.0
    max_attempts: int = 8
    disable_after: int = 15
    backoff_seconds: int = 30
    backoff_max_seconds: int = 6 * 3600

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(
            production=config.get("ARTIFACT_ENV") == "production",
            timeout=float(config.get("WEBHOOK_TIMEOUT", 10)),
            max_attempts=int(config.get("WEBHOOK_MAX_ATTEMPTS", 8)),
            disable_after=int(config.get("WEBHOOK_DISABLE_AFTER", 15)),
            backoff_seconds=int(config.get("WEBHOOK_BACKOFF_SECONDS", 30)),
            backoff_max_seconds=int(config.get("WEBHOOK_BACKOFF_MAX_SECONDS", 6 * 3600)),
        )

    @property
    def lease(self) -> timedelta:
        """How long a claimed try may take before another worker may take it over."""
        return timedelta(seconds=self.timeout + 60)


@dataclass(frozen=True)
class Claimed:
    """A try about to be made: everything the POST needs."""

    delivery_id: str
    endpoint_id: str
    number: int
    url: str
    body: str
    msg_id: str
    secret: str


@dataclass(frozen=True)
class Disabled:
    """An endpoint this try disabled (the admins are told)."""

    endpoint_id: str
    url: str
    failures: int
    last_error: str


def backoff(attempts: int, settings: Settings) -> timedelta:
    """The wait after the ``attempts``-th failed try: base x 2^(attempts-1), at most the cap,
    times a random factor in [0.8, 1.2) so failing deliveries do not retry in lockstep. Each
    wait is longer than the one before until the cap."""
    base = min(settings.backoff_seconds * 2 ** max(attempts - 1, 0), settings.backoff_max_seconds)
    factor = 0.8 + random_source.randbelow(4000) / 10000
    return timedelta(seconds=base * factor)


def due_ids(db: DbSession, now: datetime, limit: int = 500) -> list[str]:
    """Pending deliveries whose next try is due, oldest first."""
    return list(
        db.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
        )
    )


def claim(
    db: DbSession, keyring: KeyProvider, delivery_id: str, now: datetime, settings: Settings
) -> Claimed | None:
    """Take the delivery's next try if it is due (None otherwise: done, not yet due, claimed
    by another worker, or its endpoint is gone or disabled, which cancels it)."""
    delivery = db.scalar(
        select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update()
    )
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return None
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
        return None
    endpoint = delivery.endpoint
    if not endpoint.enabled or endpoint.deleted_at is not None:
        cancel_pending(db, endpoint.id)
        return None
    delivery.attempts += 1
    try:
        secret = secrets.open_secret(keyring, endpoint)
    except (secretbox.MissingKey, ValueError) as error:
        # Nothing unsigned ever leaves: a failed try in the log, retried like any other
        # (restoring the key version lets the next one through).
        log.error("webhook %s: its secret does not open with the keyring: %s", endpoint.id, error)
        failed = Claimed(delivery.id, endpoint.id, delivery.attempts, endpoint.url, "", "", "")
        problem = Outcome(None, 0, "the signing secret cannot be opened (a key version is missing)")
        record(db, failed, problem, now, settings)
        return None
    delivery.next_attempt_at = now + settings.lease
    db.flush()
    return Claimed(
        delivery_id=delivery.id,
        endpoint_id=endpoint.id,
        number=delivery.attempts,
        url=endpoint.url,
        body=delivery.body,
        msg_id=f"msg_{delivery.id}",
        secret=secret,
    )


def record(
    db: DbSession, claimed: Claimed, outcome: Outcome, started: datetime, settings: Settings
) -> Disabled | None:
    """Log the try and decide what follows: done, the next try's time, or no more tries. An
    endpoint past ``disable_after`` failures in a row is disabled (its queue cancelled)."""
    delivery = db.scalar(
        select(WebhookDelivery).where(WebhookDelivery.id == claimed.delivery_id).with_for_update()
    )
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    db.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            number=claimed.number,
            started_at=started,
            duration_ms=outcome.duration_ms,
            succeeded=outcome.succeeded,
            response_code=outcome.status_code,
            error=None if outcome.succeeded else _error(outcome),
        )
    )
    finished = started + timedelta(milliseconds=outcome.duration_ms)
    if outcome.succeeded:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.completed_at = finished
        delivery.next_attempt_at = None
        endpoint.consecutive_failures = 0
        db.flush()
        return None
    endpoint.consecutive_failures += 1
    if delivery.attempts >= settings.max_attempts:
        delivery.status = DeliveryStatus.FAILED
        delivery.completed_at = finished
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = finished + backoff(delivery.attempts, settings)
    db.flush()
    if endpoint.enabled and endpoint.consecutive_failures >= settings.disable_after:
        return _disable(db, endpoint, _error(outcome))
    return None


def _error(outcome: Outcome) -> str:
    if outcome.error:
        return outcome.error[:300]
    return f"answered HTTP {outcome.status_code}"


def _disable(db: DbSession, endpoint: WebhookEndpoint, last_error: str) -> Disabled:
    endpoint.enabled = False
    endpoint.disabled_at = utcnow()
    endpoint.disabled_reason = (
        f"{endpoint.consecutive_failures} failed tries in a row; the last: {last_error}"
    )[:300]
    cancel_pending(db, endpoint.id)
    audit.record(
        db,
        SYSTEM,
        "webhook.disable",
        target_type="webhook",
        target_id=endpoint.id,
        details={
            "url": shown_url(endpoint.url),
            "failures": endpoint.consecutive_failures,
            "last_error": last_error,
        },
    )
    return Disabled(endpoint.id, endpoint.url, endpoint.consecutive_failures, last_error)


def admin_addresses(db: DbSession) -> list[str]:
    """Where the news of a disabled endpoint goes: every active admin."""
    return list(
        db.scalars(
            select(User.email)
            .where(User.role == Role.ADMIN, User.disabled_at.is_(None))
            .order_by(User.email)
        )
    )
