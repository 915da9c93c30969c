"""The identity part of the OpenAPI document: the calling user."""

from __future__ import annotations

from typing import Any

from artifact.models.accounts import Role
from artifact.web.openapi_parts import errors, ok

SCHEMAS: dict[str, Any] = {
    "User": {
        "type": "object",
        "required": ["id", "email", "name", "role", "organization", "org_admin"],
        "properties": {
            "id": {"type": "string"},
            "email": {"type": "string"},
            "name": {"type": "string"},
            "role": {"type": "string", "enum": [role.value for role in Role]},
            "organization": {"type": ["string", "null"]},
            "org_admin": {"type": "boolean"},
        },
    },
}
PATHS: dict[str, Any] = {
    "/me": {
        "get": {
            "operationId": "get_me",
            "summary": "The calling user",
            "responses": {**ok(200, "the user", "User"), **errors(401)},
        }
    },
}
