"""The frameworks' part of the OpenAPI document."""

from __future__ import annotations

from typing import Any

from artifact.models.frameworks import FrameworkCategory
from artifact.web.openapi_parts import errors, json_response, link, path_id, ref

_STR = {"type": "string"}


def _list_of(schema: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "total"],
        "properties": {
            "items": {"type": "array", "items": ref(schema)},
            "total": {"type": "integer", "minimum": 0},
        },
    }


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties}


SCHEMAS: dict[str, Any] = {
    "Framework": _object(
        {
            "id": _STR,
            "key": {"type": "string", "description": "short and stable, e.g. iso27001-2022"},
            "title": _STR,
            "version": _STR,
            "category": {"type": "string", "enum": [c.value for c in FrameworkCategory]},
            "source": _STR,
            "imported_at": {"type": "string", "format": "date-time"},
            "requirements": {"type": "integer", "minimum": 0},
        }
    ),
    "Requirement": _object(
        {
            "id": _STR,
            "ref": {"type": "string", "description": "compared case-insensitively"},
            "name": {"type": "string", "description": "KEY:REF"},
            "title": _STR,
            "parent": {"type": ["string", "null"], "description": "the parent's ref"},
            "kind": _STR,
            "withdrawn": {"type": "boolean"},
        }
    ),
}
PATHS: dict[str, Any] = {
    "/frameworks": {
        "get": {
            "operationId": "list_frameworks",
            "summary": "Frameworks and regulations (signed in)",
            "responses": {
                "200": json_response(
                    "every framework",
                    _list_of("Framework"),
                    links={
                        "Requirements": link(
                            "list_framework_requirements",
                            framework_id="$response.body#/items/0/id",
                        ),
                        "Coverage": link(
                            "get_framework_coverage", framework_id="$response.body#/items/0/id"
                        ),
                    },
                ),
                **errors(401),
            },
        }
    },
    "/frameworks/{framework_id}/requirements": {
        "get": {
            "operationId": "list_framework_requirements",
            "summary": "All requirements of a framework, in document order (complete, "
            "not paginated; the largest, NIST SP 800-53, has about 1,200)",
            "parameters": [path_id("framework_id")],
            "responses": {
                "200": json_response(
                    "the requirements",
                    _list_of("Requirement"),
                    links={
                        "Coverage": link(
                            "get_framework_coverage", framework_id="$request.path.framework_id"
                        )
                    },
                ),
                **errors(401, 404),
            },
        }
    },
}
