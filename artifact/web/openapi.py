"""The OpenAPI 3 document of the JSON API; each feature adds its paths here."""

from __future__ import annotations

from typing import Any

from artifact.agreements import openapi as openapi_agreements
from artifact.catalog import openapi as openapi_catalog
from artifact.evidence import openapi as openapi_evidence
from artifact.search import openapi as openapi_search
from artifact.web.api import api
from artifact.web.openapi_parts import errors

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



def _list_of(schema: str) -> dict[str, Any]:
    item = {"$ref": f"#/components/schemas/{schema}"}
    return {"application/json": {"schema": {
        "type": "object", "required": ["items", "total"],
        "properties": {"items": {"type": "array", "items": item}, "total": {"type": "integer"}},
    }}}


FRAMEWORK_SCHEMAS: dict[str, Any] = {
    "Framework": {
        "type": "object",
        "properties": {
            "id": {"type": "string"}, "key": {"type": "string"}, "title": {"type": "string"},
            "version": {"type": "string"},
            "category": {"type": "string", "enum": ["framework", "regulation"]},
            "source": {"type": "string"}, "imported_at": {"type": "string", "format": "date-time"},
            "requirements": {"type": "integer"},
        },
    },
    "Requirement": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "ref": {"type": "string", "description": "compared case-insensitively"},
            "name": {"type": "string", "description": "KEY:REF"},
            "title": {"type": "string"},
            "parent": {"type": ["string", "null"], "description": "the parent's ref"},
            "kind": {"type": "string"}, "withdrawn": {"type": "boolean"},
        },
    },
}
FRAMEWORK_PATHS: dict[str, Any] = {
    "/frameworks": {
        "get": {
            "summary": "Frameworks and regulations (signed in)",
            "responses": {"200": {"description": "every framework",
                                  "content": _list_of("Framework")}, **errors(401)},
        }
    },
    "/frameworks/{framework_id}/requirements": {
        "get": {
            "summary": "All requirements of a framework, in document order (complete, "
                       "not paginated; the largest, NIST SP 800-53, has about 1,200)",
            "parameters": [{"name": "framework_id", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {"200": {"description": "the requirements",
                                  "content": _list_of("Requirement")}, **errors(401, 404)},
        }
    },
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
            **FRAMEWORK_SCHEMAS,
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
                    **errors(401),
                },
            }
        },
        **FRAMEWORK_PATHS,
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
                    **errors(400, 401, 403),
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
                    **errors(401, 403),
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


# Each feature describes its own paths and schemas; the document is their union.
for _part in (openapi_agreements, openapi_catalog, openapi_evidence, openapi_search):
    DOCUMENT["paths"].update(_part.PATHS)
    DOCUMENT["components"]["schemas"].update(_part.SCHEMAS)
