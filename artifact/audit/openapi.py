"""The audit trail's part of the OpenAPI document."""

from __future__ import annotations

from typing import Any

from artifact.web.openapi_parts import errors

SCHEMAS: dict[str, Any] = {}
PATHS: dict[str, Any] = {
    "/audit/events": {
        "get": {
            "summary": "The audit trail, newest first (admin)",
            "parameters": [
                {
                    "name": name,
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer" if name in ("limit", "offset") else "string"},
                }
                for name in (
                    "actor",
                    "action",
                    "target",
                    "outcome",
                    "since",
                    "until",
                    "limit",
                    "offset",
                )
            ],
            "responses": {
                "200": {
                    "description": '{"items": [event...], "total": N}; each event has '
                    "seq, occurred_at, actor_id, actor_email, ip_address, session_ref, "
                    "action, target_type, target_id, outcome, details, prev_hash, hash"
                },
                **errors(400, 401, 403),
            },
        }
    },
    "/audit/verify": {
        "get": {
            "summary": "Verify the hash chain and the signed checkpoints (admin)",
            "responses": {
                "200": {
                    "description": "the verdict",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "ok": {"type": "boolean"},
                                    "events": {"type": "integer"},
                                    "checkpoints": {"type": "integer"},
                                    "first_bad_seq": {"type": ["integer", "null"]},
                                    "message": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                **errors(401, 403),
            },
        }
    },
}
