"""The identity part of the OpenAPI document: the calling user and their sessions."""

from __future__ import annotations

from typing import Any

from artifact.models.accounts import Role
from artifact.web.openapi_parts import errors, link, ok, path_id, ref

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
    "Session": {
        "type": "object",
        "required": ["id", "created_at", "last_seen_at", "ip", "user_agent", "current"],
        "properties": {
            "id": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "last_seen_at": {
                "type": "string",
                "format": "date-time",
                "description": "to the minute: the server notes activity at most once a minute",
            },
            "ip": {"type": ["string", "null"], "description": "the address it was opened from"},
            "user_agent": {"type": ["string", "null"], "description": "the browser (device)"},
            "current": {
                "type": "boolean",
                "description": "the session of this request (never, for a token call)",
            },
        },
    },
    "SessionList": {
        "type": "object",
        "required": ["items", "total"],
        "properties": {
            "items": {"type": "array", "items": ref("Session")},
            "total": {"type": "integer", "minimum": 0},
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
    "/me/sessions": {
        "get": {
            "operationId": "list_my_sessions",
            "summary": "The calling user's live browser sessions, last seen first",
            "responses": {
                **ok(
                    200,
                    "the sessions",
                    "SessionList",
                    links={"end": link("end_my_session", session_id="$response.body#/items/0/id")},
                ),
                **errors(401),
            },
        }
    },
    "/me/sessions/{session_id}": {
        "delete": {
            "operationId": "end_my_session",
            "summary": "End one of the calling user's sessions: every copy of its cookie stops "
            "working",
            "parameters": [path_id("session_id")],
            "responses": {
                "204": {"description": "the session has ended"},
                **errors(401),
                **{
                    "404": {
                        **errors(404)["404"],
                        "description": "no such session, already ended, or another user's",
                    }
                },
            },
        }
    },
}
