"""Webhooks: register, list and delete endpoints, and read their delivery log (admins)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from artifact.extensions import db
from artifact.infra.storage import store_for
from artifact.kernel.errors import ValidationFailed
from artifact.web.access import require
from artifact.web.json_api import api
from artifact.web.security import current_caller
from artifact.webhooks.services import endpoints


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("send a JSON object")
    return body


@api.get("/webhooks")
@require("webhook.manage")
def list_webhooks() -> dict[str, Any]:
    """The registered endpoints (never their secrets)."""
    items = [
        endpoints.endpoint_json(e) for e in endpoints.list_endpoints(db.session, current_caller())
    ]
    return {"items": items, "total": len(items)}


@api.post("/webhooks")
@require("webhook.manage")
def create_webhook() -> tuple[dict[str, Any], int]:
    """Register an endpoint; the answer holds its signing secret, shown this once."""
    body = _body()
    endpoint, secret = endpoints.create_endpoint(
        db.session,
        current_caller(),
        store_for(current_app).keyring,
        url=body.get("url"),
        events=body.get("events"),
        production=current_app.config["ARTIFACT_ENV"] == "production",
    )
    return {**endpoints.endpoint_json(endpoint), "secret": secret}, 201


@api.delete("/webhooks/<endpoint_id>")
@require("webhook.manage")
def delete_webhook(endpoint_id: str) -> tuple[str, int]:
    """Stop delivering to an endpoint; what was queued for it is cancelled."""
    endpoints.delete_endpoint(db.session, current_caller(), endpoint_id)
    return "", 204


@api.post("/webhooks/<endpoint_id>/enable")
@require("webhook.manage")
def enable_webhook(endpoint_id: str) -> dict[str, Any]:
    """Deliver again to an endpoint that failures disabled (its failure count starts at zero)."""
    endpoint = endpoints.enable_endpoint(db.session, current_caller(), endpoint_id)
    return endpoints.endpoint_json(endpoint)


@api.get("/webhooks/<endpoint_id>/deliveries")
@require("webhook.manage")
def list_webhook_deliveries(endpoint_id: str) -> dict[str, Any]:
    """The endpoint's newest deliveries (at most 200), each with every try."""
    rows, total = endpoints.list_deliveries(db.session, current_caller(), endpoint_id)
    return {"items": [endpoints.delivery_json(d) for d in rows], "total": total}
