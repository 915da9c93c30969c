"""Download analytics' part of the OpenAPI document."""

from __future__ import annotations

from typing import Any

from artifact.analytics.services import GROUPS
from artifact.web.openapi_parts import errors, json_response, query

_DAY = {
    "type": "string",
    "pattern": r"^(\d{4}-\d{2}-\d{2})?$",
    "description": "a day, YYYY-MM-DD (UTC); the range includes both days; absent or empty: "
    "no bound. A day the calendar lacks, or 'from' after 'to': 400",
}
_COUNT = {"type": "integer", "minimum": 0}

SCHEMAS: dict[str, Any] = {
    "AnalyticsRow": {
        "type": "object",
        "required": ["key", "label", "downloads", "acceptances"],
        "properties": {
            "key": {
                "type": "string",
                "description": "report: the report id; organization: the organisation id, "
                "`none` (visitors and accounts without one) or `name:NAME` (a name on older "
                "receipts that no organisation has now); week: the ISO week, e.g. `2026-W49`",
            },
            "label": {
                "type": "string",
                "description": "the report title, organisation name "
                "or `Week of YYYY-MM-DD` (its Monday)",
            },
            "downloads": {**_COUNT, "description": "copies handed out (download receipts)"},
            "acceptances": {
                **_COUNT,
                "description": "acceptance records; by report, those of the agreement its "
                "downloads need",
            },
        },
    },
}
PATHS: dict[str, Any] = {
    "/analytics/downloads": {
        "get": {
            "operationId": "analytics_downloads",
            "summary": "Downloads and acceptances by report, organisation or week (staff)",
            "description": "Reports and organisations come most downloaded first and list only "
            "those with a download or an acceptance in the range; weeks come in order, every "
            "week of the range included. Bad dates, `from` after `to` or an unknown group: 400.",
            "parameters": [
                query("from", _DAY, "first day"),
                query("to", _DAY, "last day"),
                query(
                    "group",
                    {"type": "string", "enum": list(GROUPS), "default": "report"},
                    "what to count by",
                ),
            ],
            "responses": {
                "200": json_response(
                    "the counts",
                    {
                        "type": "object",
                        "required": ["items", "total"],
                        "properties": {
                            "items": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/AnalyticsRow"},
                            },
                            "total": _COUNT,
                        },
                    },
                ),
                **errors(400, 401, 403),
            },
        }
    },
}
