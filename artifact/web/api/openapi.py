"""The OpenAPI 3 document of the JSON API; each feature adds its paths here."""

from __future__ import annotations

from typing import Any

from artifact.web.api import api

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {
            "description": "error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status in statuses
    }


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Artifact API",
        "version": "1",
        "description": "Compliance artifact repository. Authenticate with a personal API token "
        "(`Authorization: Bearer TOKEN`) or the browser session (then writes need the CSRF token).",
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": ERROR_SCHEMA,
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
        },
    },
    "paths": {
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
                    **_errors(401),
                },
            }
        },
        "/audit/events": {
            "get": {
                "summary": "The audit trail, newest first (admin)",
                "parameters": [
                    {"name": name, "in": "query", "required": False,
                     "schema": {"type": "integer" if name in ("limit", "offset") else "string"}}
                    for name in ("actor", "action", "target", "outcome", "since", "until",
                                 "limit", "offset")
                ],
                "responses": {
                    "200": {"description": '{"items": [event...], "total": N}; each event has '
                            "seq, occurred_at, actor_id, actor_email, ip_address, session_ref, "
                            "action, target_type, target_id, outcome, details, prev_hash, hash"},
                    **_errors(400, 401, 403),
                },
            }
        },
        "/audit/verify": {
            "get": {
                "summary": "Verify the hash chain and the signed checkpoints (admin)",
                "responses": {
                    "200": {
                        "description": "the verdict",
                        "content": {"application/json": {"schema": {
                            "type": "object",
                            "properties": {
                                "ok": {"type": "boolean"},
                                "events": {"type": "integer"},
                                "checkpoints": {"type": "integer"},
                                "first_bad_seq": {"type": ["integer", "null"]},
                                "message": {"type": "string"},
                            },
                        }}},
                    },
                    **_errors(401, 403),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3 document"}},
            }
        },
    },
}


@api.get("/openapi.json")
def openapi_document() -> dict[str, Any]:
    """The OpenAPI document (public)."""
    return DOCUMENT
