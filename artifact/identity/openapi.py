"""The identity part of the OpenAPI document: the calling user and their sessions, and the
organisations with their verified domains."""

from __future__ import annotations

from typing import Any

from artifact.models.accounts import Role
from artifact.web.openapi_parts import DOMAIN_PATTERN, errors, link, ok, path_id, ref

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
SCHEMAS["Organization"] = {
    "type": "object",
    "required": ["id", "name", "domains", "members"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "domains": {
            "type": "array",
            "items": {"type": "string"},
            "description": "e-mail domains an admin verified as the organisation's",
        },
        "members": {"type": "integer", "minimum": 0},
    },
}
SCHEMAS["OrganizationList"] = {
    "type": "object",
    "required": ["items", "total"],
    "properties": {
        "items": {"type": "array", "items": ref("Organization")},
        "total": {"type": "integer", "minimum": 0},
    },
}
SCHEMAS["DomainInput"] = {
    "type": "object",
    "required": ["domain"],
    "additionalProperties": False,
    "properties": {
        "domain": {
            "type": "string",
            "minLength": 3,
            "maxLength": 253,
            "pattern": DOMAIN_PATTERN,
            "description": "an e-mail domain such as example.com (an internationalised name "
            "in its punycode form)",
        }
    },
}
_ORG_404 = {"404": {**errors(404)["404"], "description": "no such organisation or domain"}}

PATHS: dict[str, Any] = {
    "/organizations": {
        "get": {
            "operationId": "list_organizations",
            "summary": "Organisations and their verified e-mail domains (admins)",
            "responses": {**ok(200, "the organisations", "OrganizationList"), **errors(401, 403)},
        }
    },
    "/organizations/{organization_id}/domains": {
        "post": {
            "operationId": "add_organization_domain",
            "summary": "Mark an e-mail domain as verified for the organisation (admins): "
            "sign-ups at it join the organisation, approval rules may name it",
            "parameters": [path_id("organization_id")],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ref("DomainInput")}},
            },
            "responses": {
                **ok(201, "the organisation", "Organization"),
                **errors(400, 401, 403),
                **_ORG_404,
                "409": {
                    **errors(409)["409"],
                    "description": "the domain is another organisation's",
                },
            },
        }
    },
    "/organizations/{organization_id}/domains/{domain}": {
        "delete": {
            "operationId": "remove_organization_domain",
            "summary": "Stop treating a domain as the organisation's (admins)",
            "parameters": [
                path_id("organization_id"),
                {"name": "domain", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "responses": {
                "204": {"description": "removed"},
                **errors(400, 401, 403),
                **_ORG_404,
            },
        }
    },
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
