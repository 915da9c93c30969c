"""The audit trail's part of the OpenAPI document."""

from __future__ import annotations

from typing import Any

from artifact.audit.services.trail import MAX_OFFSET, MAX_PAGE
from artifact.web.openapi_parts import TEXT_PATTERN_EDGE, errors, json_response, query, ref

_STR = {"type": "string"}
_OR_NULL = {"type": ["string", "null"]}
_FILTER = {"type": "string", "pattern": TEXT_PATTERN_EDGE}
_MOMENT = {
    "type": "string",
    "anyOf": [{"format": "date"}, {"format": "date-time"}, {"maxLength": 0}],
    "description": "an ISO 8601 date or date and time (UTC if no offset is given); empty: no bound",
}

SCHEMAS: dict[str, Any] = {
    "AuditEvent": {
        "type": "object",
        "required": [
            "seq",
            "occurred_at",
            "actor_id",
            "actor_email",
            "ip_address",
            "session_ref",
            "action",
            "target_type",
            "target_id",
            "outcome",
            "details",
            "prev_hash",
            "hash",
        ],
        "properties": {
            "seq": {"type": "integer", "minimum": 1},
            "occurred_at": {"type": "string", "format": "date-time"},
            "actor_id": _OR_NULL,
            "actor_email": _OR_NULL,
            "ip_address": _OR_NULL,
            "session_ref": _OR_NULL,
            "action": _STR,
            "target_type": _OR_NULL,
            "target_id": _OR_NULL,
            "outcome": {"type": "string", "description": "success, failure or denied"},
            "details": {"type": "string", "description": "a JSON object, as hashed"},
            "prev_hash": _STR,
            "hash": _STR,
        },
    },
}
PATHS: dict[str, Any] = {
    "/audit/events": {
        "get": {
            "operationId": "list_audit_events",
            "summary": "The audit trail, newest first (admin)",
            "parameters": [
                query("actor", _FILTER, "a user id or e-mail"),
                query("action", _FILTER, "an action, or a prefix ending before a dot"),
                query("target", _FILTER, "a target id or type"),
                query("outcome", _FILTER, "success, failure or denied"),
                query("since", _MOMENT, "events at or after"),
                query("until", _MOMENT, "events before"),
                query(
                    "limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 100}
                ),
                query(
                    "offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}
                ),
            ],
            "responses": {
                "200": json_response(
                    "events",
                    {
                        "type": "object",
                        "required": ["items", "total"],
                        "properties": {
                            "items": {"type": "array", "items": ref("AuditEvent")},
                            "total": {"type": "integer", "minimum": 0},
                        },
                    },
                ),
                **errors(400, 401, 403),
            },
        }
    },
    "/audit/verify": {
        "get": {
            "operationId": "verify_audit_trail",
            "summary": "Verify the hash chain and the signed checkpoints, and compare them with "
            "the witness kept outside the database (admin)",
            "responses": {
                "200": json_response(
                    "the verdict",
                    {
                        "type": "object",
                        "required": ["ok", "events", "checkpoints", "first_bad_seq", "message"],
                        "properties": {
                            "ok": {"type": "boolean"},
                            "events": {"type": "integer", "minimum": 0},
                            "checkpoints": {"type": "integer", "minimum": 0},
                            "first_bad_seq": {"type": ["integer", "null"]},
                            "message": _STR,
                        },
                    },
                ),
                **errors(401, 403),
            },
        }
    },
}
