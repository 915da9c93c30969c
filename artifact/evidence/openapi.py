"""Evidence and coverage in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from artifact.web.openapi_parts import errors, ok

_STR = {"type": "string"}
_DATE = {"type": ["string", "null"], "format": "date"}
_ID = [{"name": "evidence_id", "in": "path", "required": True, "schema": _STR}]
_HIDDEN = "Staff only; to anyone else signed in every evidence route answers 404."
_STATES = ["draft", "in_review", "approved", "expired"]


def _multipart(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "properties": properties, "required": required}
            }
        },
    }


_FILE = {
    "type": "string",
    "format": "binary",
    "description": "PDF, PNG, JPEG, CSV, XLSX, DOCX or UTF-8 text; the content decides "
    "(415 other types, 422 damaged or hostile files, 413 too large)",
}
_REQUIREMENTS = {
    "type": "array",
    "items": _STR,
    "description": "requirement names framework:ref (repeat the field, or one "
    "value separated by commas or new lines)",
}

SCHEMAS: dict[str, Any] = {
    "Evidence": {
        "type": "object",
        "properties": {
            "id": _STR,
            "title": _STR,
            "description": _STR,
            "state": {
                "type": "string",
                "enum": _STATES,
                "description": "expired is computed: the expiry date has passed",
            },
            "owner": _STR,
            "effective_date": _DATE,
            "expires_on": _DATE,
            "current_version": {"type": ["integer", "null"]},
            "requirements": {"type": "array", "items": _STR},
            "approved": {
                "type": ["object", "null"],
                "properties": {
                    "version": {"type": "integer"},
                    "by": _STR,
                    "at": {"type": "string", "format": "date-time"},
                },
            },
            "versions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "number": {"type": "integer"},
                        "sha256": _STR,
                        "size": {"type": "integer"},
                        "type": _STR,
                        "content_type": _STR,
                        "filename": _STR,
                        "effective_date": _DATE,
                        "expires_on": _DATE,
                        "created_at": {"type": "string", "format": "date-time"},
                        "uploaded_by": {"type": ["string", "null"]},
                    },
                },
            },
        },
    },
    "EvidenceList": {
        "type": "object",
        "required": ["items", "total"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Evidence"}},
            "total": {"type": "integer"},
        },
    },
    "Coverage": {
        "type": "object",
        "properties": {
            "framework": {"type": "object", "properties": {"id": _STR, "key": _STR, "title": _STR}},
            "reports": {
                "type": "array",
                "description": "current reports (visible to the caller) "
                "that cover the whole framework",
                "items": {"type": "object", "properties": {"id": _STR, "title": _STR}},
            },
            "summary": {
                "type": "object",
                "description": "staff only: assessable requirements per freshness status",
                "properties": {
                    s: {"type": "integer"} for s in ("covered", "expiring", "stale", "missing")
                },
            },
            "total": {"type": "integer"},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "requirement_id": _STR,
                        "ref": _STR,
                        "name": _STR,
                        "title": _STR,
                        "assessable": {"type": "boolean"},
                        "status": {
                            "type": "string",
                            "enum": ["covered", "expiring", "stale", "missing"],
                            "description": "staff only",
                        },
                        "reports": {
                            "type": "array",
                            "description": "reports inferred through a "
                            "crosswalk mapping (via, relationship, origin)",
                            "items": {"type": "object"},
                        },
                        "evidence": {
                            "type": "array",
                            "description": "staff only: linked evidence, direct "
                            "or inferred (via, relationship, origin); counts says whether it is "
                            "current approved evidence",
                            "items": {"type": "object"},
                        },
                    },
                },
            },
        },
    },
}

_STATE_STEP = {
    "parameters": _ID,
    "responses": {
        **ok(200, "the evidence in its new state", "Evidence"),
        **errors(401, 403, 404, 409),
    },
}

PATHS: dict[str, Any] = {
    "/evidence": {
        "get": {
            "summary": "Evidence (staff)",
            "description": _HIDDEN,
            "parameters": [
                {"name": "state", "in": "query", "schema": {"type": "string", "enum": _STATES}},
                {
                    "name": "framework",
                    "in": "query",
                    "schema": _STR,
                    "description": "framework key",
                },
                {"name": "owner", "in": "query", "schema": _STR, "description": "e-mail"},
            ],
            "responses": {**ok(200, "evidence", "EvidenceList"), **errors(401, 404)},
        },
        "post": {
            "summary": "Upload evidence (staff); it starts as a draft",
            "description": _HIDDEN,
            "requestBody": _multipart(
                {
                    "file": _FILE,
                    "title": _STR,
                    "description": _STR,
                    "owner": {
                        "type": "string",
                        "description": "a staff e-mail; the caller if absent",
                    },
                    "effective_date": {
                        "type": "string",
                        "format": "date",
                        "description": "when it was collected",
                    },
                    "expires_on": {"type": "string", "format": "date"},
                    "requirements": _REQUIREMENTS,
                },
                ["file", "title", "effective_date"],
            ),
            "responses": {**ok(201, "created", "Evidence"), **errors(400, 401, 404, 413, 415, 422)},
        },
    },
    "/evidence/{evidence_id}": {
        "get": {
            "summary": "One evidence item with its versions",
            "description": _HIDDEN,
            "parameters": _ID,
            "responses": {**ok(200, "the evidence", "Evidence"), **errors(401, 404)},
        }
    },
    "/evidence/{evidence_id}/versions": {
        "post": {
            "summary": "Upload a new version (a new file); the evidence returns to draft",
            "description": _HIDDEN,
            "parameters": _ID,
            "requestBody": _multipart(
                {
                    "file": _FILE,
                    "effective_date": {"type": "string", "format": "date"},
                    "expires_on": {"type": "string", "format": "date"},
                },
                ["file"],
            ),
            "responses": {
                "201": {"description": "number, sha256, size, type, filename"},
                **errors(400, 401, 404, 409, 413, 415, 422),
            },
        }
    },
    "/evidence/{evidence_id}/requirements": {
        "post": {
            "summary": "Replace the linked requirements",
            "description": _HIDDEN,
            "parameters": _ID,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["requirements"],
                            "properties": {"requirements": _REQUIREMENTS},
                        }
                    }
                },
            },
            "responses": {**ok(200, "the evidence", "Evidence"), **errors(400, 401, 404)},
        }
    },
    "/evidence/{evidence_id}/submit": {"post": {"summary": "Draft -> in review", **_STATE_STEP}},
    "/evidence/{evidence_id}/approve": {
        "post": {
            "summary": "In review -> approved, by a staff member other than the uploader of the "
            'current version (403 otherwise); optional JSON {"note"}',
            **_STATE_STEP,
        }
    },
    "/evidence/{evidence_id}/send-back": {
        "post": {"summary": "In review or approved -> draft", **_STATE_STEP}
    },
    "/evidence/{evidence_id}/download": {
        "get": {
            "summary": "The current (or ?version=N) file, checked against its SHA-256",
            "description": _HIDDEN + " Served as an attachment with nosniff and a sandbox CSP.",
            "parameters": [*_ID, {"name": "version", "in": "query", "schema": {"type": "integer"}}],
            "responses": {
                "200": {"description": "the file; header X-Artifact-SHA256"},
                **errors(401, 404, 500),
            },
        }
    },
    "/frameworks/{framework_id}/coverage": {
        "get": {
            "summary": "Coverage per requirement (signed in): reports the caller may see; for "
            "staff also evidence (direct or inferred) and freshness",
            "parameters": [
                {"name": "framework_id", "in": "path", "required": True, "schema": _STR}
            ],
            "responses": {**ok(200, "coverage", "Coverage"), **errors(401, 404)},
        }
    },
}
