"""The catalog's part of the OpenAPI document.

The request schemas (``*Input``) are also what ``catalog/api.py`` checks request bodies
against, so what the document promises and what the API accepts cannot drift apart."""

from __future__ import annotations

from typing import Any

from artifact.catalog.services.reports import RELEASE_NOTES_LIMIT
from artifact.web.openapi_parts import OPTIONAL_AUTH, errors, link, ok, query, ref

# Ids are 32 lowercase hex digits (models.base.new_id); anything else names nothing.
ID_PATTERN = "^[0-9a-f]{32}$"
_AGREEMENT_OR_NONE = "^([0-9a-f]{32})?$"
# The white space the catalog's services collapse and strip (Python's str.isspace), spelled
# out so that every regex engine agrees on it; control characters but tab, line feed and
# carriage return never get past the edge of the app (web/input_guard.py).
_SPACE = "\\t-\\r\\x1c- \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
_CONTROLS = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f"
_NO_NUL = f"^[^{_CONTROLS}]*$"
_VISIBLE = f"^[^{_CONTROLS}]*[^{_CONTROLS}{_SPACE}][^{_CONTROLS}]*$"
# What each pattern means, for error messages.
PATTERN_MEANINGS = {
    ID_PATTERN: "must be an id (32 hexadecimal digits)",
    _AGREEMENT_OR_NONE: "must be an agreement id (32 hexadecimal digits), empty or null",
    _NO_NUL: "must not contain control characters",
    _VISIBLE: "must not be blank, nor contain control characters",
}

_STR = {"type": "string"}
_ID = {"type": "string", "pattern": ID_PATTERN}
_NULLABLE_STR = {"type": ["string", "null"]}
_DATE = {"type": ["string", "null"], "format": "date"}
_DATE_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}
_CATEGORIES = ["certifications", "reports", "regulations", "agreements"]
_CATEGORY = {"type": "string", "enum": _CATEGORIES}
_NULLABLE_CATEGORY = {"type": ["string", "null"], "enum": [*_CATEGORIES, None]}
_STATE = {"type": "string", "enum": ["draft", "published", "outdated", "retired"]}
_VISIBILITY = {"type": "string", "enum": ["public", "customers", "restricted"]}
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
            "description": _STR,
            "state": {**_STATE, "description": "published, once the period ends, reads outdated"},
            "visibility": _VISIBILITY,
            "terms_agreement_id": {**_NULLABLE_STR, "description": "to accept before downloads"},
            "needs_terms": {
                "type": "boolean",
                "description": "the caller must accept terms_agreement_id first",
            },
            "versions": {
                "type": "array",
                "description": "the live versions, oldest first (not in lists)",
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
    "AccessRequest": _object(
        {
            "id": _ID,
            "state": _REQUEST_STATE,
            "report_id": _NULLABLE_STR,
            "series": _NULLABLE_STR,
            "category": _NULLABLE_CATEGORY,
            "user": {**_NULLABLE_STR, "description": "the requester's e-mail"},
            "created_at": _DATE_TIME,
            "expires_at": {**_NULLABLE_DATE_TIME, "description": "when an approval's grant ends"},
        }
    ),
    "AccessRequestList": _object(
        {"items": {"type": "array", "items": ref("AccessRequest")}, "total": _COUNT}
    ),
    "ReportInput": _input(
        {
            "title": _text(200, visible=True),
            "category": _CATEGORY,
            "series": _text(80),
            "issuer": _text(200),
            "product": _text(200),
            "visibility": {**_VISIBILITY, "default": "restricted"},
            "frameworks": {"type": "array", "maxItems": 50, "items": _text(80)},
            "period_start": _DATE,
            "period_end": {**_DATE, "description": "not before period_start"},
            "terms_agreement_id": _TERMS,
            "description": _text(10000),
        },
        required=["title", "category"],
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
    "AccessRequestInput": _input({**_SCOPE, "message": _text(2000)}, allOf=[_ONE_SCOPE]),
    "AccessDecisionInput": _input({"expires_at": _EXPIRY}),
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
            "summary": "Reports visible to the caller",
            "security": OPTIONAL_AUTH,
            "parameters": [
                query("category", _CATEGORY),
                query("series", {**_STR, "pattern": _NO_NUL}, "the series, any case"),
                query("framework", {**_STR, "pattern": _NO_NUL}, "a framework it covers"),
                query("q", {**_STR, "pattern": _NO_NUL}, "words in title, description, issuer"),
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
            },
        }
    },
    "/reports/{report_id}/versions/{number}/original": {
        "get": {
            "operationId": "download_report_original",
            "summary": "A version's file exactly as it was uploaded (staff; 404 for anyone "
            "else), recorded in the audit trail",
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
                **errors(401, 404, 500),
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
            "stamped or recorded)",
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
        }
    },
    "/access-requests": {
        "get": {
            "operationId": "list_access_requests",
            "summary": "Access requests in one state (staff), oldest first",
            "parameters": [query("state", {**_REQUEST_STATE, "default": "pending"})],
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
            "summary": "Request access to a report, series or category (a pending request "
            "for the same is answered again, not filed twice)",
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
            },
        },
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
}
