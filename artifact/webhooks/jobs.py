"""The webhooks' jobs: ``attempt(delivery_id)`` (one try) and ``deliver_due(now)`` (every due
try). Each owns its units of work, so a queue worker, ``flask webhooks deliver`` or a test can
run them as they are, in an app context.

A try is three steps: claim it (committed: the lease), POST outside any transaction, record
what came back (committed; a disabled endpoint's mail to the admins goes after that commit)."""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app

from artifact.cli.common import START_STEPS
from artifact.extensions import db
from artifact.infra import webhook_http
from artifact.infra.mail import Mailer
from artifact.infra.storage import store_for
from artifact.kernel import uow
from artifact.models.base import utcnow
from artifact.webhooks.services import delivery

log = logging.getLogger(__name__)


def _begin() -> None:
    uow.begin()
    for step in current_app.extensions.get(START_STEPS, ()):
        step(db.session)


def attempt(delivery_id: str, now: datetime | None = None) -> bool:
    """One try of a delivery, if it is due at ``now`` (default: the present); whether a try
    was made."""
    settings = delivery.Settings.from_config(current_app.config)
    now = now or utcnow()
    _begin()
    try:
        claimed = delivery.claim(
            db.session, store_for(current_app).keyring, delivery_id, now, settings
        )
    except BaseException:
        uow.rollback(db.session)
        raise
    uow.commit(db.session)
    if claimed is None:
        return False
    body = claimed.body.encode("utf-8")
    timestamp = int(now.timestamp())
    headers = webhook_http.signed_headers(claimed.secret, claimed.msg_id, timestamp, body)
    outcome = webhook_http.post(
        claimed.url, body, headers, timeout=settings.timeout, production=settings.production
    )
    _begin()
    try:
        disabled = delivery.record(db.session, claimed, outcome, now, settings)
        if disabled is not None:
            _mail_admins_after_commit(disabled)
    except BaseException:
        uow.rollback(db.session)
        raise
    uow.commit(db.session)
    return True


def deliver_due(now: datetime | None = None) -> int:
    """Try every delivery due at ``now``; returns how many were sent (POSTs made)."""
    now = now or utcnow()
    ids = delivery.due_ids(db.session, now)
    db.session.rollback()  # end the read; each try has its own units of work
    return sum(attempt(delivery_id, now) for delivery_id in ids)


def _mail_admins_after_commit(disabled: delivery.Disabled) -> None:
    config = current_app.config
    mailer = Mailer.from_config(config)
    recipients = delivery.admin_addresses(db.session)
    base = config.get("BASE_URL") or "http://localhost"
    subject = "Artifact: a webhook endpoint was disabled"
    body = (
        f"The webhook endpoint {disabled.url} was disabled after {disabled.failures} failed "
        f"tries in a row.\n\nThe last try: {disabled.last_error}\n\n"
        "Deliveries still queued for it were cancelled. Check the receiver, then register it "
        f"again at {base}/admin/webhooks/ (a new secret is issued).\n"
    )

    def send() -> None:
        for address in recipients:
            try:
                mailer.deliver(mailer.message(address, subject, body))
            except Exception:  # logged; the endpoint stays disabled and visible to admins
                log.exception(
                    "mailing %s about disabled webhook %s failed", address, disabled.endpoint_id
                )

    uow.after_commit(db.session, send)
