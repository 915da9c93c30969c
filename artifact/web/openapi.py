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
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
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
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3 document"}},
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
    return document


def init_app(app: Flask, parts: Iterable[ModuleType]) -> None:
    app.extensions[_EXTENSION] = build_document(parts)


@api.get("/openapi.json")
def openapi_document() -> dict[str, Any]:
    """The OpenAPI document (public)."""
    document: dict[str, Any] = current_app.extensions[_EXTENSION]
    return document
