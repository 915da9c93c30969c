"""Evidence and coverage in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from artifact.evidence.services.coverage import STATUSES
from artifact.evidence.services.filetypes import TYPES
from artifact.evidence.services.records import (
    DESCRIPTION_MAX,
    MAX_LINKS,
    NOTE_MAX,
    TITLE_MAX,
)
from artifact.models.evidence import EvidenceState
from artifact.web.openapi_parts import (
    LINE_PATTERN,
    MULTILINE_PATTERN,
    UPLOAD_ERRORS,
    errors,
    json_body,
    json_response,
    link,
    ok,
    path_id,
    query,
    ref,
)

_STR = {"type": "string"}
_DAY = {"type": "string", "format": "date"}
_DAY_OR_NULL = {"type": ["string", "null"], "format": "date"}
_TIME = {"type": "string", "format": "date-time"}
_ID = path_id("evidence_id")
_HIDDEN = "Staff only; to anyone else signed in every evidence route answers 404."
_STATES = [state.value for state in EvidenceState]
# As the services read it: at least one character that is not white space; no control
# character but tab, line feed and carriage return gets past the edge of the app.
_TITLE = {
    "type": "string",
    "maxLength": TITLE_MAX,
    "pattern": LINE_PATTERN,
    "description": "runs of white space are kept as one space",
}
_DESCRIPTION = {"type": "string", "maxLength": DESCRIPTION_MAX, "pattern": MULTILINE_PATTERN}
_OPTIONAL_DAY = {
    "type": "string",
    "anyOf": [{"format": "date"}, {"maxLength": 0}],
}
_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_REQUIREMENTS = {
    "type": "array",
    "items": _STR,
    "maxItems": MAX_LINKS,
    "description": f"requirement names framework:ref (at most {MAX_LINKS}; an item may also hold "
    "several names separated by commas or new lines); an unknown name is a 409",
}
_FILE = {
    "type": "string",
    "format": "binary",
    "description": "PDF, PNG, JPEG, CSV, XLSX, DOCX or UTF-8 text: the content decides, and a "
    "real parser must accept it (415 other types, 422 empty, damaged or hostile files, 413 "
    "larger than the configured limit); a name's extension must not contradict the content",
}
_DOWNLOAD_TYPES = list(dict.fromkeys(t.content_type for t in TYPES.values()))
_FILE_TYPES = ", ".join(dict.fromkeys(t.split(";")[0] for t in _DOWNLOAD_TYPES))


def _multipart(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "properties": properties, "required": required},
                "encoding": {"file": {"contentType": _FILE_TYPES}},
            }
        },
    }


def _object(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [name for name in properties if name not in optional],
        "properties": properties,
    }


_VERSION = _object(
    {
        "number": {"type": "integer", "minimum": 1},
        "sha256": _SHA256,
        "size": {"type": "integer", "minimum": 1},
        "type": {"type": "string", "enum": list(TYPES)},
        "content_type": _STR,
        "filename": _STR,
        "effective_date": _DAY,
        "expires_on": _DAY_OR_NULL,
        "created_at": _TIME,
        "uploaded_by": {"type": ["string", "null"], "description": "e-mail"},
    }
)
_COVERAGE_REPORT = _object(
    {
        "id": _STR,
        "title": _STR,
        "inferred": {"type": "boolean"},
        "via": {"type": ["string", "null"], "description": "the requirement it covers directly"},
        "relationship": {"type": ["string", "null"]},
        "origin": {"type": ["string", "null"]},
    }
)
_COVERAGE_EVIDENCE = _object(
    {
        **_COVERAGE_REPORT["properties"],
        "state": {"type": "string", "enum": _STATES},
        "counts": {"type": "boolean", "description": "current approved evidence"},
        "expires_on": _DAY_OR_NULL,
    }
)

SCHEMAS: dict[str, Any] = {
    "Evidence": _object(
        {
            "id": _STR,
            "title": _STR,
            "description": {"type": "string", "description": "in single items only"},
            "state": {
                "type": "string",
                "enum": _STATES,
                "description": "expired is computed: the expiry date has passed",
            },
            "owner": {"type": "string", "description": "e-mail"},
            "effective_date": _DAY,
            "expires_on": _DAY_OR_NULL,
            "current_version": {"type": ["integer", "null"], "minimum": 1},
            "requirements": {"type": "array", "items": _STR},
            "approved": {
                "description": "the approval of the current version, or null",
                "oneOf": [
                    _object({"version": {"type": "integer"}, "by": _STR, "at": _TIME}),
                    {"type": "null"},
                ],
            },
            "versions": {
                "type": "array",
                "items": _VERSION,
                "description": "in single items only",
            },
        },
        optional=("description", "versions"),
    ),
    "EvidenceList": _object(
        {
            "items": {"type": "array", "items": ref("Evidence")},
            "total": {"type": "integer", "minimum": 0},
        }
    ),
    "Coverage": _object(
        {
            "framework": _object({"id": _STR, "key": _STR, "title": _STR}),
            "reports": {
                "type": "array",
                "description": "current reports (visible to the caller) "
                "that cover the whole framework",
                "items": _object({"id": _STR, "title": _STR}),
            },
            "summary": {
                "type": "object",
                "description": "staff only: assessable requirements per freshness status",
                "required": list(STATUSES),
                "properties": {s: {"type": "integer", "minimum": 0} for s in STATUSES},
            },
            "total": {"type": "integer", "minimum": 0},
            "items": {
                "type": "array",
                "items": _object(
                    {
                        "requirement_id": _STR,
                        "ref": _STR,
                        "name": _STR,
                        "title": _STR,
                        "assessable": {"type": "boolean"},
                        "status": {
                            "type": "string",
                            "enum": list(STATUSES),
                            "description": "staff only",
                        },
                        "reports": {
                            "type": "array",
                            "description": "reports inferred through a crosswalk mapping",
                            "items": _COVERAGE_REPORT,
                        },
                        "evidence": {
                            "type": "array",
                            "description": "staff only: linked evidence, direct or inferred",
                            "items": _COVERAGE_EVIDENCE,
                        },
                    },
                    optional=("status", "evidence"),
                ),
            },
        },
        optional=("summary",),
    ),
}


def _evidence_links(expression: str) -> dict[str, Any]:
    """Where an evidence id leads."""
    operations = {
        "Get": "get_evidence",
        "AddVersion": "add_evidence_version",
        "SetRequirements": "set_evidence_requirements",
        "Submit": "submit_evidence",
        "Approve": "approve_evidence",
        "SendBack": "send_back_evidence",
        "Download": "download_evidence",
    }
    return {name: link(op, evidence_id=expression) for name, op in operations.items()}


def _state_step(summary: str, description: str, *statuses: int) -> dict[str, Any]:
    return {
        "summary": summary,
        "description": f"{description} 409 when the evidence is not in the state this needs, "
        "or has expired (upload a new version first). " + _HIDDEN,
        "parameters": [_ID],
        "responses": {
            **ok(
                200,
                "the evidence in its new state",
                "Evidence",
                links=_evidence_links("$response.body#/id"),
            ),
            **errors(*sorted({401, 404, 409, *statuses})),
        },
    }


PATHS: dict[str, Any] = {
    "/evidence": {
        "get": {
            "operationId": "list_evidence",
            "summary": "Evidence (staff)",
            "description": _HIDDEN,
            "parameters": [
                query("state", {"type": "string", "enum": ["", *_STATES]}, "empty: any state"),
                query("framework", _STR, "a framework key: evidence linked to it"),
                query("owner", _STR, "the owner's e-mail (or id)"),
            ],
            "responses": {
                **ok(
                    200,
                    "evidence",
                    "EvidenceList",
                    links=_evidence_links("$response.body#/items/0/id"),
                ),
                **errors(400, 401, 404),
            },
        },
        "post": {
            "operationId": "create_evidence",
            "summary": "Upload evidence (staff); it starts as a draft",
            "description": "400 also when the effective date is in the future or the expiry "
            "date is before it; 409 when a requirement name or the owner is unknown. " + _HIDDEN,
            "requestBody": _multipart(
                {
                    "file": _FILE,
                    "title": _TITLE,
                    "description": _DESCRIPTION,
                    "owner": {
                        "type": "string",
                        "description": "an active staff member's e-mail; the caller if absent "
                        "or empty",
                    },
                    "effective_date": {
                        **_DAY,
                        "description": "when it was collected (not in the future)",
                    },
                    "expires_on": {
                        **_OPTIONAL_DAY,
                        "description": "empty or absent: it does not expire",
                    },
                    "requirements": _REQUIREMENTS,
                },
                ["file", "title", "effective_date"],
            ),
            "responses": {
                **ok(201, "created", "Evidence", links=_evidence_links("$response.body#/id")),
                **errors(400, 401, 404, 409, 413, 415, 422),
                **UPLOAD_ERRORS,
            },
        },
    },
    "/evidence/{evidence_id}": {
        "get": {
            "operationId": "get_evidence",
            "summary": "One evidence item with its versions",
            "description": _HIDDEN,
            "parameters": [_ID],
            "responses": {**ok(200, "the evidence", "Evidence"), **errors(401, 404)},
        }
    },
    "/evidence/{evidence_id}/versions": {
        "post": {
            "operationId": "add_evidence_version",
            "summary": "Upload a new version (a new file); the evidence returns to draft",
            "description": "The dates default to the previous version's; 400 when the "
            "effective date is in the future or the expiry date is before it; 409 when "
            "another version was stored at the same moment. " + _HIDDEN,
            "parameters": [_ID],
            "requestBody": _multipart(
                {
                    "file": _FILE,
                    "effective_date": {
                        **_OPTIONAL_DAY,
                        "description": "empty or absent: the previous version's",
                    },
                    "expires_on": {
                        **_OPTIONAL_DAY,
                        "description": "empty or absent: the previous version's",
                    },
                },
                ["file"],
            ),
            "responses": {
                "201": json_response(
                    "stored",
                    _object(
                        {
                            "number": {"type": "integer", "minimum": 1},
                            "sha256": _SHA256,
                            "size": {"type": "integer", "minimum": 1},
                            "type": {"type": "string", "enum": list(TYPES)},
                            "filename": _STR,
                        }
                    ),
                    links={
                        "Download": {
                            **link(
                                "download_evidence",
                                evidence_id="$request.path.evidence_id",
                                version="$response.body#/number",
                            )
                        },
                        "Get": link("get_evidence", evidence_id="$request.path.evidence_id"),
                        "Submit": link("submit_evidence", evidence_id="$request.path.evidence_id"),
                    },
                ),
                **errors(400, 401, 404, 409, 413, 415, 422),
                **UPLOAD_ERRORS,
            },
        }
    },
    "/evidence/{evidence_id}/requirements": {
        "post": {
            "operationId": "set_evidence_requirements",
            "summary": "Replace the linked requirements",
            "description": "409 when a name is unknown. " + _HIDDEN,
            "parameters": [_ID],
            "requestBody": json_body({"requirements": _REQUIREMENTS}, ["requirements"]),
            "responses": {**ok(200, "the evidence", "Evidence"), **errors(400, 401, 404, 409)},
        }
    },
    "/evidence/{evidence_id}/submit": {
        "post": {
            "operationId": "submit_evidence",
            **_state_step("Draft -> in review", "Submit a draft for review."),
        }
    },
    "/evidence/{evidence_id}/approve": {
        "post": {
            "operationId": "approve_evidence",
            **_state_step(
                "In review -> approved, by a staff member other than the uploader of the "
                "current version",
                "403 when you uploaded the current version; an optional JSON body "
                '{"note"} is kept with the approval.',
                400,
                403,
            ),
            "requestBody": json_body(
                {"note": {"type": "string", "maxLength": NOTE_MAX, "pattern": LINE_PATTERN}},
                body_required=False,
            ),
        }
    },
    "/evidence/{evidence_id}/send-back": {
        "post": {
            "operationId": "send_back_evidence",
            **_state_step(
                "In review or approved -> draft", "A reviewer's rejection, or a withdrawal."
            ),
        }
    },
    "/evidence/{evidence_id}/download": {
        "get": {
            "operationId": "download_evidence",
            "summary": "The current (or ?version=N) file, checked against its SHA-256",
            "description": _HIDDEN + " Served as an attachment with nosniff and a sandbox CSP; "
            "500 when the stored bytes fail their check (recorded in the audit trail).",
            "parameters": [
                _ID,
                query(
                    "version",
                    {"type": "integer", "minimum": 1, "maximum": 999_999_999},
                    "a version number; the current version if absent",
                ),
            ],
            "responses": {
                "200": {
                    "description": "the file",
                    "headers": {
                        "X-Artifact-SHA256": {
                            "description": "the SHA-256 of the bytes served: the stored "
                            "file's, unless it is a PDF with active content (JavaScript, "
                            "actions, embedded files), which is served without it",
                            "schema": _SHA256,
                        }
                    },
                    "content": {
                        media_type: {"schema": {"type": "string", "format": "binary"}}
                        for media_type in _DOWNLOAD_TYPES
                    },
                },
                **errors(400, 401, 404, 429, 500),
            },
        }
    },
    "/frameworks/{framework_id}/coverage": {
        "get": {
            "operationId": "get_framework_coverage",
            "summary": "Coverage per requirement (signed in): reports the caller may see; for "
            "staff also evidence (direct or inferred) and freshness",
            "parameters": [path_id("framework_id")],
            "responses": {**ok(200, "coverage", "Coverage"), **errors(401, 404)},
        }
    },
}
