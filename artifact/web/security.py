"""Per-request plumbing: who is calling (the caller of the request), CSRF, request id, headers.
The user loaders (session cookie or Bearer token) belong to the identity feature."""

from __future__ import annotations

import uuid

from flask import Flask, Response, current_app, g, request
from flask_login import current_user

from artifact.extensions import csrf, login_manager
from artifact.kernel.caller import Caller
from artifact.kernel.errors import Unauthenticated
from artifact.web import input_guard

API_PREFIX = "/api/v1"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# No inline script or style anywhere, so no nonces are needed; inline SVG (the QR code) is
# markup, not script.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def current_caller() -> Caller:
    """Who is calling in this request: the signed-in user (session or Bearer token) or a
    visitor, with the client address and the session (or token) reference. A page asks many
    times (every ``can`` in its templates): on a read (GET, HEAD) the answer is built once per
    signed-in user object and session; a write builds it at each call, as it may change the
    user it describes."""
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    ref = g.get("session_ref")
    if request.method in SAFE_METHODS:
        kept = g.get("_artifact_caller")
        if kept is not None and kept[0] is user and kept[1] == ref:
            return kept[2]  # type: ignore[no-any-return]
    if user.is_authenticated:
        caller = Caller.of_user(user, ip_address=request.remote_addr, session_ref=ref)
    else:
        caller = Caller.anonymous(ip_address=request.remote_addr)
    if request.method in SAFE_METHODS:
        g._artifact_caller = (user, ref, caller)
    return caller


def current_session_id() -> str | None:
    """The server-side session of this request (None for token calls and visitors)."""
    if not current_user.is_authenticated:  # also runs the user loader, which sets it
        return None
    return g.get("session_row_id")


def _assign_request_id() -> None:
    g.request_id = uuid.uuid4().hex[:16]


# Endpoints that take an unauthenticated POST without a CSRF token by design (RFC 8058
# one-click unsubscribe: a mail client posts it; the signed link is the authority).
_CSRF_EXEMPT: set[str] = set()


def exempt_from_csrf(endpoint: str) -> None:
    _CSRF_EXEMPT.add(endpoint)


def _check_csrf() -> None:
    # Browsers cannot attach an Authorization header cross-site without CORS, which we never
    # grant, so Bearer calls carry no CSRF token. On the JSON API, CSRF guards only writes that a
    # session cookie authenticates: a call with no credentials is not a cross-site form, and is
    # answered 401 by the operation it asks for. Pages check every write.
    if request.method not in UNSAFE_METHODS or bearer_token() is not None:
        return
    if request.routing_exception is not None:
        return  # no such page, or not with this method: the 404 or 405 says so, not CSRF
    if request.endpoint in _CSRF_EXEMPT:
        return
    if request.path.startswith(API_PREFIX) and not current_user.is_authenticated:
        return
    csrf.protect()


def _refuse_bad_tokens() -> None:
    """A Bearer token that names no live token (unknown, revoked, of a disabled user) is a 401
    on every API operation, public ones included, so a client learns that its token is bad
    instead of silently being served as a visitor."""
    if (
        request.path.startswith(API_PREFIX)
        and bearer_token() is not None
        and request.path != API_PREFIX + "/openapi.json"
        and not current_user.is_authenticated
    ):
        raise Unauthenticated("the API token is not valid (unknown, revoked or expired)")


def _set_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    headers.setdefault(
        "Permissions-Policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    )
    hsts = current_app.config.get("HSTS_SECONDS", 0)
    if hsts:
        headers.setdefault("Strict-Transport-Security", f"max-age={hsts}; includeSubDomains")
    headers["X-Request-Id"] = g.get("request_id", "")
    if current_user and current_user.is_authenticated:
        headers["Cache-Control"] = "no-store"
        headers.add("Vary", "Cookie")
    return response


def init_app(app: Flask) -> None:
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        # X-Forwarded-For/-Proto/-Host are believed only from this many proxy hops in front.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    login_manager.session_protection = None  # sessions are checked server-side instead
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    app.before_request(_assign_request_id)
    # Before anything reads the body or reaches the database: sizes and control characters.
    app.before_request(input_guard.guard_input)
    app.before_request(_refuse_bad_tokens)
    app.before_request(_check_csrf)
    app.after_request(_set_headers)
