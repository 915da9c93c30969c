"""The catalog's part of the OpenAPI document.

The request schemas (``*Input``) are also what ``catalog/api.py`` checks request bodies
against, so what the document promises and what the API accepts cannot drift apart."""

from __future__ import annotations

from typing import Any

from artifact.catalog.services.reports import RELEASE_NOTES_LIMIT
from artifact.web.openapi_parts import (
    BIDI,
    DOMAIN_PATTERN,
    MULTILINE_PATTERN,
    OPTIONAL_AUTH,
    TEXT_PATTERN_EDGE,
    UPLOAD_ERRORS,
    errors,
    link,
    ok,
    query,
    ref,
)

# Ids are 32 lowercase hex digits (models.base.new_id); anything else names nothing.
ID_PATTERN = "^[0-9a-f]{32}$"
_AGREEMENT_OR_NONE = "^([0-9a-f]{32})?$"
# A category's slug (GET /categories lists them; the first four are always there).
_CATEGORY_PATTERN = "^[a-z0-9][a-z0-9-]{0,19}$"
# The white space the catalog's services collapse and strip (Python's str.isspace), spelled
# out so that every regex engine agrees on it; control characters but tab, line feed and
# carriage return never get past the edge of the app (web/input_guard.py).
_SPACE = "\\t-\\r\\x1c- \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
_CONTROLS = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f"
_NO_NUL = TEXT_PATTERN_EDGE  # what the edge lets through, and nothing more
_VISIBLE = f"^[^{_CONTROLS}]*[^{_CONTROLS}{_SPACE}][^{_CONTROLS}]*$"
# Fields the services check as one line, or as several (kernel/text): no control character at
# all, or none but tab and line breaks; never a bidirectional override.
_LINE_FORBIDDEN = f"\\x00-\\x1f\\x7f-\\x9f{BIDI}"
_LINE = f"^[^{_LINE_FORBIDDEN}]*$"
_LINE_VISIBLE = f"^[^{_LINE_FORBIDDEN}]*[^{_LINE_FORBIDDEN}{_SPACE}][^{_LINE_FORBIDDEN}]*$"
_MULTI = MULTILINE_PATTERN
# What each pattern means, for error messages.
PATTERN_MEANINGS = {
    ID_PATTERN: "must be an id (32 hexadecimal digits)",
    DOMAIN_PATTERN: "must be an e-mail domain like example.com",
    _AGREEMENT_OR_NONE: "must be an agreement id (32 hexadecimal digits), empty or null",
    _NO_NUL: "must not contain control characters",
    _CATEGORY_PATTERN: "must be a category's slug (lower-case letters, digits, hyphens)",
    _VISIBLE: "must not be blank, nor contain control characters",
    _LINE: "must be one line, without control or bidirectional override characters",
    _LINE_VISIBLE: "must be one line, not blank, without control or bidirectional override "
    "characters",
    _MULTI: "must not contain control characters (but tab and line breaks) nor bidirectional "
    "override characters",
}

_STR = {"type": "string"}
_ID = {"type": "string", "pattern": ID_PATTERN}
_NULLABLE_STR = {"type": ["string", "null"]}
_DATE = {"type": ["string", "null"], "format": "date"}
_DATE_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}
_CATEGORY = {
    "type": "string",
    "pattern": _CATEGORY_PATTERN,
    "description": "a category's slug: certifications, reports, regulations, agreements or one "
    "staff added (GET /categories)",
}
_NULLABLE_CATEGORY = {"type": ["string", "null"], "description": "a category's slug"}
_STATE = {"type": "string", "enum": ["draft", "published", "outdated", "retired"]}
_STATUS = {
    "type": "string",
    "enum": ["current", "expiring", "expired", "superseded"],
    "description": "superseded when a newer current report of the same series exists, else "
    "expired past valid_until, expiring within 60 days of it, else current",
}
_VISIBILITY = {"type": "string", "enum": ["public", "customers", "restricted"]}
_LISTING = {
    "type": "string",
    "enum": ["listed", "hidden"],
    "description": "hidden: left out of lists and search for all but staff, reached by a direct "
    "link by those who may see it",
}
_REQUEST_STATE = {"type": "string", "enum": ["pending", "approved", "denied"]}
_COUNT = {"type": "integer", "minimum": 0}
_EXPIRY = {
    "type": "string",
    "anyOf": [{"format": "date-time"}, {"format": "date"}],
    "description": "in the future; a date means the end of that day (UTC)",
}
_TERMS = {
    "type": ["string", "null"],
    "pattern": _AGREEMENT_OR_NONE,
    "description": "a published agreement to accept before downloads; null or empty for none",
}


def _text(max_length: int, *, visible: bool = False) -> dict[str, Any]:
    """Free text: no NUL, at most ``max_length`` characters, and if ``visible`` something
    other than white space."""
    return {"type": "string", "maxLength": max_length, "pattern": _VISIBLE if visible else _NO_NUL}


def _object(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """An answer's object: every property is always there but the ``optional`` ones."""
    required = [name for name in properties if name not in optional]
    return {"type": "object", "required": required, "properties": properties}


def _input(properties: dict[str, Any], **rules: Any) -> dict[str, Any]:
    """A request body's object; unknown members are refused."""
    return {"type": "object", "additionalProperties": False, "properties": properties, **rules}


def _because(status: int, description: str) -> dict[str, Any]:
    """An error response, saying when it is answered."""
    return {str(status): {**errors(status)[str(status)], "description": description}}


def _json_body(schema: str, *, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": ref(schema)}}}


def _path_id(name: str) -> list[dict[str, Any]]:
    return [{"name": name, "in": "path", "required": True, "schema": _ID}]


_SCOPE = {"report_id": _ID, "series": _text(80, visible=True), "category": _CATEGORY}
_ONE_SCOPE = {
    "description": "exactly one of report_id, series or category",
    "oneOf": [{"required": ["report_id"]}, {"required": ["series"]}, {"required": ["category"]}],
}
_ONE_GRANTEE = {
    "description": "exactly one grantee: user or organization",
    "oneOf": [{"required": ["user"]}, {"required": ["organization"]}],
}

_BRIDGES = {
    "type": ["string", "null"],
    "pattern": ID_PATTERN,
    "description": "for a bridge letter: the report whose period it extends (null for none)",
}
_POSITION = {"type": "integer", "minimum": 0, "maximum": 100_000, "description": "list order"}
_HOLDER_SCOPE = {"type": "string", "enum": ["report", "series", "category"]}
# What POST /reports and PATCH /reports/{id} take alike.
_REPORT_FIELDS = {
    "title": {**_text(200), "pattern": _LINE_VISIBLE},
    "category": _CATEGORY,
    "series": {
        **_text(80),
        "pattern": _LINE,
        "description": "a series' slug (GET /series), any case; empty: none",
    },
    "issuer": {**_text(200), "pattern": _LINE},
    "product": {**_text(200), "pattern": _LINE},
    "frameworks": {"type": "array", "maxItems": 50, "items": _text(80)},
    "period_start": _DATE,
    "period_end": {**_DATE, "description": "not before period_start"},
    "issued_on": _DATE,
    "valid_until": {
        **_DATE,
        "description": "not before issued_on; null: the category's default (see Report)",
    },
    "description": {**_text(10000), "pattern": _MULTI},
    "bridges_report_id": _BRIDGES,
}

SCHEMAS: dict[str, Any] = {
    "Report": _object(
        {
            "id": _ID,
            "title": _STR,
            "category": _CATEGORY,
            "series": _STR,
            "issuer": _STR,
            "product": _STR,
            "frameworks": {"type": "array", "items": _STR},
            "period_start": _DATE,
            "period_end": _DATE,
            "issued_on": _DATE,
            "valid_until": {
                **_DATE,
                "description": "as set by staff, else a certificate's period_end, an attestation "
                "report's period_end plus 12 months, else null (no end)",
            },
            "status": _STATUS,
            "description": _STR,
            "state": {**_STATE, "description": "as staff set it (status says how current)"},
            "visibility": _VISIBILITY,
            "listing": _LISTING,
            "bridges_report_id": {
                **_BRIDGES,
                "description": "the report this bridge letter extends",
            },
            "terms_agreement_id": {**_NULLABLE_STR, "description": "to accept before downloads"},
            "needs_terms": {
                "type": "boolean",
                "description": "the caller must accept terms_agreement_id first",
            },
            "locked": {
                "type": "boolean",
                "description": "listed, but not the caller's to open: only these catalog facts "
                "are shown (no versions, no download); request access to it",
            },
            "versions": {
                "type": "array",
                "description": "the live versions, oldest first (not in lists, nor for a "
                "locked report)",
                "items": ref("ReportVersion"),
            },
        },
        optional=("versions",),
    ),
    "ReportVersion": _object(
        {
            "number": {"type": "integer", "minimum": 1},
            "sha256": {
                "type": "string",
                "pattern": "^[0-9a-f]{64}$",
                "description": "of the file exactly as uploaded (staff fetch it as the "
                "original); copies handed out are stamped and differ",
            },
            "size": _COUNT,
            "created_at": _DATE_TIME,
            "filename": {
                **_STR,
                "description": "the uploaded file's name, cleaned; metadata only: copies are "
                "served as '<title> <period> v<number>.pdf'",
            },
            "pages": {"type": ["integer", "null"], "minimum": 0},
            "release_notes": {**_STR, "description": "what changed, as staff wrote it"},
            "pdf_warnings": {
                "type": ["array", "null"],
                "items": _STR,
                "description": "staff only: what qpdf repaired or tolerated reading the "
                "upload (null: not recorded when it was uploaded)",
            },
            "removed_content": {
                "type": ["array", "null"],
                "items": _STR,
                "description": "staff only: the active content (JavaScript, Launch and other "
                "actions, embedded files, XFA, RichMedia) or password-free encryption found "
                "in the upload, which copies handed out do not carry",
            },
        },
        optional=("pdf_warnings", "removed_content"),
    ),
    "ReportList": _object({"items": {"type": "array", "items": ref("Report")}, "total": _COUNT}),
    "Grant": _object(
        {
            "id": _ID,
            "report_id": _NULLABLE_STR,
            "series": _NULLABLE_STR,
            "category": _NULLABLE_CATEGORY,
            "user": {**_NULLABLE_STR, "description": "the grantee's e-mail"},
            "organization": {**_NULLABLE_STR, "description": "the grantee organisation"},
            "expires_at": _NULLABLE_DATE_TIME,
        }
    ),
    "GrantList": _object({"items": {"type": "array", "items": ref("Grant")}, "total": _COUNT}),
    "AccessRequest": _object(
        {
            "id": _ID,
            "state": _REQUEST_STATE,
            "report_id": _NULLABLE_STR,
            "series": _NULLABLE_STR,
            "category": _NULLABLE_CATEGORY,
            "user": {**_NULLABLE_STR, "description": "the requester's e-mail"},
            "message": {"type": "string", "description": "the requester's message"},
            "created_at": _DATE_TIME,
            "decided_at": {**_NULLABLE_DATE_TIME, "description": "when it was decided"},
            "expires_at": {**_NULLABLE_DATE_TIME, "description": "when an approval's grant ends"},
            "auto_approved": {
                "type": "boolean",
                "description": "approved at once by a staff rule (no person decided)",
            },
        }
    ),
    "ApprovalRule": _object(
        {
            "id": _ID,
            "domain": {**_NULLABLE_STR, "description": "requesters with an address at it"},
            "organization": {**_NULLABLE_STR, "description": "or members of this organisation"},
            "series": _NULLABLE_STR,
            "category": _NULLABLE_CATEGORY,
            "expires_in_days": {
                "type": ["integer", "null"],
                "description": "the grant ends after this many days (none: no end)",
            },
            "requires_agreement_id": {
                **_NULLABLE_STR,
                "description": "approved only once the requester accepted this agreement",
            },
            "created_at": _DATE_TIME,
        }
    ),
    "ApprovalRuleList": _object(
        {"items": {"type": "array", "items": ref("ApprovalRule")}, "total": _COUNT}
    ),
    "AccessRequestList": _object(
        {"items": {"type": "array", "items": ref("AccessRequest")}, "total": _COUNT}
    ),
    "ReportInput": _input(
        {
            **_REPORT_FIELDS,
            "visibility": {**_VISIBILITY, "default": "restricted"},
            "listing": {**_LISTING, "default": "listed"},
            "terms_agreement_id": _TERMS,
        },
        required=["title", "category"],
    ),
    "ReportPatch": _input(
        {**_REPORT_FIELDS, "visibility": _VISIBILITY, "listing": _LISTING},
        minProperties=1,
        description="at least one field; each change is recorded in the report's history",
    ),
    "ReportHistory": _object(
        {"items": {"type": "array", "items": ref("ReportChange")}, "total": _COUNT}
    ),
    "ReportChange": _object(
        {
            "at": _DATE_TIME,
            "by": {**_STR, "description": "who changed it (e-mail; the operator's label)"},
            "action": {
                "type": "string",
                "enum": ["report.edit", "report.state", "report.set_terms"],
            },
            "fields": {
                "type": "object",
                "description": "each field changed, from and to (JSON values)",
                "additionalProperties": _object({"from": {}, "to": {}}),
            },
        }
    ),
    "ReportAccess": _object(
        {
            "grants": {"type": "array", "items": ref("AccessGrant")},
            "approved_requests": {"type": "array", "items": ref("AccessApproval")},
            "acceptances": {"type": "array", "items": ref("AccessAcceptance")},
            "recent_downloads": {"type": "array", "items": ref("RecentDownload")},
        }
    ),
    "AccessGrant": _object(
        {
            "id": _ID,
            "scope": _HOLDER_SCOPE,
            "user": {**_NULLABLE_STR, "description": "the grantee's e-mail"},
            "name": {**_NULLABLE_STR, "description": "the grantee's name"},
            "organization": {**_NULLABLE_STR, "description": "the grantee organisation"},
            "expires_at": _NULLABLE_DATE_TIME,
            "created_at": _DATE_TIME,
        }
    ),
    "AccessApproval": _object(
        {
            "id": _ID,
            "scope": _HOLDER_SCOPE,
            "user": _STR,
            "name": _STR,
            "decided_at": _NULLABLE_DATE_TIME,
            "expires_at": _NULLABLE_DATE_TIME,
            "grant_id": _NULLABLE_STR,
        }
    ),
    "AccessAcceptance": _object(
        {
            "id": _ID,
            "scope": {"type": "string", "enum": ["account", "organization"]},
            "user": _STR,
            "name": _STR,
            "organization": _NULLABLE_STR,
            "version": {"type": "integer", "minimum": 1},
            "accepted_at": _DATE_TIME,
        }
    ),
    "RecentDownload": _object(
        {
            "at": _DATE_TIME,
            "name": _STR,
            "email": _STR,
            "organization": _STR,
            "version": {"type": "integer", "minimum": 1},
            "receipt": _STR,
        }
    ),
    "TaxonomyEntry": _object(
        {
            "id": _ID,
            "slug": {
                **_STR,
                "description": "what reports, grants and requests store; never changes",
            },
            "name": _STR,
            "description": _STR,
            "position": _POSITION,
        }
    ),
    "TaxonomyList": _object(
        {"items": {"type": "array", "items": ref("TaxonomyEntry")}, "total": _COUNT}
    ),
    "CategoryInput": _input(
        {
            "slug": {**_CATEGORY, "description": "lower-case letters, digits, hyphens; fixed"},
            "name": _text(80, visible=True),
            "description": _text(2000),
            "position": _POSITION,
        },
        required=["slug", "name"],
    ),
    "SeriesInput": _input(
        {
            "name": _text(80, visible=True),
            "slug": {**_text(80, visible=True), "description": "fixed; the name if left out"},
            "description": _text(2000),
            "position": _POSITION,
        },
        required=["name"],
    ),
    "TaxonomyPatch": _input(
        {"name": _text(80, visible=True), "description": _text(2000), "position": _POSITION},
        minProperties=1,
    ),
    "ReportStateInput": _input(
        {"state": {**_STATE, "description": "publishing needs a version"}}, required=["state"]
    ),
    "ReportTermsInput": _input({"terms_agreement_id": _TERMS}, required=["terms_agreement_id"]),
    "GrantInput": _input(
        {
            **_SCOPE,
            "user": {**_text(320, visible=True), "format": "email"},
            "organization": _text(200, visible=True),
            "expires_at": _EXPIRY,
        },
        allOf=[_ONE_SCOPE, _ONE_GRANTEE],
    ),
    "AccessRequestInput": _input(
        {**_SCOPE, "message": {**_text(2000), "pattern": _MULTI}}, allOf=[_ONE_SCOPE]
    ),
    "AccessDecisionInput": _input({"expires_at": _EXPIRY}),
    "ApprovalRuleInput": _input(
        {
            "domain": {
                "type": "string",
                "maxLength": 253,
                "pattern": DOMAIN_PATTERN,
                "description": "an e-mail domain (punycode for an internationalised name)",
            },
            "organization": {**_text(200, visible=True), "description": "id or name"},
            "series": _text(80, visible=True),
            "category": _text(20, visible=True),
            "expires_in_days": {"type": "integer", "minimum": 1, "maximum": 3650},
            "requires_agreement_id": _text(32, visible=True),
        },
        allOf=[
            {
                "description": "exactly one requester: domain or organization",
                "oneOf": [{"required": ["domain"]}, {"required": ["organization"]}],
            },
            {
                "description": "exactly one scope: series or category",
                "oneOf": [{"required": ["series"]}, {"required": ["category"]}],
            },
        ],
    ),
}

_ID_IN_BODY = "$response.body#/id"
_DOWNLOAD_PARAMETERS = [
    *_path_id("report_id"),
    query(
        "version",
        {"type": "integer", "minimum": 1, "maximum": 999_999_999},
        "a version number; the latest live version without it",
    ),
]
# 429: the caller's download budget is spent (Retry-After says for how long).
_DOWNLOAD_ERRORS = errors(400, 401, 404, 428, 429, 500)
_FILENAME = {"Content-Disposition": {"required": True, "schema": _STR}}
_DECIDED = _because(409, "the request was already decided")
_NO_AGREEMENT = _because(409, "terms_agreement_id names no published agreement")
_FIRST_REQUEST = "$response.body#/items/0/id"

PATHS: dict[str, Any] = {
    "/reports": {
        "get": {
            "operationId": "list_reports",
            "summary": "Listed reports visible to the caller (hidden ones only for staff)",
            "security": OPTIONAL_AUTH,
            "parameters": [
                query("category", _CATEGORY),
                query("series", {**_STR, "pattern": _NO_NUL}, "the series' slug, any case"),
                query(
                    "framework",
                    {**_STR, "pattern": _NO_NUL},
                    "a framework it covers, as people type it: ISO 27001, 27001, iso27001, SOC 2",
                ),
                query("q", {**_STR, "pattern": _NO_NUL}, "words in title, description, issuer"),
                query("status", _STATUS),
            ],
            "responses": {
                **ok(
                    200,
                    "visible reports",
                    "ReportList",
                    links={"first": link("get_report", report_id="$response.body#/items/0/id")},
                ),
                **errors(400, 401),
            },
        },
        "post": {
            "operationId": "create_report",
            "summary": "Create a report (staff): a draft, restricted unless said otherwise",
            "requestBody": _json_body("ReportInput"),
            "responses": {
                **ok(
                    201,
                    "created",
                    "Report",
                    links={
                        "report": link("get_report", report_id=_ID_IN_BODY),
                        "upload": link("upload_report_version", report_id=_ID_IN_BODY),
                        "set_state": link("set_report_state", report_id=_ID_IN_BODY),
                        "set_terms": link("set_report_terms", report_id=_ID_IN_BODY),
                        "download": link("download_report", report_id=_ID_IN_BODY),
                    },
                ),
                **errors(400, 401, 403),
                **_NO_AGREEMENT,
            },
        },
    },
    "/reports/{report_id}": {
        "get": {
            "operationId": "get_report",
            "summary": "One report and its versions",
            "security": OPTIONAL_AUTH,
            "parameters": _path_id("report_id"),
            "responses": {
                **ok(
                    200,
                    "the report",
                    "Report",
                    links={"download": link("download_report", report_id=_ID_IN_BODY)},
                ),
                **errors(401, 404),
            },
        },
        "patch": {
            "operationId": "update_report",
            "summary": "Change a report's details (staff); one history entry names the fields "
            "changed, from and to; versions stay as they are",
            "parameters": _path_id("report_id"),
            "requestBody": _json_body("ReportPatch"),
            "responses": {
                **ok(
                    200,
                    "the report",
                    "Report",
                    links={"history": link("get_report_history", report_id=_ID_IN_BODY)},
                ),
                **_because(
                    400,
                    "no field, an unknown field, or a bad value (an unknown category or series, "
                    "a period ending before it starts, valid_until before issued_on, a bridged "
                    "report that does not exist)",
                ),
                **errors(401),
                **_because(403, "the caller sees the report but may not edit it"),
                **_because(404, "no such report, or not visible to the caller"),
            },
        },
    },
    "/reports/{report_id}/history": {
        "get": {
            "operationId": "get_report_history",
            "summary": "A report's edits, state and terms changes, newest first (staff)",
            "parameters": _path_id("report_id"),
            "responses": {
                **ok(200, "the changes", "ReportHistory"),
                **errors(401),
                **_because(403, "the caller sees the report but is not staff"),
                **_because(404, "no such report, or not visible to the caller"),
            },
        }
    },
    "/reports/{report_id}/access": {
        "get": {
            "operationId": "get_report_access",
            "summary": "Who holds access to a report (live grants covering it, approved "
            "requests, active acceptances of its terms) and its recent downloads (staff)",
            "parameters": _path_id("report_id"),
            "responses": {
                **ok(200, "the holders", "ReportAccess"),
                **errors(401),
                **_because(403, "the caller sees the report but is not staff"),
                **_because(404, "no such report, or not visible to the caller"),
            },
        }
    },
    "/reports/{report_id}/versions": {
        "post": {
            "operationId": "upload_report_version",
            "summary": "Upload the next version (staff): multipart field `file`, a PDF",
            "parameters": _path_id("report_id"),
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {
                                "file": {
                                    "type": "string",
                                    "format": "binary",
                                    "description": "a PDF that readers open: repaired damage "
                                    "is accepted (and listed in pdf_warnings); refused with "
                                    "the reason when it is not a PDF, cannot be read, needs "
                                    "a password or has no pages",
                                },
                                "release_notes": {
                                    **_text(RELEASE_NOTES_LIMIT),
                                    "description": "what changed in this version",
                                },
                            },
                        },
                        "encoding": {"file": {"contentType": "application/pdf"}},
                    }
                },
            },
            "responses": {
                **ok(
                    201,
                    "stored",
                    "ReportVersion",
                    links={
                        "download": link(
                            "download_report",
                            report_id="$request.path.report_id",
                            version="$response.body#/number",
                        ),
                        "report": link("get_report", report_id="$request.path.report_id"),
                    },
                ),
                # 409: another upload took the same version number at the same moment.
                **errors(400, 401, 403, 404, 409, 413, 415, 422),
                **UPLOAD_ERRORS,
            },
        }
    },
    "/reports/{report_id}/versions/{number}/original": {
        "get": {
            "operationId": "download_report_original",
            "summary": "A version's file exactly as it was uploaded (staff; 404 for anyone "
            "else), recorded in the audit trail; counted in the caller's one download budget",
            "parameters": [
                *_path_id("report_id"),
                {
                    "name": "number",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 999_999_999},
                },
            ],
            "responses": {
                "200": {
                    "description": "the uploaded bytes, unstamped",
                    "headers": {
                        **_FILENAME,
                        "X-Artifact-SHA256": {
                            "description": "the SHA-256 recorded at upload",
                            "required": True,
                            "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                        },
                    },
                    "content": {
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}}
                    },
                },
                **errors(401, 404, 429, 500),
            },
        }
    },
    "/reports/{report_id}/state": {
        "post": {
            "operationId": "set_report_state",
            "summary": "Publish, mark outdated, retire, or return to draft (staff)",
            "parameters": _path_id("report_id"),
            "requestBody": _json_body("ReportStateInput"),
            "responses": {
                **ok(200, "the report", "Report"),
                **errors(400, 401, 403, 404),
                **_because(409, "publishing (or marking outdated) a report without a version"),
            },
        }
    },
    "/reports/{report_id}/terms": {
        "post": {
            "operationId": "set_report_terms",
            "summary": "Require acceptance of an agreement before downloads, or none (staff)",
            "parameters": _path_id("report_id"),
            "requestBody": _json_body("ReportTermsInput"),
            "responses": {
                **ok(200, "the report", "Report"),
                **errors(400, 401, 403, 404),
                **_NO_AGREEMENT,
            },
        }
    },
    "/reports/{report_id}/download": {
        "get": {
            "operationId": "download_report",
            "summary": "A stamped copy of the latest version (`?version=N` for another); "
            "counts against the caller's download budget",
            "security": OPTIONAL_AUTH,
            "parameters": _DOWNLOAD_PARAMETERS,
            "responses": {
                "200": {
                    "description": "the PDF with a cover page and a watermark on every page, "
                    "without active content (JavaScript, actions but links, embedded files, "
                    "XFA, RichMedia), named '<title> <period> v<number>.pdf' (never the "
                    "uploaded file's name)",
                    "headers": {
                        **_FILENAME,
                        "X-Artifact-Receipt": {
                            "description": "this copy's receipt id, in the audit trail",
                            "required": True,
                            "schema": _STR,
                        },
                    },
                    "content": {
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}}
                    },
                },
                **_DOWNLOAD_ERRORS,
            },
        },
        "head": {
            "operationId": "check_report_download",
            "summary": "Whether the download would be served, and its headers (nothing is "
            "stamped; the access is recorded and counts in the download budget like a GET)",
            "security": OPTIONAL_AUTH,
            "parameters": _DOWNLOAD_PARAMETERS,
            "responses": {
                "200": {
                    "description": "the headers; Content-Length is the stored file's size",
                    "headers": _FILENAME,
                },
                **_DOWNLOAD_ERRORS,
            },
        },
    },
    "/grants": {
        "post": {
            "operationId": "create_grant",
            "summary": "Grant a user or organisation a report, series or category (staff)",
            "requestBody": _json_body("GrantInput"),
            "responses": {
                **ok(
                    201,
                    "the grant",
                    "Grant",
                    links={"report": link("get_report", report_id="$response.body#/report_id")},
                ),
                **errors(400, 401, 403, 404),
                **_because(409, "no such user or organisation"),
            },
        },
        "get": {
            "operationId": "list_grants",
            "summary": "Live grants (staff), newest first; with `report_id`, those covering "
            "that report (for it, its series or its category)",
            "parameters": [query("report_id", _ID)],
            "responses": {
                **ok(
                    200,
                    "the grants",
                    "GrantList",
                    links={"revoke": link("revoke_grant", grant_id="$response.body#/items/0/id")},
                ),
                **errors(400, 401, 403, 404),
            },
        },
    },
    "/grants/{grant_id}": {
        "delete": {
            "operationId": "revoke_grant",
            "summary": "Revoke a grant (staff): access it gave ends at once",
            "parameters": _path_id("grant_id"),
            "responses": {**ok(204, "revoked"), **errors(400, 401, 403, 404)},
        }
    },
    "/grants/{grant_id}/revoke": {
        "post": {
            "operationId": "revoke_grant_by_post",
            "summary": "Revoke a grant (staff), for clients that cannot send DELETE",
            "parameters": _path_id("grant_id"),
            "responses": {**ok(204, "revoked"), **errors(400, 401, 403, 404)},
        }
    },
    "/access-requests": {
        "get": {
            "operationId": "list_access_requests",
            "summary": "Access requests in one state (staff), oldest first; with `mine=1`, "
            "the caller's own requests in every state (or `state`), newest first",
            "parameters": [
                query(
                    "state",
                    _REQUEST_STATE,
                    "pending unless given (all states with `mine=1` unless given)",
                ),
                query("mine", {"type": "integer", "enum": [0, 1], "default": 0}),
            ],
            "responses": {
                **ok(
                    200,
                    "the requests",
                    "AccessRequestList",
                    links={
                        "approve": link("approve_access_request", request_id=_FIRST_REQUEST),
                        "deny": link("deny_access_request", request_id=_FIRST_REQUEST),
                    },
                ),
                **errors(400, 401, 403),
            },
        },
        "post": {
            "operationId": "create_access_request",
            "summary": "Request access to a report, series or category; a staff rule may "
            "approve it at once (`state` approved, `auto_approved` true)",
            "requestBody": _json_body("AccessRequestInput"),
            "responses": {
                **ok(
                    201,
                    "the request",
                    "AccessRequest",
                    links={
                        "approve": link("approve_access_request", request_id=_ID_IN_BODY),
                        "deny": link("deny_access_request", request_id=_ID_IN_BODY),
                    },
                ),
                **errors(400, 401, 403, 404),
                **_because(409, "the same request is pending: `existing_id` names it"),
            },
        },
    },
    "/approval-rules": {
        "get": {
            "operationId": "list_approval_rules",
            "summary": "Auto-approval rules in force (staff)",
            "responses": {**ok(200, "the rules", "ApprovalRuleList"), **errors(400, 401, 403)},
        },
        "post": {
            "operationId": "create_approval_rule",
            "summary": "Approve at once the requests from a domain or organisation for a "
            "series or category (staff)",
            "requestBody": _json_body("ApprovalRuleInput"),
            "responses": {
                **ok(201, "the rule", "ApprovalRule"),
                **errors(400, 401, 403),
                **_because(409, "no such organisation or agreement"),
            },
        },
    },
    "/approval-rules/{rule_id}": {
        "delete": {
            "operationId": "delete_approval_rule",
            "summary": "Stop a rule (staff); requests it approved stay approved",
            "parameters": _path_id("rule_id"),
            "responses": {**ok(204, "stopped"), **errors(400, 401, 403, 404)},
        }
    },
    "/access-requests/{request_id}/approve": {
        "post": {
            "operationId": "approve_access_request",
            "summary": "Approve (staff): a grant to the requester, until `expires_at` if given",
            "parameters": _path_id("request_id"),
            "requestBody": _json_body("AccessDecisionInput", required=False),
            "responses": {
                **ok(
                    200,
                    "decided",
                    "AccessRequest",
                    links={"report": link("get_report", report_id="$response.body#/report_id")},
                ),
                **errors(400, 401, 403, 404),
                **_DECIDED,
            },
        }
    },
    "/access-requests/{request_id}/deny": {
        "post": {
            "operationId": "deny_access_request",
            "summary": "Deny (staff)",
            "parameters": _path_id("request_id"),
            "responses": {
                **ok(200, "decided", "AccessRequest"),
                **errors(400, 401, 403, 404),
                **_DECIDED,
            },
        }
    },
    **{
        f"/{kind}": {
            "get": {
                "operationId": f"list_{kind}",
                "summary": summary,
                "security": OPTIONAL_AUTH,
                "responses": {**ok(200, f"the {kind}, in order", "TaxonomyList"), **errors(401)},
            },
            "post": {
                "operationId": f"create_{singular}",
                "summary": f"A new {singular} (staff)",
                "requestBody": _json_body(input_schema),
                "responses": {
                    **ok(201, f"the {singular}", "TaxonomyEntry"),
                    **errors(400, 401, 403),
                    **_because(409, "the slug is taken"),
                },
            },
        }
        for kind, singular, input_schema, summary in (
            ("categories", "category", "CategoryInput", "The catalog's categories"),
            (
                "series",
                "series",
                "SeriesInput",
                "The series: all of them for signed-in callers, for visitors those of the reports "
                "listed to them",
            ),
        )
    },
    **{
        f"/{kind}/{{{singular}_id}}": {
            "patch": {
                "operationId": f"update_{singular}",
                "summary": f"Rename, describe or move a {singular} (staff); the slug stays",
                "parameters": _path_id(f"{singular}_id"),
                "requestBody": _json_body("TaxonomyPatch"),
                "responses": {
                    **ok(200, f"the {singular}", "TaxonomyEntry"),
                    **errors(400, 401, 403, 404),
                },
            }
        }
        for kind, singular in (("categories", "category"), ("series", "series"))
    },
}
