"""Search's part of the OpenAPI document."""

from __future__ import annotations

from typing import Any

from artifact.search.kinds import KINDS
from artifact.web.openapi_parts import ERROR_CONTENT

_STR = {"type": "string"}
_COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}


def _param(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or _STR,
    }


SCHEMAS: dict[str, Any] = {
    "SearchHit": {
        "type": "object",
        "required": ["type", "id", "title", "snippet"],
        "properties": {
            "type": {"type": "string", "enum": list(KINDS)},
            "id": _STR,
            "title": _STR,
            "snippet": {
                "type": "string",
                "description": "HTML: escaped text with the matched words in <mark>",
            },
            "page": {
                "type": "integer",
                "description": "the page of the file the snippet comes from (file hits only; "
                "only for callers who may download the file now)",
            },
        },
    },
    "SearchResults": {
        "type": "object",
        "required": ["total", "hits", "facets"],
        "properties": {
            "total": {"type": "integer", "description": "matching entries the caller may see"},
            "page": {"type": "integer"},
            "hits": {"type": "array", "items": {"$ref": "#/components/schemas/SearchHit"}},
            "facets": {
                "type": "object",
                "properties": {
                    name: _COUNTS for name in ("type", "category", "series", "framework", "year")
                },
            },
        },
    },
}
PATHS: dict[str, Any] = {
    "/search": {
        "get": {
            "summary": "Full-text search over what the caller may see (anyone)",
            "description": 'Words (all must match), "phrases", prefix*, -word, and the filters '
            "category:, series:, framework:, type:, year: inside q or as "
            "parameters. Ten hits a page.",
            "parameters": [
                _param("q", "the query (at most 500 characters)"),
                _param("category", "facet filter"),
                _param("series", "facet filter"),
                _param("framework", "facet filter"),
                _param("type", "facet filter"),
                _param("year", "facet filter"),
                _param("page", "1 to 100", {"type": "integer", "minimum": 1, "maximum": 100}),
            ],
            "responses": {
                "200": {
                    "description": "the hits and facet counts",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/SearchResults"}
                        }
                    },
                },
                "400": {
                    "description": "a query we cannot read (the message says why)",
                    "content": ERROR_CONTENT,
                },
            },
        }
    },
}
