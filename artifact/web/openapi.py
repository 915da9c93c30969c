"""The OpenAPI 3 document of the JSON API: a common frame plus each feature's part (its
``openapi`` module's ``PATHS`` and ``SCHEMAS``), joined once by ``create_app``."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from flask import Flask, current_app

from artifact.web.json_api import api

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "description": "some errors carry more members, named below",
            "properties": {
                "code": {"type": "string", "description": "stable, for programs"},
                "message": {"type": "string", "description": "for people"},
                "agreement_id": {"type": "string", "description": "428: the agreement to accept"},
                "version": {"type": "integer", "description": "428: its current version"},
                "current_version": {
                    "type": "integer",
                    "description": "409 on accepting: the version that is current",
                },
                "request_id": {"type": "string", "description": "500: quote it to the admin"},
            },
        }
    },
}

FRAME: dict[str, Any] = {
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
        "schemas": {"Error": ERROR_SCHEMA},
    },
    "paths": {
        "/openapi.json": {
            "get": {
                "operationId": "get_openapi_document",
                "summary": "This document (public; credentials are not looked at)",
                "security": [],
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1 document",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["openapi", "info", "paths"],
                                }
                            }
                        },
                    }
                },
            }
        },
    },
}
_EXTENSION = "artifact.openapi"


def build_document(parts: Iterable[ModuleType]) -> dict[str, Any]:
    """The frame with every part's paths and schemas; a path or schema named twice is a bug."""
    document = copy.deepcopy(FRAME)
    for part in parts:
        for section, names in (("paths", part.PATHS), ("schemas", part.SCHEMAS)):
            target = document["paths"] if section == "paths" else document["components"]["schemas"]
            clash = set(target) & set(names)
            if clash:
                raise ValueError(f"{part.__name__} redefines {section} {sorted(clash)}")
            target.update(copy.deepcopy(names))
    _check_operation_ids(document)
    return document


def _check_operation_ids(document: dict[str, Any]) -> None:
    """Links name operations by ``operationId``, so one named twice is a bug."""
    seen: dict[str, str] = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            name = operation.get("operationId") if isinstance(operation, dict) else None
            if name is None:
                continue
            if name in seen:
                raise ValueError(f"operationId {name!r} names {seen[name]} and {method} {path}")
            seen[name] = f"{method} {path}"


def init_app(app: Flask, parts: Iterable[ModuleType]) -> None:
    app.extensions[_EXTENSION] = build_document(parts)


@api.get("/openapi.json")
def openapi_document() -> dict[str, Any]:
    """The OpenAPI document (public)."""
    document: dict[str, Any] = current_app.extensions[_EXTENSION]
    return document
