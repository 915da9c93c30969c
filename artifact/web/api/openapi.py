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


def _merge_catalog() -> None:
    from artifact.web.api import openapi_catalog

    DOCUMENT["paths"].update(openapi_catalog.PATHS)
    DOCUMENT["components"]["schemas"].update(openapi_catalog.SCHEMAS)


_merge_catalog()
