"""The edge of every request, before authentication and before anything reaches the database.

- Bodies that are not uploads are small: a form past ``MAX_FORM_BODY`` or a JSON body past
  ``MAX_JSON_BODY`` is answered 413 before it is read (a body without a length is cut off at the
  same size while it is read). Multipart uploads keep ``MAX_CONTENT_LENGTH``.
- No control characters: NUL and the other C0 controls (and DEL) in the path, a query parameter,
  a form field or a JSON string are a 400 naming the field. Tab, line feed and carriage return
  are left to each field's own rules (a textarea sends CR LF), everywhere but the path.
- JSON nested deeper than ``MAX_JSON_DEPTH`` (or deeper than the parser can go) is a 400.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from artifact.kernel.errors import ValidationFailed

MAX_JSON_DEPTH = 64
F = TypeVar("F", bound=Callable[..., Any])


def large_body(limit: int) -> Callable[[F], F]:
    """Let one view take a larger form or JSON body (an agreement's full text)."""

    def mark(view: F) -> F:
        view.body_limit = limit  # type: ignore[attr-defined]
        return view

    return mark


_CONTROL_IN_PATH = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NAMES = {0: "NUL", 0x7F: "DEL"}


def _describe(char: str) -> str:
    code = ord(char)
    return _NAMES.get(code, f"U+{code:04X}")


def _refuse(where: str, char: str) -> ValidationFailed:
    return ValidationFailed(
        f"{where} contains a control character ({_describe(char)}); remove it and try again",
        field=where,
    )


def _check_text(where: str, value: str) -> None:
    match = _CONTROL_IN_TEXT.search(value)
    if match:
        raise _refuse(where, match.group())


def _check_json(value: Any, where: str, depth: int = 0) -> None:
    if depth > MAX_JSON_DEPTH:
        raise ValidationFailed(f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        _check_text(where, value)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, where, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text("a field name", key)
            _check_json(item, key if depth == 0 else where, depth + 1)


def _limit_body() -> None:
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        return  # uploads: MAX_CONTENT_LENGTH and the form part limits apply
    config = current_app.config
    limit = config["MAX_JSON_BODY"] if request.is_json else config["MAX_FORM_BODY"]
    rule = request.url_rule
    view = current_app.view_functions.get(rule.endpoint) if rule is not None else None
    limit = max(limit, getattr(view, "body_limit", 0))
    length = request.content_length
    if length is not None and length > limit:
        kind = "JSON body" if request.is_json else "request body"
        raise RequestEntityTooLarge(f"The {kind} is larger than {limit // 1024} kB.")
    if length is None and request.environ.get("wsgi.input_terminated"):
        # A body sent without a length (chunked): read at most one byte past the limit, so a
        # long body is refused instead of being silently cut off where a parser stops.
        data = request.environ["wsgi.input"].read(limit + 1)
        if len(data) > limit:
            raise RequestEntityTooLarge(f"The request body is larger than {limit // 1024} kB.")
        request.environ["wsgi.input"] = io.BytesIO(data)
        request.environ["CONTENT_LENGTH"] = str(len(data))
        request.environ.pop("wsgi.input_terminated", None)
    request.max_content_length = limit


def _check_path_and_query() -> None:
    match = _CONTROL_IN_PATH.search(request.path)
    if match:
        raise _refuse("the address", match.group())
    for key, value in request.args.items(multi=True):
        _check_text("a query parameter name", key)
        _check_text(key, value)


def _check_body() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.is_json:
        # Parsed once here and cached for the operation (which reads it the same way); too
        # deep a body is a 400 from the JSON loader itself (``_json_loads_guarded``), and
        # malformed JSON is left to the operation's own 400.
        body = request.get_json(silent=True)
        if body is not None:
            _check_json(body, "the body")
        return
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            if key is None:  # a part whose name could not be read: no operation asks for it
                continue
            _check_text("a form field name", key)
            _check_text(key, value)


def guard_input() -> None:
    _limit_body()
    _check_path_and_query()
    _check_body()


def _json_loads_guarded(app: Flask) -> None:
    """Flask's JSON loader turns a body nested beyond the parser's reach into a 400, not a
    RecursionError (a 500), wherever an operation reads JSON."""
    provider = app.json
    original = provider.loads

    def loads(s: str | bytes, **kwargs: Any) -> Any:
        try:
            return original(s, **kwargs)
        except RecursionError:
            raise BadRequest(
                f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels."
            ) from None

    provider.loads = loads  # type: ignore[method-assign]


def init_app(app: Flask) -> None:
    app.config.setdefault("MAX_FORM_BODY", 64 * 1024)
    app.config.setdefault("MAX_JSON_BODY", 256 * 1024)
    _json_loads_guarded(app)
    # ``guard_input`` runs from web/security.py, right after the request gets its id.
