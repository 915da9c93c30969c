"""Per-request plumbing: who is calling (session or Bearer token), CSRF, request id, headers,
and the audit checkpoint policy of the request's unit of work."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import Flask, Response, current_app, g, request, session
from flask_login import current_user

from artifact.audit.services import signing
from artifact.extensions import csrf, db, login_manager
from artifact.identity.services import sessions, tokens
from artifact.kernel.caller import Caller
from artifact.models import User

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# No inline script or style anywhere, so no nonces are needed; inline SVG (the QR code) is
# markup, not script.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def current_caller() -> Caller:
    """Who is calling in this request: the signed-in user (session or Bearer token) or a
    visitor, with the client address and the session (or token) reference."""
    if current_user.is_authenticated:
        return Caller.of_user(current_user, ip_address=request.remote_addr,
                              session_ref=g.get("session_ref"))
    return Caller.anonymous(ip_address=request.remote_addr)


def current_session_id() -> str | None:
    """The server-side session of this request (None for token calls and visitors)."""
    if not current_user.is_authenticated:  # also runs the user loader, which sets it
        return None
    return g.get("session_row_id")


@login_manager.user_loader
def _load_user_from_session(user_id: str) -> User | None:
    if bearer_token() is not None:
        return None  # an API call with a token is judged by the token alone
    config = current_app.config
    row = sessions.resolve(
        db.session,
        session.get("sid"),
        idle=config["SESSION_IDLE_TIMEOUT"],
        absolute=config["SESSION_ABSOLUTE_TIMEOUT"],
        touch_after=timedelta(seconds=config["SESSION_TOUCH_SECONDS"]),
    )
    if row is None or row.user_id != user_id:
        session.clear()
        return None
    g.session_row_id = row.id
    g.session_ref = row.id
    return row.user


@login_manager.request_loader
def _load_user_from_token(req: Any) -> User | None:
    raw = bearer_token()
    if raw is None:
        return None
    user = tokens.resolve(db.session, raw)
    if user is not None:
        g.auth_method = "token"
        g.session_ref = "token:" + tokens.token_hash(raw)[:16]
    return user


def _assign_request_id() -> None:
    g.request_id = uuid.uuid4().hex[:16]


def _configure_audit_signing() -> None:
    """Events appended in this request sign checkpoints as the settings say (read per request,
    so a changed setting applies to the next one)."""
    signing.configure(db.session, signing.CheckpointPolicy.from_config(current_app.config))


def _check_csrf() -> None:
    # Browsers cannot attach an Authorization header cross-site without CORS, which we never
    # grant, so Bearer calls carry no CSRF token; everything else does.
    if request.method in UNSAFE_METHODS and bearer_token() is None:
        csrf.protect()


def _set_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), "
                       "payment=(), usb=(), interest-cohort=()")
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
    app.before_request(_configure_audit_signing)  # before anything that may append an event
    app.before_request(_check_csrf)
    app.after_request(_set_headers)
