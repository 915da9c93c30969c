"""Building blocks shared by the parts of the OpenAPI document."""

from __future__ import annotations

from typing import Any

ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
# What each error status means in this API (web/errors.py maps the domain errors to them).
ERROR_DESCRIPTIONS = {
    400: "bad input (the message says what is wrong)",
    401: "not signed in, or the Bearer token is not valid",
    403: "signed in, but not allowed",
    404: "not found, or not visible to the caller",
    405: "method not allowed",
    409: "conflicts with the current state (the message says which)",
    413: "too large",
    415: "not an accepted file type",
    422: "a damaged or hostile file",
    428: "an agreement must be accepted first (agreement_id and version say which)",
    429: "too many requests; retry after Retry-After seconds",
    500: "an integrity check failed or the server erred (the message has a request id)",
}
_RETRY_AFTER = {
    "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}
}
# An operation visitors may call: no credentials, or a valid Bearer token.
OPTIONAL_AUTH: list[dict[str, list[str]]] = [{}, {"bearer": []}]
# What every file upload (report versions, evidence) may also answer: a storage quota, a file
# the virus scanner matched, a scanner that is down (catalog/services/upload_guard.py).
UPLOAD_ERRORS: dict[str, Any] = {
    "413": {
        "description": "larger than the configured limit, or past a storage quota (all "
        "uploads or the caller's; code quota_exceeded): nothing was stored",
        "content": ERROR_CONTENT,
    },
    "422": {
        "description": "a damaged or hostile file, or one the virus scanner matched (the "
        "message names the signature; recorded as upload.malware): nothing was stored",
        "content": ERROR_CONTENT,
    },
    "503": {
        "description": "virus scanning is on and the scanner does not answer: nothing was "
        "stored; try again later",
        "content": ERROR_CONTENT,
    },
}

# Something other than white space as Python reads it (str.split, str.strip). ECMA's ``\s``
# (JSON Schema's) differs only in U+001C..U+001F and U+0085, which are spelled out, and in
# U+FEFF, which Python does not count as white space.
VISIBLE = r"(?:[^\s\x00-\x1f\x7f-\x9f]|\ufeff)"
# What the edge of the app (web/input_guard.py) lets through: no C0 control character but tab,
# line feed and carriage return, and no DEL, in any text; none at all in a path segment.
TEXT_PATTERN_EDGE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
PATH_PATTERN = r"^[^\x00-\x1f\x7f]+$"
# The bidirectional embedding, override and isolate characters no text may hold (kernel/text).
BIDI = r"\u202a-\u202e\u2066-\u2069"
# Single-line text as the services check it (kernel/text.one_line): no control character at
# all (no tab or line break either) and no bidirectional control; runs of spaces become one
# space and the result must not be empty.
_LINE_CONTROLS = rf"\x00-\x1f\x7f-\x9f{BIDI}"
LINE_PATTERN = rf"^[^{_LINE_CONTROLS}]*(?:[^\s{_LINE_CONTROLS}]|\ufeff)[^{_LINE_CONTROLS}]*$"
# Several lines as the services check them (kernel/text.check_text, multiline): tab, line feed
# and carriage return are the only control characters; no bidirectional control.
MULTILINE_PATTERN = rf"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{BIDI}]*$"
# Multi-line text: tab, line feed and carriage return are the only control characters allowed,
# and something other than white space must remain.
_TEXT_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
TEXT_PATTERN = rf"^[^{_TEXT_CONTROLS}]*(?:[^\s\x00-\x1f\x7f\x85]|\ufeff)[^{_TEXT_CONTROLS}]*$"


def errors(*statuses: int) -> dict[str, Any]:
    """Responses for ``statuses``, each with the common ``{"error": {...}}`` body."""
    responses: dict[str, Any] = {}
    for status in statuses:
        response: dict[str, Any] = {
            "description": ERROR_DESCRIPTIONS.get(status, "error"),
            "content": ERROR_CONTENT,
        }
        if status == 429:
            response["headers"] = _RETRY_AFTER
        responses[str(status)] = response
    return responses


def ok(
    status: int,
    description: str,
    schema: str | None = None,
    *,
    links: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A success response, with a JSON body of the named component schema if given, and the
    operations its answer leads to (``links``)."""
    body: dict[str, Any] = {"description": description}
    if schema:
        body["content"] = {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
        }
    if links:
        body["links"] = links
    return {str(status): body}


def ref(schema: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{schema}"}


def json_response(
    description: str, schema: dict[str, Any], *, links: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A JSON response object (not keyed by status) with an inline or referenced schema."""
    body: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if links:
        body["links"] = links
    return body


def json_body(
    properties: dict[str, Any], required: list[str] | None = None, *, body_required: bool = True
) -> dict[str, Any]:
    """A JSON object request body. Unknown members are ignored by the server, so they are
    allowed here too."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return {"required": body_required, "content": {"application/json": {"schema": schema}}}


def path_id(name: str, description: str | None = None) -> dict[str, Any]:
    """A path parameter holding an opaque id."""
    parameter: dict[str, Any] = {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    if description:
        parameter["description"] = description
    return parameter


def query(name: str, schema: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    """An optional query parameter."""
    parameter: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


def link(operation_id: str, description: str | None = None, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link to ``operation_id``, its parameters given as runtime expressions
    (``$response.body#/id``, ``$request.path.report_id``)."""
    found: dict[str, Any] = {"operationId": operation_id, "parameters": parameters}
    if description:
        found["description"] = description
    return found


def line(max_length: int, description: str | None = None) -> dict[str, Any]:
    """A single line of text as the services accept it (see ``LINE_PATTERN``)."""
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length, "pattern": LINE_PATTERN}
    if description:
        schema["description"] = description
    return schema


def text(max_length: int, description: str | None = None) -> dict[str, Any]:
    """Several lines of text as the services accept them (see ``TEXT_PATTERN``)."""
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length, "pattern": TEXT_PATTERN}
    if description:
        schema["description"] = description
    return schema


# An e-mail domain as the API takes it: ASCII labels (an internationalised name in its punycode
# "xn--" form), at least two, the last a top-level domain; a leading "@" and a trailing dot are
# allowed and dropped.
DOMAIN_PATTERN = (
    r"^@?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})\.?$"
)
