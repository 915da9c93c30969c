"""OpenAPI paths and schemas of the agreements API (merged into the document in openapi.py)."""

from __future__ import annotations

from typing import Any

from artifact.web.openapi_parts import errors


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "required": required, "properties": properties}
            }
        },
    }


_ID = [{"name": "agreement_id", "in": "path", "required": True, "schema": {"type": "string"}}]
_SCOPE = {"type": "string", "enum": ["account", "organization"]}
_TEXT = {"type": "string", "description": "plain text; blank lines separate paragraphs"}

SCHEMAS: dict[str, Any] = {
    "Acceptance": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "agreement_id": {"type": "string"},
            "version": {"type": "integer"},
            "scope": _SCOPE,
            "typed_name": {"type": "string"},
            "accepted_at": {"type": "string", "format": "date-time"},
            "text_sha256": {"type": "string"},
            "user": {"type": "string"},
            "organization": {"type": ["string", "null"]},
            "terminated_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "Agreement": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "kind": {"type": "string", "enum": ["nda", "baa", "terms"]},
            "current_version": {"type": "integer"},
            "text_sha256": {"type": "string"},
            "published_at": {"type": "string", "format": "date-time"},
            "acceptance": {"oneOf": [_ref("Acceptance"), {"type": "null"}]},
            "satisfied": {
                "type": "boolean",
                "description": "an active acceptance of the current version covers you",
            },
            "text": {"type": "string", "description": "only on GET /agreements/{id}"},
        },
    },
}

PATHS: dict[str, Any] = {
    "/agreements": {
        "get": {
            "summary": "Agreements with the current version and your acceptance",
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "items": {"type": "array", "items": _ref("Agreement")},
                            "total": {"type": "integer"},
                        },
                    },
                    "agreements",
                ),
                **errors(401),
            },
        },
        "post": {
            "summary": "Create an agreement with version 1 (admin)",
            "requestBody": _body(
                {
                    "title": {"type": "string"},
                    "kind": {"type": "string", "enum": ["nda", "baa", "terms"]},
                    "text": _TEXT,
                },
                ["title", "kind", "text"],
            ),
            "responses": {
                "201": _json(
                    {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string"},
                            "current_version": {"type": "integer"},
                        },
                    },
                    "created",
                ),
                **errors(400, 401, 403, 409),
            },
        },
    },
    "/agreements/{agreement_id}": {
        "get": {
            "summary": "One agreement with the text of its current version",
            "parameters": _ID,
            "responses": {"200": _json(_ref("Agreement"), "the agreement"), **errors(401, 404)},
        },
    },
    "/agreements/{agreement_id}/versions": {
        "post": {
            "summary": "Publish a new version (admin); acceptance is needed again",
            "parameters": _ID,
            "requestBody": _body({"text": _TEXT}, ["text"]),
            "responses": {
                "201": _json(
                    {
                        "type": "object",
                        "properties": {
                            "current_version": {"type": "integer"},
                            "text_sha256": {"type": "string"},
                        },
                    },
                    "published",
                ),
                **errors(400, 401, 403, 404, 409),
            },
        },
    },
    "/agreements/{agreement_id}/accept": {
        "post": {
            "summary": "Accept the current version (organization scope: org admins only)",
            "parameters": _ID,
            "requestBody": _body(
                {
                    "version": {"type": "integer"},
                    "typed_name": {"type": "string"},
                    "scope": _SCOPE,
                    "text_sha256": {
                        "type": "string",
                        "description": "optional: hash of the text you showed; must be current",
                    },
                },
                ["version", "typed_name", "scope"],
            ),
            "responses": {
                "201": _json(
                    {
                        "type": "object",
                        "properties": {
                            "acceptance_id": {"type": "string"},
                            "text_sha256": {"type": "string"},
                            "version": {"type": "integer"},
                        },
                    },
                    "recorded",
                ),
                **errors(400, 401, 403, 404, 409),
            },
        },
    },
    "/agreements/{agreement_id}/terminate": {
        "post": {
            "summary": "Terminate your (or, as org admin, your organisation's) acceptance",
            "parameters": _ID,
            "requestBody": _body({"scope": _SCOPE, "reason": {"type": "string"}}, ["scope"]),
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "terminated": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "acceptance_id": {"type": "string"},
                                        "effective_at": {"type": "string", "format": "date-time"},
                                    },
                                },
                            }
                        },
                    },
                    "terminated",
                ),
                **errors(400, 401, 403, 404, 409),
            },
        },
    },
    "/acceptances": {
        "get": {
            "summary": "Your and your organisation's acceptances (history)",
            "parameters": [
                {
                    "name": "agreement_id",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                }
            ],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "items": {"type": "array", "items": _ref("Acceptance")},
                            "total": {"type": "integer"},
                        },
                    },
                    "history",
                ),
                **errors(401),
            },
        },
    },
    "/acceptances/{acceptance_id}/certificate": {
        "get": {
            "summary": "The acceptance certificate PDF (acceptor and staff)",
            "parameters": [
                {
                    "name": "acceptance_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                }
            ],
            "responses": {
                "200": {"description": "PDF", "content": {"application/pdf": {}}},
                **errors(401, 404),
            },
        },
    },
}
