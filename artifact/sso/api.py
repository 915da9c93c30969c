"""Identity providers through the JSON API (admins): register, list, delete, link accounts."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from artifact.extensions import db
from artifact.infra.storage import store_for
from artifact.kernel.errors import ValidationFailed
from artifact.sso.services import accounts, providers
from artifact.web.access import require
from artifact.web.json_api import api
from artifact.web.security import current_caller


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("send a JSON object")
    return body


@api.get("/identity-providers")
@require("identity_provider.manage")
def list_identity_providers() -> dict[str, Any]:
    """The registered identity providers (never a client secret)."""
    rows = providers.list_providers(db.session, current_caller())
    items = [providers.provider_json(p) for p in rows]
    return {"items": items, "total": len(items)}


@api.post("/identity-providers")
@require("identity_provider.manage")
def create_identity_provider() -> tuple[dict[str, Any], int]:
    """Register an OpenID Connect or SAML identity provider."""
    provider = providers.create_provider(
        db.session,
        current_caller(),
        store_for(current_app).keyring,
        _body(),
        production=current_app.config["ARTIFACT_ENV"] == "production",
    )
    return providers.provider_json(provider), 201


@api.delete("/identity-providers/<provider_id>")
@require("identity_provider.manage")
def delete_identity_provider(provider_id: str) -> tuple[str, int]:
    """Stop signing anyone in through a provider (its links stay on record)."""
    providers.delete_provider(db.session, current_caller(), provider_id)
    return "", 204


@api.post("/identity-providers/<provider_id>/links")
@require("identity_provider.manage")
def link_identity(provider_id: str) -> tuple[dict[str, Any], int]:
    """Link an existing account to the provider's subject (the admin vouches for it)."""
    caller = current_caller()
    provider = providers.active_provider(db.session, provider_id)
    body = _body()
    link = accounts.admin_link(db.session, caller, provider, body.get("user"), body.get("subject"))
    return {"provider_id": provider.id, "user_id": link.user_id, "subject": link.subject}, 201
