"""OpenAPI paths of the request-list CSV operations (merged into the document like every
feature's part)."""

from __future__ import annotations

from typing import Any

from artifact.engagements.services.csv_io import COLUMNS, MAX_BYTES, MAX_ROWS
from artifact.web.openapi_parts import ERROR_CONTENT, errors, json_response, path_id, ref

_ENGAGEMENT_ID = path_id("engagement_id")
_COLUMNS = ", ".join(COLUMNS)
_CSV_DESCRIPTION = (
    f"UTF-8 CSV (a byte-order mark is fine; comma, semicolon or tab separated) with a header "
    f"row naming any of: {_COLUMNS}. `title` is required; `ref` is `PBC-N`; `requirements` are "
    "requirement names in the engagement's scope (`KEY:REF`, or `REF` when the scope is one "
    "framework) separated by `;`; `due_on` is YYYY-MM-DD; `sample_size` a whole number from 1. "
    "`status`, `owner` and `evidence` (what the company answered) are read and ignored, so an "
    f"exported list imports as it is. At most {MAX_ROWS} rows and {MAX_BYTES // 1024} kB."
)
SCHEMAS: dict[str, Any] = {}
PATHS: dict[str, Any] = {
    "/engagements/{engagement_id}/requests.csv": {
        "get": {
            "operationId": "export_engagement_requests_csv",
            "summary": "The request list as CSV (the engagement's auditors, staff)",
            "description": f"Columns: {_COLUMNS}. Every cell is quoted; a cell that a "
            "spreadsheet would read as a formula starts with an apostrophe. Recorded in the "
            "audit trail.",
            "parameters": [_ENGAGEMENT_ID],
            "responses": {
                "200": {
                    "description": "the CSV file (an attachment)",
                    "content": {"text/csv": {"schema": {"type": "string"}}},
                },
                **errors(401, 404),
            },
        },
    },
    "/engagements/{engagement_id}/requests/import": {
        "post": {
            "operationId": "import_engagement_requests_csv",
            "summary": "Add requests from a CSV file (the engagement's auditors, staff)",
            "description": "Every row is checked; when any row is wrong nothing is stored and "
            "the 400 names each bad line. A row whose `ref` is already on this engagement's "
            "list is left as it is (listed in `unchanged`); every other row becomes a new open "
            "request.",
            "parameters": [_ENGAGEMENT_ID],
            "requestBody": {
                "required": True,
                "content": {
                    "text/csv": {"schema": {"type": "string", "description": _CSV_DESCRIPTION}}
                },
            },
            "responses": {
                "201": json_response(
                    "the requests added",
                    {
                        "type": "object",
                        "required": ["items", "total", "unchanged"],
                        "properties": {
                            "items": {"type": "array", "items": ref("EngagementRequestSummary")},
                            "total": {"type": "integer", "minimum": 0},
                            "unchanged": {
                                "type": "array",
                                "items": {"type": "string", "pattern": "^PBC-[0-9]+$"},
                                "description": "refs already on the list, left as they are",
                            },
                        },
                    },
                ),
                **errors(400, 401, 403, 404, 409, 413),
                "415": {"description": "the body is not text/csv", "content": ERROR_CONTENT},
            },
        },
    },
}
