"""OpenAPI paths and schemas of the agreements API (merged into the document in openapi.py)."""

from __future__ import annotations

from typing import Any

from artifact.agreements.services.agreements import TEXT_MAX, TITLE_MAX, TYPED_NAME_MAX
from artifact.web.openapi_parts import (
    TEXT_PATTERN_EDGE,
    errors,
    json_body,
    json_response,
    line,
    link,
    path_id,
    query,
    ref,
    text,
)

_STR = {"type": "string"}
_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_AGREEMENT_ID = path_id("agreement_id")
_ACCEPTANCE_ID = path_id("acceptance_id")
_SCOPE = {"type": "string", "enum": ["account", "organization"]}
_SCOPE_IN = {
    **_SCOPE,
    "default": "account",
    "description": "account: you alone; organization: your organisation (org admins only)",
}
_KIND = {"type": "string", "enum": ["nda", "baa", "terms"]}
_TEXT = text(TEXT_MAX, "plain text; blank lines separate paragraphs")
_VERSION = {"type": "integer", "minimum": 1}


def _listing(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "total"],
        "properties": {
            "items": {"type": "array", "items": ref(item)},
            "total": {"type": "integer", "minimum": 0},
        },
    }


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties}


# Where an agreement's id leads.
_AGREEMENT_LINKS = {
    "get": "get_agreement",
    "accept": "accept_agreement",
    "terminate": "terminate_acceptance",
    "publish": "publish_agreement_version",
}

SCHEMAS: dict[str, Any] = {
    "Acceptance": _object(
        {
            "id": _STR,
            "agreement_id": _STR,
            "version": _VERSION,
            "scope": _SCOPE,
            "typed_name": _STR,
            "accepted_at": {"type": "string", "format": "date-time"},
            "text_sha256": _SHA256,
            "user": {"type": "string", "description": "the acceptor's e-mail"},
            "organization": {"type": ["string", "null"]},
            "terminated_at": {"type": ["string", "null"], "format": "date-time"},
        }
    ),
    "Agreement": {
        "type": "object",
        "required": [
            "id",
            "title",
            "kind",
            "current_version",
            "text_sha256",
            "published_at",
            "acceptance",
            "satisfied",
        ],
        "properties": {
            "id": _STR,
            "title": _STR,
            "kind": _KIND,
            "current_version": _VERSION,
            "text_sha256": _SHA256,
            "published_at": {"type": "string", "format": "date-time"},
            "acceptance": {
                "description": "the active acceptance that covers you (perhaps of an older "
                "version), or null",
                "oneOf": [ref("Acceptance"), {"type": "null"}],
            },
            "satisfied": {
                "type": "boolean",
                "description": "an active acceptance of the current version covers you",
            },
            "text": {"type": "string", "description": "only on GET /agreements/{id}"},
        },
    },
}


def _links_from(expression: str) -> dict[str, Any]:
    return {
        name.capitalize(): link(operation, agreement_id=expression)
        for name, operation in _AGREEMENT_LINKS.items()
    }


PATHS: dict[str, Any] = {
    "/agreements": {
        "get": {
            "operationId": "list_agreements",
            "summary": "Agreements with the current version and your acceptance (signed in)",
            "responses": {
                "200": json_response(
                    "agreements",
                    _listing("Agreement"),
                    links=_links_from("$response.body#/items/0/id"),
                ),
                **errors(401),
            },
        },
        "post": {
            "operationId": "create_agreement",
            "summary": "Create an agreement with version 1 (admin)",
            "description": "409 when an agreement with this title (ignoring case) exists.",
            "requestBody": json_body(
                {"title": line(TITLE_MAX), "kind": _KIND, "text": _TEXT},
                ["title", "kind", "text"],
            ),
            "responses": {
                "201": json_response(
                    "created",
                    _object({"id": _STR, "current_version": {"type": "integer", "const": 1}}),
                    links=_links_from("$response.body#/id"),
                ),
                **errors(400, 401, 403, 409),
            },
        },
    },
    "/agreements/{agreement_id}": {
        "get": {
            "operationId": "get_agreement",
            "summary": "One agreement with the text of its current version (signed in)",
            "parameters": [_AGREEMENT_ID],
            "responses": {
                "200": json_response(
                    "the agreement",
                    {"allOf": [ref("Agreement"), {"required": ["text"]}]},
                    links=_links_from("$response.body#/id"),
                ),
                **errors(401, 404),
            },
        },
    },
    "/agreements/{agreement_id}/versions": {
        "post": {
            "operationId": "publish_agreement_version",
            "summary": "Publish a new version (admin); acceptance is needed again",
            "description": "409 when the text is the same as the current version's, or "
            "another version was published at the same moment.",
            "parameters": [_AGREEMENT_ID],
            "requestBody": json_body({"text": _TEXT}, ["text"]),
            "responses": {
                "201": json_response(
                    "published",
                    _object({"current_version": _VERSION, "text_sha256": _SHA256}),
                    links=_links_from("$request.path.agreement_id"),
                ),
                **errors(400, 401, 403, 404, 409),
            },
        },
    },
    "/agreements/{agreement_id}/accept": {
        "post": {
            "operationId": "accept_agreement",
            "summary": "Accept the current version (organization scope: org admins only)",
            "description": "409 when `version` (or `text_sha256`) is not the current one (the "
            "error then carries `current_version`), or when you already accepted it in this "
            "scope.",
            "parameters": [_AGREEMENT_ID],
            "requestBody": json_body(
                {
                    "version": {"type": "integer", "description": "the version you accept"},
                    "typed_name": line(TYPED_NAME_MAX, "your name, typed as a signature"),
                    "scope": _SCOPE_IN,
                    "text_sha256": {
                        **_SHA256,
                        "description": "optional: the hash of the text you showed; must be "
                        "the current version's",
                    },
                },
                ["version", "typed_name"],
            ),
            "responses": {
                "201": json_response(
                    "recorded",
                    _object({"acceptance_id": _STR, "text_sha256": _SHA256, "version": _VERSION}),
                    links={
                        "Certificate": link(
                            "get_acceptance_certificate",
                            acceptance_id="$response.body#/acceptance_id",
                        ),
                        "Terminate": link(
                            "terminate_acceptance", agreement_id="$request.path.agreement_id"
                        ),
                        "History": link(
                            "list_acceptances", agreement_id="$request.path.agreement_id"
                        ),
                    },
                ),
                **errors(400, 401, 403, 404, 409),
            },
        },
    },
    "/agreements/{agreement_id}/terminate": {
        "post": {
            "operationId": "terminate_acceptance",
            "summary": "Terminate your (or, as org admin, your organisation's) acceptance",
            "description": "409 when there is no active acceptance in that scope.",
            "parameters": [_AGREEMENT_ID],
            "requestBody": json_body(
                {
                    "scope": _SCOPE_IN,
                    "reason": {
                        "type": "string",
                        "pattern": TEXT_PATTERN_EDGE,
                        "description": "kept with white space collapsed, up to 500 characters",
                    },
                },
            ),
            "responses": {
                "200": json_response(
                    "terminated",
                    _object(
                        {
                            "terminated": {
                                "type": "array",
                                "items": _object(
                                    {
                                        "acceptance_id": _STR,
                                        "effective_at": {"type": "string", "format": "date-time"},
                                    }
                                ),
                            }
                        }
                    ),
                ),
                **errors(400, 401, 403, 404, 409),
            },
        },
    },
    "/acceptances": {
        "get": {
            "operationId": "list_acceptances",
            "summary": "Your and your organisation's acceptances (history, newest first)",
            "parameters": [query("agreement_id", _STR, "only this agreement's")],
            "responses": {
                "200": json_response(
                    "history",
                    _listing("Acceptance"),
                    links={
                        "Certificate": link(
                            "get_acceptance_certificate", acceptance_id="$response.body#/items/0/id"
                        )
                    },
                ),
                **errors(401),
            },
        },
    },
    "/acceptances/{acceptance_id}/certificate": {
        "get": {
            "operationId": "get_acceptance_certificate",
            "summary": "The acceptance certificate PDF (acceptor and staff)",
            "parameters": [_ACCEPTANCE_ID],
            "responses": {
                "200": {
                    "description": "the certificate",
                    "content": {
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}}
                    },
                },
                **errors(401, 404),
            },
        },
    },
}
