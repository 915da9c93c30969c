"""The frameworks' part of the OpenAPI document."""

from __future__ import annotations

from typing import Any

from artifact.web.openapi_parts import errors


def _list_of(schema: str) -> dict[str, Any]:
    item = {"$ref": f"#/components/schemas/{schema}"}
    return {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["items", "total"],
                "properties": {
                    "items": {"type": "array", "items": item},
                    "total": {"type": "integer"},
                },
            }
        }
    }


SCHEMAS: dict[str, Any] = {
    "Framework": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "key": {"type": "string"},
            "title": {"type": "string"},
            "version": {"type": "string"},
            "category": {"type": "string", "enum": ["framework", "regulation"]},
            "source": {"type": "string"},
            "imported_at": {"type": "string", "format": "date-time"},
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
            "kind": {"type": "string"},
            "withdrawn": {"type": "boolean"},
        },
    },
}
PATHS: dict[str, Any] = {
    "/frameworks": {
        "get": {
            "summary": "Frameworks and regulations (signed in)",
            "responses": {
                "200": {"description": "every framework", "content": _list_of("Framework")},
                **errors(401),
            },
        }
    },
    "/frameworks/{framework_id}/requirements": {
        "get": {
            "summary": "All requirements of a framework, in document order (complete, "
            "not paginated; the largest, NIST SP 800-53, has about 1,200)",
            "parameters": [
                {
                    "name": "framework_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                }
            ],
            "responses": {
                "200": {"description": "the requirements", "content": _list_of("Requirement")},
                **errors(401, 404),
            },
        }
    },
}
