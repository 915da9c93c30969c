"""A real HTTP server on loopback over a migrated, demo-seeded SQLite data directory.

Used by the browser tests (``tests/e2e``) and the backup/restore test, which need the app as a
browser or an operator sees it: a real socket, real threads, real cookies."""

from __future__ import annotations

import http.client
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pyotp
from flask import Flask
from werkzeug.serving import make_server

from artifact import create_app
from artifact.demo import seed as demo
from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR, Caller

# Demo e-mail addresses by the role a test asks for (see artifact/services/demo.py).
DEMO_EMAILS = {
    "admin": "admin@artifact.test",
    "staff": "staff@artifact.test",
    "auditor": "auditor@ledger-audit.test",
    "org_admin": "alice@acme-health.test",
    "customer": "bob@acme-health.test",
    "other_customer": "carol@globex.test",
}
_CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def app_config(data_dir: Path, **overrides: Any) -> dict[str, Any]:
    """A testing configuration on its own SQLite file in ``data_dir``, whose errors render as
    real pages (TESTING off) the way a browser sees them."""
    return {
        "ARTIFACT_ENV": "testing",
        "TESTING": False,
        "DATA_DIR": str(data_dir),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data_dir / 'artifact.db'}",
        **overrides,
    }


@dataclass
class SecondFactor:
    """A demo account's TOTP secret and recovery codes, kept by the tests that enrolled it."""

    secret: str
    recovery_codes: list[str]
    last_step: int = 0

    def code(self) -> str:
        """A code the server accepts now: the TOTP of a time step not used yet (the server
        refuses a replay and allows one step of drift), else a recovery code."""
        totp = pyotp.TOTP(self.secret)
        now_step = int(time.time() // totp.interval)
        step = max(now_step, self.last_step + 1)
        if step > now_step + 1:
            return self.recovery_codes.pop()
        self.last_step = step
        return totp.generate_otp(step)


# The second factors of the last seed, by e-mail; FACTORS_BY_DIR keeps each seed's own (several
# servers live in one test process, each with its own secrets), and a served server's are found
# by its URL, so a later seed cannot hand an earlier server the wrong secret.
SECOND_FACTORS: dict[str, SecondFactor] = {}
FACTORS_BY_DIR: dict[Path, dict[str, SecondFactor]] = {}
_FACTORS_BY_URL: dict[str, dict[str, SecondFactor]] = {}


def factors_for(base_url: str) -> dict[str, SecondFactor]:
    """The second factors of the server at ``base_url`` (the last seed's when unknown)."""
    return _FACTORS_BY_URL.get(base_url.rstrip("/"), SECOND_FACTORS)


def migrate_and_seed(data_dir: Path) -> dict[str, str]:
    """Migrate a fresh SQLite data directory, load the demo and enrol its staff and admins in
    TOTP (they may open no page without it); returns e-mail -> password."""
    from flask_migrate import upgrade

    data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(app_config(data_dir))
    with app.app_context():
        upgrade(revision="heads")
        made = demo.seed(db.session, OPERATOR, password_factory=lambda: secrets.token_urlsafe(12))
        factors = FACTORS_BY_DIR.setdefault(data_dir, {})
        for account in made:
            if account.role in ("staff", "admin"):
                factors[account.email] = _enrol(app, account.email, account.password)
        SECOND_FACTORS.update(factors)
        uow.commit(db.session)  # as the seed-demo command's unit of work does
        db.session.remove()
        db.engine.dispose()
    return {account.email: account.password for account in made}


def _enrol(app: Flask, email: str, password: str) -> SecondFactor:
    from artifact.identity.services import mfa
    from artifact.identity.services.lookup import user_by_email
    from artifact.infra.storage import store_for

    user = user_by_email(db.session, email)
    keyring = store_for(app).keyring
    secret, _uri = mfa.begin_enrolment(db.session, Caller.operator("e2e"), user, password, keyring)
    first = SecondFactor(secret, [])
    codes = mfa.confirm_enrolment(db.session, Caller.operator("e2e"), user, first.code(), keyring)
    first.recovery_codes = list(codes)
    return first


@dataclass
class LiveServer:
    url: str
    app: Flask
    data_dir: Path
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def factors(self) -> dict[str, SecondFactor]:
        return factors_for(self.url)

    def email(self, role: str) -> str:
        return DEMO_EMAILS.get(role, role)

    def password(self, role: str) -> str:
        return self.passwords[self.email(role)]


# Tests sign in far more often than a person: the per-IP sign-in limit (ARTIFACT_RATELIMIT_SIGN_IN,
# arriving with the throttling work; an unknown key until then) is raised for these servers.
TEST_LIMITS = {"RATELIMIT_SIGN_IN": "1000 per minute"}


@contextmanager
def serve(
    data_dir: Path,
    passwords: dict[str, str] | None = None,
    *,
    factors_of: Path | None = None,
    **overrides: Any,
) -> Iterator[LiveServer]:
    """Serve the app on 127.0.0.1 (a free port) in a thread until the block ends; its staff
    sign in with the second factors seeded into ``factors_of`` (default: ``data_dir``; a
    restored copy names the original)."""
    app = create_app(app_config(data_dir, **{**TEST_LIMITS, **overrides}))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    seeded = FACTORS_BY_DIR.get(factors_of or data_dir)
    if seeded is not None:
        _FACTORS_BY_URL[url] = seeded
    try:
        yield LiveServer(url, app, data_dir, dict(passwords or {}))
    finally:
        _FACTORS_BY_URL.pop(url, None)
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


class HttpSession:
    """A minimal cookie-keeping HTTP client (standard library only) for non-browser checks."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.base_url = base_url
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key] = rest.split(";", 1)[0]
            return response.status, {k.lower(): v for k, v in response.getheaders()}, payload
        finally:
            conn.close()

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        return self.request("GET", path)

    def post_form(
        self, path: str, data: dict[str, str], token_from: str
    ) -> tuple[int, dict[str, str], bytes]:
        _status, _headers, page = self.get(token_from)
        match = _CSRF_RE.search(page.decode())
        assert match, f"no CSRF token on {token_from}"
        return self.request("POST", path, {"csrf_token": match.group(1), **data})

    def sign_in(self, email: str, password: str) -> None:
        status, headers, _ = self.post_form(
            "/login", {"email": email, "password": password}, token_from="/login"
        )
        assert status == 302, f"sign-in as {email} answered {status}"
        if headers.get("location", "").endswith("/login/mfa"):
            status, headers, _ = self.post_form(
                "/login/mfa",
                {"code": factors_for(self.base_url)[email].code()},
                token_from="/login/mfa",
            )
            assert status == 302, f"second factor of {email} answered {status}"
        assert headers.get("location", "").endswith("/"), headers
