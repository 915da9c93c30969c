"""One place that maps domain errors and HTTP errors to responses: JSON for the API, pages
otherwise. Nothing here commits: the request's owner (web/transaction.py) rolls back a 4xx or
5xx answer and keeps its durable records. The 500 handler shows a request id, never a
traceback."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from limits.errors import StorageError
from werkzeug.exceptions import HTTPException, SecurityError

from artifact.extensions import db
from artifact.infra.storage.errors import StorageUnavailable
from artifact.kernel.errors import (
    Conflict,
    DomainError,
    IntegrityFailure,
    InvalidFile,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    TermsRequired,
    Throttled,
    TooLarge,
    Unauthenticated,
    Unavailable,
    Unprocessable,
    UnsupportedType,
    ValidationFailed,
)
from artifact.web import recorders

STATUS_FOR: dict[type[DomainError], int] = {
    NotFound: 404,
    Unauthenticated: 401,
    PermissionDenied: 403,
    ValidationFailed: 400,
    Conflict: 409,
    TermsRequired: 428,
    TooLarge: 413,
    QuotaExceeded: 413,
    UnsupportedType: 415,
    InvalidFile: 422,
    Unprocessable: 422,
    IntegrityFailure: 500,
    Throttled: 429,
    Unavailable: 503,
}
CODE_FOR_STATUS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    428: "terms_required",
    429: "throttled",
    500: "internal_error",
    503: "unavailable",
}
TITLE_FOR_STATUS = {
    400: "Bad request",
    401: "Sign in required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    415: "Unsupported file type",
    422: "Invalid file",
    428: "Terms must be accepted",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Service unavailable",
}


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def error_response(status: int, code: str, message: str, **extra: Any) -> Any:
    if wants_json():
        body: dict[str, Any] = {"code": code, "message": message, **extra}
        response = jsonify({"error": body})
        response.status_code = status
        return response
    if status == 401:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    html = render_template(
        "errors/error.html",
        status=status,
        title=TITLE_FOR_STATUS.get(status, "Error"),
        message=message,
        request_id=g.get("request_id"),
        extra=extra,
    )
    return html, status


def _domain_error(error: DomainError) -> Any:
    status = STATUS_FOR.get(type(error), 400)
    message = "Not found." if isinstance(error, NotFound) else error.message
    if isinstance(error, NotFound | PermissionDenied):
        recorders.report_denial(status, type(error).__name__)
    response = error_response(status, error.code, message, **_public_details(error))
    if isinstance(error, Throttled):
        g.retry_after = str(error.details.get("retry_after", 1))
        response = _with_header(response, "Retry-After", g.retry_after)
    return response


def _public_details(error: DomainError) -> dict[str, Any]:
    return {k: v for k, v in error.details.items() if isinstance(v, str | int | float | bool)}


def _csrf_error(error: CSRFError) -> Any:
    return error_response(
        400,
        "csrf_failed",
        "The form expired or was not sent from this site; reload the page and try again.",
    )


def _http_error(error: HTTPException) -> Any:
    status = error.code or 500
    if isinstance(error, SecurityError):
        # An untrusted Host header: no URL can be built for it, so no page either.
        return "Bad request: untrusted host.", 400, {"Content-Type": "text/plain; charset=utf-8"}
    if status >= 500:
        return _server_error(error)
    response = error_response(
        status,
        CODE_FOR_STATUS.get(status, "error"),
        error.description or TITLE_FOR_STATUS.get(status, "Error"),
    )
    if status == 405 and error.get_response().headers.get("Allow"):
        response = _with_header(response, "Allow", error.get_response().headers["Allow"])
    if status == 429:
        response = _with_header(response, "Retry-After", str(_limiter_retry_after()))
    return response


def _limiter_retry_after() -> int:
    import math
    import time

    from artifact.extensions import limiter

    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))


def _limit_store_down(error: Exception) -> Any:
    """The rate-limit store (Redis) does not answer: limited actions (sign-in, reset mail,
    downloads) cannot be counted, so they are refused rather than let through uncounted."""
    from flask import current_app

    current_app.logger.error("rate-limit storage unreachable: %s", type(error).__name__)
    response = error_response(
        503,
        "unavailable",
        "The rate-limit store is not reachable, so this action cannot be counted and is "
        "refused for now. Try again in a minute; if it persists, tell the administrator.",
    )
    return _with_header(response, "Retry-After", "60")


def _store_down(error: Exception) -> Any:
    """The object store or the key token does not answer: nothing is stored or served until it
    does (a 503 that says so, never a 500)."""
    from flask import current_app

    current_app.logger.error("blob store or key token unreachable: %s", error)
    db.session.rollback()
    response = error_response(
        503,
        "unavailable",
        "The file store is not reachable right now, so nothing was stored or served. Try "
        "again in a minute; if it persists, tell the administrator.",
    )
    return _with_header(response, "Retry-After", "30")


def _with_header(response: Any, name: str, value: str) -> Any:
    from flask import make_response

    response = make_response(response)
    response.headers[name] = value
    return response


def _server_error(error: Exception) -> Any:
    # The session may be unusable (a failed flush) and the page below may read through it. A
    # plain rollback: the owner (web/transaction.py) still sees a 500, rolls back, and keeps
    # the request's durable records.
    db.session.rollback()
    from flask import current_app

    current_app.logger.exception("unhandled error, request id %s", g.get("request_id"))
    return error_response(
        500,
        "internal_error",
        f"An unexpected error occurred. Request id: {g.get('request_id')}",
        request_id=g.get("request_id"),
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(StorageError, _limit_store_down)
    app.register_error_handler(StorageUnavailable, _store_down)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _server_error)
