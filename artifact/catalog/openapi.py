"""The catalog's part of the OpenAPI document."""

from __future__ import annotations

from typing import Any

from artifact.web.openapi_parts import errors, ok


def _json_body(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_STR = {"type": "string"}
_ID = [{"name": "report_id", "in": "path", "required": True, "schema": _STR}]
_REQ_ID = [{"name": "request_id", "in": "path", "required": True, "schema": _STR}]
_SCOPE = {
    "report_id": _STR,
    "series": _STR,
    "category": {
        "type": "string",
        "enum": ["certifications", "reports", "regulations", "agreements"],
    },
}

SCHEMAS: dict[str, Any] = {
    "Report": {
        "type": "object",
        "properties": {
            "id": _STR,
            "title": _STR,
            "category": _STR,
            "series": _STR,
            "issuer": _STR,
            "product": _STR,
            "frameworks": {"type": "array", "items": _STR},
            "period_start": {"type": ["string", "null"], "format": "date"},
            "period_end": {"type": ["string", "null"], "format": "date"},
            "description": _STR,
            "state": {"type": "string", "enum": ["draft", "published", "outdated", "retired"]},
            "visibility": {"type": "string", "enum": ["public", "customers", "restricted"]},
            "terms_agreement_id": {
                "type": ["string", "null"],
                "description": "agreement to accept before downloading",
            },
            "needs_terms": {
                "type": "boolean",
                "description": "the caller must accept terms_agreement_id first",
            },
            "versions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "number": {"type": "integer"},
                        "sha256": _STR,
                        "size": {"type": "integer"},
                        "created_at": {"type": "string", "format": "date-time"},
                    },
                },
            },
        },
    },
    "ReportList": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Report"}},
            "total": {"type": "integer"},
        },
    },
    "Grant": {
        "type": "object",
        "properties": {
            **_SCOPE,
            "user": _STR,
            "organization": _STR,
            "id": _STR,
            "expires_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "AccessRequest": {
        "type": "object",
        "properties": {
            **_SCOPE,
            "id": _STR,
            "user": _STR,
            "state": {"type": "string", "enum": ["pending", "approved", "denied"]},
            "expires_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
}

PATHS: dict[str, Any] = {
    "/reports": {
        "get": {
            "summary": "Reports visible to the caller",
            "security": [],
            "parameters": [
                {"name": n, "in": "query", "schema": _STR}
                for n in ("category", "series", "framework", "q")
            ],
            "responses": ok(200, "visible reports", "ReportList"),
        },
        "post": {
            "summary": "Create a report (staff); it starts as a restricted draft",
            "requestBody": _json_body(
                {
                    "title": _STR,
                    **{k: _SCOPE[k] for k in ("category",)},
                    "series": _STR,
                    "issuer": _STR,
                    "product": _STR,
                    "visibility": {"type": "string", "enum": ["public", "customers", "restricted"]},
                    "frameworks": {"type": "array", "items": _STR},
                    "period_start": {"type": "string", "format": "date"},
                    "period_end": {"type": "string", "format": "date"},
                    "terms_agreement_id": _STR,
                    "description": _STR,
                },
                ["title", "category"],
            ),
            "responses": {**ok(201, "created", "Report"), **errors(400, 401, 403)},
        },
    },
    "/reports/{report_id}": {
        "get": {
            "summary": "One report and its versions",
            "security": [],
            "parameters": _ID,
            "responses": {**ok(200, "the report", "Report"), **errors(404)},
        }
    },
    "/reports/{report_id}/versions": {
        "post": {
            "summary": "Upload the next version (multipart `file`, a PDF)",
            "parameters": _ID,
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        }
                    }
                },
            },
            "responses": {
                "201": {"description": "stored: number, sha256, size"},
                **errors(400, 401, 403, 404, 409, 413, 415, 422),
            },
        }
    },
    "/reports/{report_id}/state": {
        "post": {
            "summary": "Publish, mark outdated, retire, or return to draft (staff)",
            "parameters": _ID,
            "requestBody": _json_body(
                {
                    "state": {
                        "type": "string",
                        "enum": ["draft", "published", "outdated", "retired"],
                    }
                },
                ["state"],
            ),
            "responses": {**ok(200, "the report", "Report"), **errors(400, 401, 403, 404)},
        }
    },
    "/reports/{report_id}/terms": {
        "post": {
            "summary": "Require acceptance of an agreement before downloads, or null for none "
            "(staff)",
            "parameters": _ID,
            "requestBody": _json_body({"terms_agreement_id": {"type": ["string", "null"]}}, []),
            "responses": {**ok(200, "the report", "Report"), **errors(400, 401, 403, 404)},
        }
    },
    "/reports/{report_id}/download": {
        "get": {
            "summary": "A stamped copy of the latest version (`?version=N` for another)",
            "security": [],
            "parameters": [*_ID, {"name": "version", "in": "query", "schema": {"type": "integer"}}],
            "responses": {
                "200": {
                    "description": "the PDF with a cover page and a watermark on "
                    "every page; header X-Artifact-Receipt",
                    "content": {"application/pdf": {}},
                },
                **errors(404, 428, 500),
            },
        }
    },
    "/grants": {
        "post": {
            "summary": "Grant a user or organisation a report, series or category (staff)",
            "requestBody": _json_body(
                {
                    **_SCOPE,
                    "user": _STR,
                    "organization": _STR,
                    "expires_at": {"type": "string", "format": "date-time"},
                }
            ),
            "responses": {**ok(201, "the grant", "Grant"), **errors(400, 401, 403, 404)},
        }
    },
    "/access-requests": {
        "get": {
            "summary": "Pending access requests (staff)",
            "responses": {"200": {"description": "{items, total}"}, **errors(401, 403)},
        },
        "post": {
            "summary": "Request access to a report, series or category",
            "requestBody": _json_body({**_SCOPE, "message": _STR}),
            "responses": {**ok(201, "the request", "AccessRequest"), **errors(400, 401, 404)},
        },
    },
    "/access-requests/{request_id}/approve": {
        "post": {
            "summary": "Approve (staff), optionally with `expires_at`",
            "parameters": _REQ_ID,
            "responses": {**ok(200, "decided", "AccessRequest"), **errors(401, 403, 404, 409)},
        }
    },
    "/access-requests/{request_id}/deny": {
        "post": {
            "summary": "Deny (staff)",
            "parameters": _REQ_ID,
            "responses": {**ok(200, "decided", "AccessRequest"), **errors(401, 403, 404, 409)},
        }
    },
}
