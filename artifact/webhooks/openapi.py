"""OpenAPI paths and schemas of the webhooks API (merged into the document in openapi.py)."""

from __future__ import annotations

from typing import Any

from artifact.infra.webhook_http import URL_MAX
from artifact.web.openapi_parts import errors, json_body, json_response, link, path_id, ref
from artifact.webhooks.services.events import EVENT_TYPES

_STR = {"type": "string"}
_WHEN = {"type": "string", "format": "date-time"}
_MAYBE_WHEN = {"type": ["string", "null"], "format": "date-time"}
_EVENT = {"type": "string", "enum": list(EVENT_TYPES)}
_EVENTS = {"type": "array", "items": _EVENT, "minItems": 1}
_ENDPOINT_ID = path_id("endpoint_id")


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties}


_ENDPOINT = {
    "id": _STR,
    "url": _STR,
    "events": _EVENTS,
    "enabled": {
        "type": "boolean",
        "description": "false once disabled after repeated failures (the admins were mailed)",
    },
    "consecutive_failures": {"type": "integer", "minimum": 0},
    "disabled_at": _MAYBE_WHEN,
    "disabled_reason": {"type": ["string", "null"]},
    "created_at": _WHEN,
}
_TRY = _object(
    {
        "number": {"type": "integer", "minimum": 1},
        "started_at": _WHEN,
        "duration_ms": {"type": "integer", "minimum": 0},
        "succeeded": {"type": "boolean", "description": "the receiver answered 2xx"},
        "response_code": {
            "type": ["integer", "null"],
            "description": "the receiver's HTTP status; null when no answer came",
        },
        "error": {"type": ["string", "null"]},
    }
)
SCHEMAS: dict[str, Any] = {
    "WebhookEndpoint": _object(_ENDPOINT),
    "WebhookDelivery": _object(
        {
            "id": _STR,
            "event_id": _STR,
            "event_type": _EVENT,
            "status": {"type": "string", "enum": ["pending", "succeeded", "failed", "cancelled"]},
            "attempts": {"type": "integer", "minimum": 0},
            "next_attempt_at": _MAYBE_WHEN,
            "created_at": _WHEN,
            "completed_at": _MAYBE_WHEN,
            "tries": {"type": "array", "items": _TRY},
        }
    ),
}
_LINKS = {
    "Deliveries": link("list_webhook_deliveries", endpoint_id="$response.body#/id"),
    "Enable": link("enable_webhook", endpoint_id="$response.body#/id"),
    "Delete": link("delete_webhook", endpoint_id="$response.body#/id"),
}
_URL_DESCRIPTION = (
    "https:// (http:// only to 127.0.0.1, ::1 or localhost, and not in production); no user "
    "name or password; in production it must resolve to public addresses only"
)

PATHS: dict[str, Any] = {
    "/webhooks": {
        "get": {
            "operationId": "list_webhooks",
            "summary": "Registered webhook endpoints (admin; secrets are never shown again)",
            "responses": {
                "200": json_response(
                    "endpoints",
                    _object(
                        {
                            "items": {"type": "array", "items": ref("WebhookEndpoint")},
                            "total": {"type": "integer", "minimum": 0},
                        }
                    ),
                ),
                **errors(401, 403),
            },
        },
        "post": {
            "operationId": "create_webhook",
            "summary": "Register a webhook endpoint (admin)",
            "description": "Deliveries are signed as the Standard Webhooks specification says: "
            "headers `webhook-id`, `webhook-timestamp` and `webhook-signature` "
            "(`v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`, keyed with the "
            'base64-decoded part of the secret). The body is `{"type", "timestamp", '
            '"data"}`; data holds ids, titles and states only.',
            "requestBody": json_body(
                {
                    "url": {
                        "type": "string",
                        "maxLength": URL_MAX,
                        "description": _URL_DESCRIPTION,
                    },
                    "events": _EVENTS,
                },
                ["url", "events"],
            ),
            "responses": {
                "201": json_response(
                    "registered; `secret` is shown this once",
                    _object(
                        {
                            **_ENDPOINT,
                            "secret": {
                                "type": "string",
                                "pattern": "^whsec_[A-Za-z0-9+/]+=*$",
                                "description": "whsec_ + base64 of the 32-byte signing key",
                            },
                        }
                    ),
                    links=_LINKS,
                ),
                **errors(400, 401, 403),
            },
        },
    },
    "/webhooks/{endpoint_id}": {
        "delete": {
            "operationId": "delete_webhook",
            "summary": "Delete a webhook endpoint (admin); its queued deliveries are cancelled",
            "parameters": [_ENDPOINT_ID],
            "responses": {"204": {"description": "deleted"}, **errors(401, 403, 404)},
        },
    },
    "/webhooks/{endpoint_id}/enable": {
        "post": {
            "operationId": "enable_webhook",
            "summary": "Deliver again to an endpoint that failures disabled (admin); its failure "
            "count starts at zero, and events of the disabled time are not sent",
            "parameters": [_ENDPOINT_ID],
            "responses": {
                "200": json_response("enabled", ref("WebhookEndpoint")),
                **errors(401, 403, 404),
            },
        },
    },
    "/webhooks/{endpoint_id}/deliveries": {
        "get": {
            "operationId": "list_webhook_deliveries",
            "summary": "An endpoint's delivery log, newest first, each try with its status "
            "code and duration (admin; at most 200)",
            "parameters": [_ENDPOINT_ID],
            "responses": {
                "200": json_response(
                    "deliveries",
                    _object(
                        {
                            "items": {"type": "array", "items": ref("WebhookDelivery")},
                            "total": {"type": "integer", "minimum": 0},
                        }
                    ),
                ),
                **errors(401, 403, 404),
            },
        },
    },
}
