"""OpenAPI paths and schemas of audit engagements (merged into the document in web/openapi.py)."""

from __future__ import annotations

from typing import Any

from artifact.engagements.services.records import MAX_AUDITORS, MAX_REQUIREMENTS, NAME_MAX
from artifact.engagements.services.requests import (
    COMMENT_MAX,
    DESCRIPTION_MAX,
    MAX_REFS,
    TITLE_MAX,
)
from artifact.evidence.services.filetypes import TYPES
from artifact.models.engagements import RequestStatus
from artifact.web.openapi_parts import (
    BIDI,
    MULTILINE_PATTERN,
    errors,
    json_body,
    json_response,
    line,
    link,
    ok,
    path_id,
    query,
    ref,
)

_STR = {"type": "string"}
_MAYBE_STR = {"type": ["string", "null"]}
# Several lines as the services check them (kernel/text.check_text, multiline): tab, line feed
# and carriage return the only control characters, no bidirectional control; a comment must
# hold something other than white space.
_CONTROLS = rf"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{BIDI}"
_NOT_BLANK = rf"^[^{_CONTROLS}]*(?:[^\s{_CONTROLS}]|\ufeff)[^{_CONTROLS}]*$"


def _lines(max_length: int, *, required: bool = False) -> dict[str, Any]:
    pattern = _NOT_BLANK if required else MULTILINE_PATTERN
    return {"type": "string", "maxLength": max_length, "pattern": pattern}


_DAY = {"type": "string", "format": "date"}
_MAYBE_DAY = {"type": ["string", "null"], "format": "date"}
# A date, or an empty string (or null, where it is _MAYBE_DAY) for none.
_DAY_OR_EMPTY = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "maxLength": 0}],
    "description": "a date; empty for none",
}
_DAY_OR_NONE = {
    "anyOf": [
        {"type": "string", "format": "date"},
        {"type": "string", "maxLength": 0},
        {"type": "null"},
    ],
    "description": "a date; empty or null for none",
}
_WHEN = {"type": "string", "format": "date-time"}
_MAYBE_WHEN = {"type": ["string", "null"], "format": "date-time"}
_COUNT = {"type": "integer", "minimum": 0}
_STATUS = {"type": "string", "enum": [s.value for s in RequestStatus]}
# What evidence is stored as (a PDF comes back stamped, still application/pdf).
_DOWNLOAD_TYPES = list(dict.fromkeys(t.content_type for t in TYPES.values()))
_ID = path_id("engagement_id")
_EVIDENCE_ID = path_id("evidence_id")
_REQUEST_ID = path_id("request_id")
_DOWNLOAD_PARAMETERS = [
    _ID,
    _EVIDENCE_ID,
    query("version", {"type": "string", "pattern": "^[1-9][0-9]{0,5}$"}, "a version in scope"),
]
_HIDDEN = (
    "Staff see every engagement; an auditor only one they are on, of their firm, while it is "
    "open (state open and today between starts_on and ends_on): anything else is a 404, as "
    "for an id that does not exist. Recorded in the audit trail, naming the engagement."
)


def _object(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [name for name in properties if name not in optional],
        "properties": properties,
    }


def _items(schema: str) -> dict[str, Any]:
    return _object({"items": {"type": "array", "items": ref(schema)}, "total": _COUNT})


_ATTACHMENT = _object(
    {
        "evidence_id": _STR,
        "title": _STR,
        "version": {"type": "integer", "minimum": 1},
        "sha256": _STR,
        "attached_at": _WHEN,
    }
)
_COMMENT = {
    "id": _STR,
    "author": _MAYBE_STR,
    "author_name": _MAYBE_STR,
    "kind": {"type": "string", "enum": ["comment", "return"]},
    "body": _STR,
    "created_at": _WHEN,
}
_REQUEST = {
    "id": _STR,
    "number": {"type": "integer", "minimum": 1, "description": "PBC-<number>"},
    "title": _STR,
    "description": _STR,
    "requirements": {"type": "array", "items": _STR},
    "due_on": _MAYBE_DAY,
    "sample_size": {"type": ["integer", "null"], "minimum": 1},
    "status": _STATUS,
    "status_label": _STR,
    "overdue": {
        "type": "boolean",
        "description": "past due_on while open, in progress or returned",
    },
    "owner": _MAYBE_STR,
    "created_by": _MAYBE_STR,
    "created_at": _WHEN,
    "updated_at": _WHEN,
    "evidence": {"type": "array", "items": _ATTACHMENT},
}

SCHEMAS: dict[str, Any] = {
    "Engagement": _object(
        {
            "id": _STR,
            "name": _STR,
            "organization": {"type": "string", "description": "the audit firm"},
            "framework": {"type": ["string", "null"], "description": "its key, if the scope"},
            "requirements": {
                "type": "array",
                "items": _STR,
                "description": "the scope when it is not a whole framework (KEY:REF)",
            },
            "period_start": _DAY,
            "period_end": _DAY,
            "starts_on": _DAY,
            "ends_on": _DAY,
            "state": {"type": "string", "enum": ["open", "closed"]},
            "access": {
                "type": "string",
                "enum": ["open", "not_started", "ended", "closed"],
                "description": "what the auditors have today",
            },
            "auditors": {"type": "array", "items": _STR},
            "created_at": _WHEN,
            "closed_at": _MAYBE_WHEN,
            "closed_by": _MAYBE_STR,
            "requests": _object(
                {
                    "total": _COUNT,
                    "by_status": {
                        "type": "object",
                        "additionalProperties": _COUNT,
                        "propertyNames": _STATUS,
                    },
                    "overdue": _COUNT,
                }
            ),
        }
    ),
    "EngagementEvidence": _object(
        {
            "id": _STR,
            "title": _STR,
            "requirements": {
                "type": "array",
                "items": _STR,
                "description": "its links to in-scope requirements",
            },
            "version": {"type": "integer", "minimum": 1, "description": "latest in scope"},
            "versions": {
                "type": "array",
                "items": {"type": "integer", "minimum": 1},
                "description": "every version in scope",
            },
            "effective_date": _DAY,
            "expires_on": _MAYBE_DAY,
            "type": _STR,
            "content_type": _STR,
            "filename": _STR,
            "size": _COUNT,
            "sha256": _STR,
        }
    ),
    "EngagementCoverage": _object(
        {
            "requirement": {"type": "string", "description": "KEY:REF"},
            "ref": _STR,
            "title": _STR,
            "covered": {"type": "boolean"},
            "evidence": {
                "type": "array",
                "items": _object(
                    {"id": _STR, "title": _STR, "version": {"type": "integer", "minimum": 1}}
                ),
            },
        }
    ),
    "EngagementRequestSummary": _object(
        {**_REQUEST, "comments": {**_COUNT, "description": "how many comments"}}
    ),
    "EngagementRequest": _object(
        {**_REQUEST, "comments": {"type": "array", "items": _object(_COMMENT)}}
    ),
    "EngagementComment": _object(_COMMENT),
}

_E = "$request.path.engagement_id"
_R = "$request.path.request_id"
_ENGAGEMENT_LINKS = {
    "Get": link("get_engagement", engagement_id="$response.body#/id"),
    "Evidence": link("list_engagement_evidence", engagement_id="$response.body#/id"),
    "Requests": link("list_engagement_requests", engagement_id="$response.body#/id"),
}
_REQUEST_LINKS = {
    "Get": link("get_engagement_request", engagement_id=_E, request_id="$response.body#/id"),
    "Comment": link(
        "comment_engagement_request", engagement_id=_E, request_id="$response.body#/id"
    ),
}
_EMAILS = {
    "type": "array",
    "items": line(320),
    "minItems": 1,
    "maxItems": MAX_AUDITORS,
    "description": "e-mails of active users with the auditor role, members of the firm",
}
_REQUIREMENT_NAMES = {
    "type": "array",
    "items": line(200),
    "maxItems": MAX_REQUIREMENTS,
    "description": "KEY:REF names (instead of a framework)",
}


def _step(operation_id: str, summary: str, description: str, *statuses: int) -> dict[str, Any]:
    return {
        "post": {
            "operationId": operation_id,
            "summary": summary,
            "description": description + " 409 when the request is not in a status this "
            "step starts from (the message says which), or the engagement is closed. " + _HIDDEN,
            "parameters": [_ID, _REQUEST_ID],
            "responses": {
                **ok(200, "the request in its new status", "EngagementRequest"),
                **errors(*sorted({401, 403, 404, 409, *statuses})),
            },
        }
    }


PATHS: dict[str, Any] = {
    "/engagements": {
        "get": {
            "operationId": "list_engagements",
            "summary": "Engagements (staff: all; auditors: theirs, while open)",
            "description": "Other roles get 404.",
            "responses": {
                "200": json_response("engagements", _items("Engagement")),
                **errors(401, 404),
            },
        },
        "post": {
            "operationId": "create_engagement",
            "summary": "A new engagement (staff)",
            "description": "The scope is a framework (key) or a list of requirements. 400 for "
            "a missing or malformed field or dates out of order (period_end before "
            "period_start, ends_on before starts_on); 422 for an unknown firm, framework or "
            "requirement, or an auditor who is not an active auditor of the firm. Nothing is "
            "written then.",
            "requestBody": json_body(
                {
                    "name": line(NAME_MAX),
                    "organization": line(200, "the audit firm (organisation name)"),
                    "framework": line(100, "framework key: the whole framework is in scope"),
                    "requirements": _REQUIREMENT_NAMES,
                    "period_start": _DAY,
                    "period_end": _DAY,
                    "starts_on": _DAY,
                    "ends_on": _DAY,
                    "auditors": _EMAILS,
                },
                [
                    "name",
                    "organization",
                    "period_start",
                    "period_end",
                    "starts_on",
                    "ends_on",
                    "auditors",
                ],
            ),
            "responses": {
                **ok(201, "created", "Engagement", links=_ENGAGEMENT_LINKS),
                **errors(400, 401, 403, 404, 422),
            },
        },
    },
    "/engagements/{engagement_id}": {
        "get": {
            "operationId": "get_engagement",
            "summary": "One engagement",
            "description": _HIDDEN,
            "parameters": [_ID],
            "responses": {**ok(200, "the engagement", "Engagement"), **errors(401, 404)},
        }
    },
    "/engagements/{engagement_id}/close": {
        "post": {
            "operationId": "close_engagement",
            "summary": "Close an engagement (staff): its auditors lose access at once",
            "description": "409 when it is closed already. " + _HIDDEN,
            "parameters": [_ID],
            "responses": {
                **ok(200, "the closed engagement", "Engagement"),
                **errors(401, 403, 404, 409),
            },
        }
    },
    "/engagements/{engagement_id}/evidence": {
        "get": {
            "operationId": "list_engagement_evidence",
            "summary": "Evidence in scope: approved versions, effective inside the period, "
            "of evidence linked to an in-scope requirement",
            "description": _HIDDEN,
            "parameters": [_ID],
            "responses": {
                "200": json_response("evidence in scope", _items("EngagementEvidence")),
                **errors(401, 404),
            },
        }
    },
    "/engagements/{engagement_id}/evidence/{evidence_id}": {
        "get": {
            "operationId": "get_engagement_evidence",
            "summary": "One evidence item in scope (404 for anything outside the scope)",
            "description": _HIDDEN,
            "parameters": [_ID, _EVIDENCE_ID],
            "responses": {
                **ok(200, "the evidence", "EngagementEvidence"),
                **errors(401, 404),
            },
        }
    },
    "/engagements/{engagement_id}/evidence/{evidence_id}/download": {
        "get": {
            "operationId": "download_engagement_evidence",
            "summary": "A copy of the latest in-scope version (`?version=N` for another "
            "version in scope); counts against the caller's download budget",
            "description": "A PDF gets a cover page and a watermark on every page naming the "
            "caller and a receipt id (as report downloads); other files are served as "
            "stored. Either way the receipt id is in the header and the audit trail. " + _HIDDEN,
            "parameters": _DOWNLOAD_PARAMETERS,
            "responses": {
                "200": {
                    "description": "the file",
                    "headers": {
                        "X-Artifact-Receipt": {
                            "description": "this copy's receipt id, in the audit trail",
                            "required": True,
                            "schema": _STR,
                        },
                    },
                    "content": {
                        media_type: {"schema": {"type": "string", "format": "binary"}}
                        for media_type in _DOWNLOAD_TYPES
                    },
                },
                **errors(401, 404, 429, 500),
            },
        },
        "head": {
            "operationId": "check_engagement_evidence_download",
            "summary": "Whether the download would be served (no copy is made and no receipt "
            "issued; the access is recorded and counts in the download budget like a GET)",
            "parameters": _DOWNLOAD_PARAMETERS,
            "responses": {
                "200": {"description": "the download would be served"},
                **errors(401, 404, 429),
            },
        },
    },
    "/engagements/{engagement_id}/coverage": {
        "get": {
            "operationId": "engagement_coverage",
            "summary": "Coverage of the in-scope requirements by the evidence in scope",
            "description": _HIDDEN,
            "parameters": [_ID],
            "responses": {
                "200": json_response("one row per requirement", _items("EngagementCoverage")),
                **errors(401, 404),
            },
        }
    },
    "/engagements/{engagement_id}/requests": {
        "get": {
            "operationId": "list_engagement_requests",
            "summary": "The request list (PBC), in number order",
            "description": _HIDDEN,
            "parameters": [_ID],
            "responses": {
                "200": json_response("requests", _items("EngagementRequestSummary")),
                **errors(401, 404),
            },
        },
        "post": {
            "operationId": "create_engagement_request",
            "summary": "Add a request (the engagement's auditors, staff)",
            "description": "requirements must be in the engagement's scope (KEY:REF, or REF "
            "alone when the scope is a framework): 422 otherwise. 409 when the engagement is "
            "closed. " + _HIDDEN,
            "parameters": [_ID],
            "requestBody": json_body(
                {
                    "title": line(TITLE_MAX),
                    "description": _lines(DESCRIPTION_MAX),
                    "requirements": {"type": "array", "items": line(200), "maxItems": MAX_REFS},
                    "due_on": _DAY_OR_EMPTY,
                    "sample_size": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
                },
                ["title"],
            ),
            "responses": {
                **ok(201, "created", "EngagementRequest", links=_REQUEST_LINKS),
                **errors(400, 401, 404, 409, 422),
            },
        },
    },
    "/engagements/{engagement_id}/requests/{request_id}": {
        "get": {
            "operationId": "get_engagement_request",
            "summary": "One request with its comments",
            "description": _HIDDEN,
            "parameters": [_ID, _REQUEST_ID],
            "responses": {**ok(200, "the request", "EngagementRequest"), **errors(401, 404)},
        },
        "patch": {
            "operationId": "update_engagement_request",
            "summary": "Assign the owner and/or set the due date (staff)",
            "description": "owner: an active staff member's e-mail, or empty for none (422 "
            "otherwise); assigning one to an open or returned request moves it to "
            "in_progress. 409 for an accepted request or a closed engagement. " + _HIDDEN,
            "parameters": [_ID, _REQUEST_ID],
            "requestBody": json_body(
                {"owner": {"type": "string", "maxLength": 320}, "due_on": _DAY_OR_NONE}
            ),
            "responses": {
                **ok(200, "the request", "EngagementRequest"),
                **errors(400, 401, 403, 404, 409, 422),
            },
        },
    },
    "/engagements/{engagement_id}/requests/{request_id}/comments": {
        "post": {
            "operationId": "comment_engagement_request",
            "summary": "Comment on a request (the engagement's auditors, staff)",
            "description": "409 when the engagement is closed. " + _HIDDEN,
            "parameters": [_ID, _REQUEST_ID],
            "requestBody": json_body({"body": _lines(COMMENT_MAX, required=True)}, ["body"]),
            "responses": {
                **ok(201, "the comment", "EngagementComment"),
                **errors(400, 401, 404, 409),
            },
        }
    },
    "/engagements/{engagement_id}/requests/{request_id}/evidence": {
        "post": {
            "operationId": "attach_engagement_evidence",
            "summary": "Attach evidence in scope to a request (staff)",
            "description": "422 when the evidence is not in the engagement's scope (a draft, "
            "outside the period, or not linked to an in-scope requirement); 409 when it is "
            "attached already, the request is ready or accepted, or the engagement closed. "
            "An open or returned request moves to in_progress. " + _HIDDEN,
            "parameters": [_ID, _REQUEST_ID],
            "requestBody": json_body({"evidence_id": line(64)}, ["evidence_id"]),
            "responses": {
                **ok(201, "the request with its attachments", "EngagementRequest"),
                **errors(400, 401, 403, 404, 409, 422),
            },
        }
    },
    "/engagements/{engagement_id}/requests/{request_id}/ready": _step(
        "mark_engagement_request_ready",
        "Mark a request ready for review (staff)",
        "From open, in_progress or returned, with evidence attached.",
    ),
    "/engagements/{engagement_id}/requests/{request_id}/accept": _step(
        "accept_engagement_request",
        "Accept a request (the engagement's auditors)",
        "From ready.",
    ),
    "/engagements/{engagement_id}/requests/{request_id}/return": {
        "post": {
            **_step(
                "return_engagement_request",
                "Send a request back with a comment (the engagement's auditors)",
                "From ready; the comment (why) is required: 400 without it.",
                400,
            )["post"],
            "requestBody": json_body({"comment": _lines(COMMENT_MAX, required=True)}, ["comment"]),
        }
    },
}
