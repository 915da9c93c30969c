"""Who am I."""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from artifact.models import User
from artifact.web.access import require
from artifact.web.json_api import api


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
