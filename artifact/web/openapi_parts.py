"""Building blocks shared by the parts of the OpenAPI document."""

from __future__ import annotations

from typing import Any

ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def errors(*statuses: int) -> dict[str, Any]:
    """Responses for ``statuses``, each with the common ``{"error": {...}}`` body."""
    return {str(status): {"description": "error", "content": ERROR_CONTENT} for status in statuses}


def ok(status: int, description: str, schema: str | None = None) -> dict[str, Any]:
    """A success response, with a JSON body of the named component schema if given."""
    body: dict[str, Any] = {"description": description}
    if schema:
        body["content"] = {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
        }
    return {str(status): body}
