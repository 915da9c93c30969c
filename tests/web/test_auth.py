"""Sign-in, sign-out and sessions that really end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from artifact.extensions import db
from artifact.identity.services import accounts
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR, Caller
from artifact.models import AuditEvent, User, UserSession
from tests.conftest import PASSWORD, post_form, sign_in


def test_password_hashes_are_argon2id(customer: User) -> None:
    assert customer.password_hash.startswith("$argon2id$")
    assert PASSWORD not in customer.password_hash


def test_sign_in_then_pages_know_the_user(client, customer: User) -> None:
    response = sign_in(client, customer.email)
    assert response.status_code == 302
    assert customer.email in client.get("/").get_data(as_text=True)


def test_unknown_email_and_wrong_password_get_the_same_answer(client, customer: User) -> None:
    wrong = sign_in(client, customer.email, "not the password at all")
    unknown = sign_in(client, "nobody@example.test", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert "Invalid e-mail or password." in wrong.get_data(as_text=True)
    assert "Invalid e-mail or password." in unknown.get_data(as_text=True)
    assert customer.email not in unknown.get_data(as_text=True)


def test_failed_sign_in_is_audited_without_the_password(client, customer: User) -> None:
    sign_in(client, customer.email, "hunter2-wrong-password")
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.sign_in")).all()
    assert [e.outcome for e in events] == ["failure"]
    assert events[0].actor_id == customer.id
    assert "hunter2" not in events[0].details


def test_a_copied_cookie_dies_with_sign_out(app, client, customer: User) -> None:
    sign_in(client, customer.email)
    stolen = app.test_client()
    stolen.set_cookie("artifact_session", client.get_cookie("artifact_session").value)
    assert stolen.get("/api/v1/me").status_code == 200
    assert post_form(client, "/logout").status_code == 302
    assert client.get("/api/v1/me").status_code == 401
    assert stolen.get("/api/v1/me").status_code == 401
    row = db.session.scalars(select(UserSession)).one()
    assert row.end_reason == "signed_out"


def test_disabling_a_user_ends_every_session(app, client, customer: User, admin: User) -> None:
    sign_in(client, customer.email)
    assert client.get("/api/v1/me").status_code == 200
    accounts.set_disabled(db.session, Caller.of_user(admin), customer, True)
    uow.commit(db.session)
    assert client.get("/api/v1/me").status_code == 401
    assert sign_in(app.test_client(), customer.email).status_code == 401


def test_a_password_change_ends_other_sessions(app, client, customer: User) -> None:
    other = app.test_client()
    sign_in(other, customer.email)
    sign_in(client, customer.email)
    response = post_form(
        client, "/account/password", {"current": PASSWORD, "new": "a brand new passphrase"}
    )
    assert response.status_code == 302
    assert client.get("/api/v1/me").status_code == 200  # this one stays
    assert other.get("/api/v1/me").status_code == 401
    assert sign_in(app.test_client(), customer.email, "a brand new passphrase").status_code == 302


def test_a_role_change_ends_the_sessions_of_that_user(client, customer: User) -> None:
    sign_in(client, customer.email)
    accounts.set_role(db.session, OPERATOR, customer, "auditor")
    uow.commit(db.session)
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize(
    ("field", "age", "reason"),
    [
        ("last_seen_at", timedelta(minutes=31), "idle_timeout"),
        ("created_at", timedelta(hours=12, minutes=1), "absolute_timeout"),
    ],
)
def test_sessions_time_out(client, customer: User, field: str, age: timedelta, reason: str) -> None:
    sign_in(client, customer.email)
    row = db.session.scalars(select(UserSession)).one()
    setattr(row, field, getattr(row, field) - age)
    if field == "created_at":
        row.last_seen_at = row.last_seen_at  # recently active, but too old
    db.session.commit()
    assert client.get("/api/v1/me").status_code == 401
    db.session.refresh(row)
    assert row.end_reason == reason


def test_session_cookie_flags(client, customer: User) -> None:
    response = sign_in(client, customer.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_post_without_csrf_token_fails(client, customer: User) -> None:
    response = client.post("/login", data={"email": customer.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
    assert db.session.scalars(select(UserSession)).all() == []


def test_logout_by_get_is_not_possible(client, customer: User) -> None:
    sign_in(client, customer.email)
    assert client.get("/logout").status_code == 405
    assert client.get("/api/v1/me").status_code == 200


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/account/", "/account/"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/%0d%0aSet-Cookie:x", "/%0d%0aSet-Cookie:x"),
        ("/\r\nLocation: https://evil.example", "/"),
    ],
)
def test_next_only_goes_to_this_site(client, customer: User, next_url: str, expected: str) -> None:
    response = post_form(
        client, "/login?" + _query(next_url), {"email": customer.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def _query(next_url: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"next": next_url})


def test_sign_in_of_a_disabled_user_fails_generically(client, customer: User) -> None:
    customer_row = db.session.get(User, customer.id)
    accounts.set_disabled(db.session, OPERATOR, customer_row, True)
    uow.commit(db.session)
    response = sign_in(client, customer.email)
    assert response.status_code == 401
    assert "Invalid e-mail or password." in response.get_data(as_text=True)
