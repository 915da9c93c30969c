"""The identity part of the OpenAPI document: the calling user."""

from __future__ import annotations

from typing import Any

from artifact.web.openapi_parts import errors

SCHEMAS: dict[str, Any] = {
    "User": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "email": {"type": "string"},
            "name": {"type": "string"},
            "role": {"type": "string", "enum": ["customer", "auditor", "staff", "admin"]},
            "organization": {"type": ["string", "null"]},
            "org_admin": {"type": "boolean"},
        },
    },
}
PATHS: dict[str, Any] = {
    "/me": {
        "get": {
            "summary": "The calling user",
            "responses": {
                "200": {
                    "description": "the user",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/User"}}
                    },
                },
                **errors(401),
            },
        }
    },
}
