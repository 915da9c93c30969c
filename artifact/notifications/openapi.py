"""OpenAPI paths and schemas of subscriptions and the job queue's state."""

from __future__ import annotations

from typing import Any

from artifact.notifications.services.subscriptions import MAX_ITEMS, MUTABLE
from artifact.web.openapi_parts import errors, json_body, ok

_STR = {"type": "string"}
_NULL_STR = {"type": ["string", "null"]}
_TIME = {"type": "string", "format": "date-time"}
_NULL_TIME = {"type": ["string", "null"], "format": "date-time"}
_SLUGS = {
    "type": "array",
    "maxItems": MAX_ITEMS,
    "items": {
        "type": "string",
        "minLength": 1,
        "maxLength": 80,
        "pattern": r"^[^\x00]*\S[^\x00]*$",
    },
}
_MUTED = {
    "type": "array",
    "items": {"type": "string", "enum": list(MUTABLE)},
    "description": "notification kinds turned off (what a mail's unsubscribe link adds)",
}
_SUBSCRIPTION_FIELDS = {
    "all_reports": {"type": "boolean", "description": "every new report and version you may see"},
    "series": {**_SLUGS, "description": "series slugs (GET /series); unknown ones are a 400"},
    "categories": {**_SLUGS, "description": "category slugs (GET /categories)"},
    "muted": _MUTED,
}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties}


_JOB = _object(
    {
        "id": _STR,
        "name": _STR,
        "args": {"type": "array", "items": _STR},
        "retries_left": {"type": "integer", "minimum": 0},
        "eta": _NULL_TIME,
    }
)

SCHEMAS: dict[str, Any] = {
    "Subscriptions": _object(_SUBSCRIPTION_FIELDS),
    "QueueState": _object(
        {
            "backend": {"type": "string", "description": "SqliteHuey or RedisHuey"},
            "reachable": {"type": "boolean"},
            "error": _NULL_STR,
            "queued": {"type": "array", "items": _JOB},
            "scheduled": {
                "type": "array",
                "items": _JOB,
                "description": "jobs waiting for a retry (exponential backoff) or a later time",
            },
            "outbox": _object(
                {
                    "unprocessed_total": {"type": "integer", "minimum": 0},
                    "processed_total": {"type": "integer", "minimum": 0},
                    "unprocessed": {
                        "type": "array",
                        "items": _object(
                            {
                                "id": _STR,
                                "type": _STR,
                                "created_at": _TIME,
                                "attempts": {"type": "integer", "minimum": 0},
                                "next_attempt_at": _NULL_TIME,
                                "last_error": _NULL_STR,
                            }
                        ),
                    },
                }
            ),
            "sends": _object(
                {
                    "sent": {"type": "integer", "minimum": 0},
                    "failed": {"type": "integer", "minimum": 0},
                    "sending": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "claimed by a worker that stopped while sending: never "
                        "sent again",
                    },
                }
            ),
            "failed_sends": {
                "type": "array",
                "items": _object(
                    {
                        "event_id": _STR,
                        "recipient": _STR,
                        "kind": _STR,
                        "status": {"type": "string", "enum": ["failed", "sending"]},
                        "at": _TIME,
                        "attempts": {"type": "integer", "minimum": 1},
                        "error": _NULL_STR,
                    }
                ),
            },
        }
    ),
}

PATHS: dict[str, Any] = {
    "/subscriptions": {
        "get": {
            "operationId": "get_subscriptions",
            "summary": "Your subscriptions: new reports and versions (all, or of some series and "
            "categories) and the notification kinds you turned off",
            "responses": {**ok(200, "the subscriptions", "Subscriptions"), **errors(401, 403)},
        },
        "put": {
            "operationId": "put_subscriptions",
            "summary": "Replace your subscriptions. Only reports you may see when a mail is "
            "built are ever mailed; omitted lists are empty, an omitted `muted` is kept",
            "requestBody": json_body(_SUBSCRIPTION_FIELDS),
            "responses": {
                **ok(200, "the subscriptions as stored (slugs)", "Subscriptions"),
                **errors(400, 401, 403),
            },
        },
    },
    "/queue": {
        "get": {
            "operationId": "get_queue_state",
            "summary": "The job queue (admins): queued and scheduled jobs, outbox events not "
            "processed yet with their last error, failed sends",
            "responses": {**ok(200, "the state", "QueueState"), **errors(401, 403)},
        }
    },
}
