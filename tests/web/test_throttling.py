"""Throttling: per-account exponential backoff, the per-IP limit, proxies, Retry-After, and the
same answers for known and unknown accounts."""

from __future__ import annotations

import os
import socket
import uuid

import pytest
from flask import Flask
from sqlalchemy import select

from artifact import create_app
from artifact.extensions import db
from artifact.models import AuditEvent, User
from tests.conftest import PASSWORD, post_form


def _attempt(client, email: str, password: str):
    return post_form(client, "/login", {"email": email, "password": password}, token_from="/login")


@pytest.fixture
def frozen_clock(monkeypatch):
    """The backoff's clock stands still, so the test does not depend on how fast it runs."""
    from artifact.identity.services import sign_in
    from artifact.models.base import utcnow

    now = utcnow()
    monkeypatch.setattr(sign_in, "utcnow", lambda: now)
    return now


def test_twenty_wrong_passwords_back_off_and_refuse_the_right_one(
    app: Flask, client, customer: User, frozen_clock
) -> None:
    statuses, waits = [], []
    for i in range(20):
        response = _attempt(client, customer.email, f"wrong password number {i}")
        statuses.append(response.status_code)
        if response.status_code == 429:
            waits.append(int(response.headers["Retry-After"]))
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429] * 15
    # Attempts during the block do not lengthen it (the clock stands still).
    assert waits == [waits[0]] * 15
    assert waits[0] >= 1
    right = _attempt(client, customer.email, PASSWORD)
    assert right.status_code == 429
    assert "Too many attempts" in right.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 401
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.in_(["auth.sign_in", "auth.throttled"]))
    ).all()
    assert [e.outcome for e in events if e.action == "auth.sign_in"] == ["failure"] * 5
    throttled = [e for e in events if e.action == "auth.throttled"]
    assert len(throttled) == 1  # one event per minute, not one per attempt
    assert throttled[0].target_id == customer.id
    for event in events:
        assert "wrong password" not in event.details
        assert PASSWORD not in event.details


@pytest.fixture
def clock(monkeypatch):
    """The backoff's clock, moved by the test."""
    from artifact.identity.services import sign_in
    from artifact.models.base import utcnow

    now = [utcnow()]
    monkeypatch.setattr(sign_in, "utcnow", lambda: now[0])
    return now


def _blocked_until(email: str, source: str):
    from artifact.identity.services.sign_in import throttle_key
    from artifact.models import SignInThrottle

    return db.session.get(SignInThrottle, throttle_key(email, source)).blocked_until


def test_attempts_during_a_block_never_extend_it(app: Flask, client, customer: User, clock) -> None:
    from datetime import timedelta

    for i in range(6):
        _attempt(client, customer.email, f"wrong password number {i}")
    until = _blocked_until(customer.email, "127.0.0.1")
    for i in range(10):
        clock[0] += timedelta(milliseconds=50)
        assert _attempt(client, customer.email, f"hammering {i}").status_code == 429
    assert _blocked_until(customer.email, "127.0.0.1") == until
    clock[0] = until + timedelta(milliseconds=1)
    assert _attempt(client, customer.email, PASSWORD).status_code == 302


def test_a_guesser_elsewhere_cannot_lock_the_owner_out(
    app: Flask, client, staff: User, frozen_clock
) -> None:
    """The backoff is keyed on account and source: the owner, from another address, still
    signs in with password and second factor while the guesser's address is blocked."""
    from tests.conftest import second_factor_code

    guesser = {"REMOTE_ADDR": "198.51.100.66"}
    statuses = [
        _attempt_from(client, staff.email, f"guess {i}", guesser).status_code for i in range(8)
    ]
    assert statuses == [401] * 5 + [429] * 3
    owner = app.test_client()
    home = {"REMOTE_ADDR": "203.0.113.5"}
    first = _attempt_from(owner, staff.email, PASSWORD, home)
    assert (first.status_code, first.headers["Location"]) == (302, "/login/mfa")
    second = post_form(
        owner,
        "/login/mfa",
        {"code": second_factor_code(staff.email)},
        token_from="/login/mfa",
        environ_base=home,
    )
    assert second.status_code == 302
    assert owner.get("/api/v1/me").status_code == 200
    # ... and the guesser is still blocked.
    assert _attempt_from(client, staff.email, PASSWORD, guesser).status_code == 429


def _attempt_from(client, email: str, password: str, environ: dict):
    return post_form(
        client,
        "/login",
        {"email": email, "password": password},
        token_from="/login",
        environ_base=environ,
    )


def test_unknown_accounts_are_throttled_the_same_way(app: Flask, client, frozen_clock) -> None:
    statuses = [
        _attempt(client, "nobody@example.test", "any password at all").status_code for _ in range(7)
    ]
    assert statuses == [401] * 5 + [429] * 2


def test_a_success_clears_the_count(app: Flask, client, customer: User) -> None:
    for _ in range(4):
        _attempt(client, customer.email, "wrong password here")
    assert _attempt(client, customer.email, PASSWORD).status_code == 302
    other = app.test_client()
    for _ in range(5):
        assert _attempt(other, customer.email, "wrong password here").status_code == 401


def test_the_per_ip_limit_answers_429_with_retry_after(app: Flask, client, customer: User) -> None:
    app.config["RATELIMIT_SIGN_IN"] = "3 per minute"
    for i in range(3):
        _attempt(client, f"someone{i}@example.test", "whatever password")
    response = _attempt(client, "fourth@example.test", "whatever password")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "Too many requests" in response.get_data(as_text=True)
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "auth.throttled")
    ).one()
    assert '"reason":"rate_limit"' in event.details


def test_forwarded_for_is_ignored_without_trusted_proxies(app: Flask, client) -> None:
    app.config["RATELIMIT_SIGN_IN"] = "2 per minute"
    for i in range(2):
        post_form(
            client,
            "/login",
            {"email": f"a{i}@x.test", "password": "x" * 12},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
        )
    spoofed = post_form(
        client,
        "/login",
        {"email": "b@x.test", "password": "x" * 12},
        headers={"X-Forwarded-For": "198.51.100.99"},
    )
    assert spoofed.status_code == 429


def test_forwarded_for_is_believed_from_a_trusted_proxy(database_url: str, tmp_path) -> None:
    app = create_app(
        {
            "ARTIFACT_ENV": "testing",
            "DATA_DIR": str(tmp_path / "d"),
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TRUSTED_PROXIES": 1,
            "RATELIMIT_SIGN_IN": "1 per minute",
        }
    )
    from tests.conftest import IsolatedClient

    app.test_client_class = IsolatedClient
    with app.app_context():
        client = app.test_client()
        for i in range(2):
            response = post_form(
                client,
                "/login",
                {"email": "a@x.test", "password": "x" * 12},
                headers={"X-Forwarded-For": f"198.51.100.{i}"},
            )
            assert response.status_code == 401  # two clients, one attempt each
        db.session.remove()
        db.engine.dispose()


def test_limits_are_kept_in_redis(database_url: str, tmp_path) -> None:
    redis = pytest.importorskip("redis")
    url = os.environ.get("ARTIFACT_TEST_REDIS", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {url}")
    # Our own key prefix instead of flushing a database other runs on this machine may share.
    prefix = f"artifact-test-{uuid.uuid4().hex}"
    from tests.conftest import IsolatedClient

    clients = []
    for node in ("a", "b"):  # two app nodes, one Redis
        app = create_app(
            {
                "ARTIFACT_ENV": "testing",
                "DATA_DIR": str(tmp_path / node),
                "SQLALCHEMY_DATABASE_URI": database_url,
                "RATELIMIT_STORAGE_URI": url,
                "RATELIMIT_SIGN_IN": "2 per minute",
                "RATELIMIT_KEY_PREFIX": prefix,
            }
        )
        app.test_client_class = IsolatedClient
        clients.append((app, app.test_client()))
    statuses = []
    for app, client in (clients[0], clients[1], clients[0]):
        with app.app_context():
            statuses.append(
                post_form(client, "/login", {"email": "r@x.test", "password": "y" * 12}).status_code
            )
            db.session.remove()
            db.engine.dispose()
    assert statuses == [401, 401, 429]


def test_a_limit_store_that_is_down_answers_503(database_url: str, tmp_path) -> None:
    """Redis unreachable (a closed port): limited actions are refused with a clear 503, not a
    500, and not let through uncounted."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    app = create_app(
        {
            "ARTIFACT_ENV": "testing",
            "DATA_DIR": str(tmp_path / "d"),
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{closed}/0",
        }
    )
    from tests.conftest import IsolatedClient

    app.test_client_class = IsolatedClient
    with app.app_context():
        client = app.test_client()
        page = post_form(client, "/login", {"email": "a@x.test", "password": "x" * 12})
        assert page.status_code == 503
        assert "rate-limit store is not reachable" in page.get_data(as_text=True)
        assert page.headers["Retry-After"] == "60"
        api = client.post(
            "/reset", data={"email": "a@x.test"}, headers={"Accept": "application/json"}
        )
        assert api.status_code in (400, 503)  # CSRF first, or the limit store
        db.session.remove()
        db.engine.dispose()
