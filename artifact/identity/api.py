"""Who am I, my signed-in sessions, and (admins) organisations and their verified domains."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_login import current_user

from artifact.extensions import db
from artifact.identity.services import organizations, sessions
from artifact.kernel.errors import ValidationFailed
from artifact.models import User
from artifact.web.access import require
from artifact.web.json_api import api
from artifact.web.security import current_caller, current_session_id


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "organization": user.organization.name if user.organization else None,
        "org_admin": user.is_org_admin,
    }


@api.get("/me")
@require("account.view")
def me() -> dict[str, Any]:
    """The calling user."""
    return user_json(current_user)


@api.get("/me/sessions")
@require("account.view")
def my_sessions() -> dict[str, Any]:
    """The calling user's live browser sessions; ``current`` marks the one of this request."""
    config = current_app.config
    rows = sessions.list_active(
        db.session,
        current_caller(),
        idle=config["SESSION_IDLE_TIMEOUT"],
        absolute=config["SESSION_ABSOLUTE_TIMEOUT"],
    )
    current = current_session_id()
    return {"items": [sessions.session_json(row, current) for row in rows], "total": len(rows)}


@api.delete("/me/sessions/<session_id>")
@require("session.end")
def end_my_session(session_id: str) -> tuple[str, int]:
    """End one of my sessions (404 for one that is not mine or has ended)."""
    sessions.end_own(db.session, current_caller(), session_id)
    return "", 204


@api.get("/organizations")
@require("organization.manage")
def list_organizations() -> dict[str, Any]:
    """Every organisation with its verified e-mail domains (admins)."""
    rows = organizations.list_organizations(db.session, current_caller())
    return {"items": [organizations.organization_json(o) for o in rows], "total": len(rows)}


@api.post("/organizations/<organization_id>/domains")
@require("organization.manage")
def add_organization_domain(organization_id: str) -> tuple[dict[str, Any], int]:
    """Mark an e-mail domain as verified for the organisation (admins)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("domain"), str):
        raise ValidationFailed('send {"domain": "example.com"}')
    row = organizations.add_domain(db.session, current_caller(), organization_id, body["domain"])
    return organizations.organization_json(row.organization), 201


@api.delete("/organizations/<organization_id>/domains/<domain>")
@require("organization.manage")
def remove_organization_domain(organization_id: str, domain: str) -> tuple[str, int]:
    """Stop treating a domain as the organisation's (admins)."""
    organizations.remove_domain(db.session, current_caller(), organization_id, domain)
    return "", 204
