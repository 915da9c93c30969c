"""Subscriptions (signed in) and the job queue's state (admins)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from artifact.extensions import db
from artifact.kernel.errors import ValidationFailed
from artifact.notifications.queue_state import queue_state
from artifact.notifications.services import subscriptions
from artifact.web.access import require
from artifact.web.json_api import api
from artifact.web.security import current_caller


@api.get("/subscriptions")
@require("subscription.manage")
def get_subscriptions() -> dict[str, Any]:
    """The caller's subscriptions."""
    return subscriptions.get_subscriptions(db.session, current_caller())


@api.put("/subscriptions")
@require("subscription.manage")
def put_subscriptions() -> dict[str, Any]:
    """Replace the caller's subscriptions."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("send a JSON object")
    return subscriptions.put_subscriptions(db.session, current_caller(), body)


@api.get("/queue")
@require("notifications.admin")
def get_queue() -> dict[str, Any]:
    """Queued and scheduled jobs, unprocessed outbox events and failed sends."""
    return queue_state(current_app._get_current_object(), db.session)  # type: ignore[attr-defined]
