"""The OpenAPI 3 document of the JSON API: a common frame plus each feature's part (its
``openapi`` module's ``PATHS`` and ``SCHEMAS``), joined once by ``create_app``."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from flask import Flask, current_app, request

from artifact.kernel.errors import ValidationFailed
from artifact.web.json_api import api
from artifact.web.openapi_parts import PATH_PATTERN, TEXT_PATTERN_EDGE, errors

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
                "existing_id": {
                    "type": "string",
                    "description": "409 on requesting access: the pending request asking the same",
                },
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
_KNOWN = "artifact.openapi.members"


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
    _add_edge_responses(document)
    return document


def _no_controls(schema: Any, pattern: str) -> None:
    """Free strings of a request (no pattern, enum or format of their own) carry the edge's
    rule as a pattern, and request objects are closed (an unknown member is a 400, see
    ``_refuse_unknown_members``), so a client knows what is refused."""
    if not isinstance(schema, dict) or "$ref" in schema:
        return
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    free = not any(key in schema for key in ("pattern", "enum", "format", "const", "anyOf"))
    if "string" in kinds and free:
        schema["pattern"] = pattern
    if "object" in kinds:
        schema.setdefault("additionalProperties", False)
    for value in schema.get("properties", {}).values():
        _no_controls(value, pattern)
    _no_controls(schema.get("items"), pattern)


def _add_edge_responses(document: dict[str, Any]) -> None:
    """What the edge of the app (web/input_guard.py) answers before any operation runs: 400
    for a control character anywhere in the request (or JSON nested too deep), and 413 for a
    JSON or form body past its limit."""
    for path, operations in document["paths"].items():
        if path == "/openapi.json":
            continue
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for parameter in operation.get("parameters", []):
                where = parameter.get("in")
                _no_controls(
                    parameter.get("schema"), PATH_PATTERN if where == "path" else TEXT_PATTERN_EDGE
                )
            for content in operation.get("requestBody", {}).get("content", {}).values():
                _no_controls(content.get("schema"), TEXT_PATTERN_EDGE)
            responses = operation["responses"]
            for status, response in errors(400).items():
                responses.setdefault(status, response)
            if "requestBody" in operation:
                for status, response in errors(413).items():
                    responses.setdefault(status, response)


_RULE_ARG = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
# A browser's multipart form may carry its CSRF token beside the fields.
_ALWAYS_ALLOWED = frozenset({"csrf_token"})


def _known_members(document: dict[str, Any]) -> dict[tuple[str, str, str], frozenset[str]]:
    """(path, method, media type) -> the members a closed request body may have."""
    schemas = document["components"]["schemas"]
    known = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                schema = content.get("schema", {})
                if "$ref" in schema:
                    schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
                if schema.get("additionalProperties") is False:
                    known[(path, method, media)] = frozenset(schema.get("properties", {}))
    return known


def _refuse_unknown_members() -> None:
    """A request body member that the operation does not document is a 400 naming it: a
    client's misspelt field is never silently ignored."""
    rule = request.url_rule
    if request.method not in ("POST", "PUT", "PATCH") or rule is None or request.blueprint != "api":
        return
    path = _RULE_ARG.sub(r"{\1}", rule.rule).removeprefix(api.url_prefix or "")
    known = current_app.extensions[_KNOWN].get((path, request.method.lower(), request.mimetype))
    if known is None:
        return
    if request.is_json:
        body = request.get_json(silent=True)
        sent = set(body) if isinstance(body, dict) else set()
    else:
        sent = {key for key in (*request.form, *request.files) if key is not None}
    unknown = sorted(sent - known - _ALWAYS_ALLOWED)
    if unknown:
        names = ", ".join(repr(name[:40]) for name in unknown[:5])
        raise ValidationFailed(
            f"unknown field {names}; this operation takes {', '.join(sorted(known))}"
        )


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
    document = build_document(parts)
    app.extensions[_EXTENSION] = document
    app.extensions[_KNOWN] = _known_members(document)
    app.before_request(_refuse_unknown_members)


@api.get("/openapi.json")
def openapi_document() -> dict[str, Any]:
    """The OpenAPI document (public)."""
    document: dict[str, Any] = current_app.extensions[_EXTENSION]
    return document
