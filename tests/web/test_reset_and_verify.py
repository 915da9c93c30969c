"""Password reset and e-mail verification, with mail delivered to a real SMTP server (aiosmtpd)
on loopback; the common-password rule."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from email.message import EmailMessage as Message

import pytest
from flask import Flask
from sqlalchemy import select

from artifact.extensions import db
from artifact.identity.services import accounts
from artifact.kernel.errors import ValidationFailed
from artifact.models import AccountToken, AuditEvent, User
from tests.conftest import MFA_SECRETS, PASSWORD, post_form, sign_in
from tests.fixtures_mail import Inbox

NEW_PASSWORD = "plum orbit lantern quietly 42"


def _link(message: Message, path: str) -> str:
    body = message.get_content()
    return re.search(rf"http://localhost(/{path}/[A-Za-z0-9_-]+)", body).group(1)


def test_reset_by_mail_ends_sessions_and_keeps_mfa(
    app: Flask, client, inbox: Inbox, staff: User
) -> None:
    old_session = app.test_client()
    sign_in(old_session, staff.email)
    assert old_session.get("/api/v1/me").status_code == 200
    answer = post_form(client, "/reset", {"email": staff.email.upper()})
    assert "If an account exists" in answer.get_data(as_text=True)
    message = inbox.wait_for(1)[0]
    assert message["To"] == staff.email
    assert message["From"] == "trust@example.test"
    path = _link(message, "reset")
    raw_token = path.rsplit("/", 1)[1]
    assert raw_token not in str(db.session.scalars(select(AccountToken.token_hash)).all())
    form = client.get(path)
    assert form.status_code == 200
    assert form.headers["Referrer-Policy"] == "no-referrer"
    done = post_form(client, path, {"password": NEW_PASSWORD}, token_from=path)
    assert done.status_code == 302
    assert old_session.get("/api/v1/me").status_code == 401  # every session ended
    again = post_form(client, path, {"password": "another long passphrase 77"}, token_from="/login")
    assert again.status_code == 400  # single use
    step = post_form(app.test_client(), "/login", {"email": staff.email, "password": NEW_PASSWORD})
    assert step.headers["Location"] == "/login/mfa"  # the second factor is still asked
    assert staff.email in MFA_SECRETS
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "auth.reset_requested" in actions
    assert "auth.password_reset" in actions


def test_reset_answers_the_same_for_unknown_addresses(client, inbox: Inbox, customer: User) -> None:
    known = post_form(client, "/reset", {"email": customer.email})
    unknown = post_form(client, "/reset", {"email": "nobody@example.test"})
    assert known.status_code == unknown.status_code == 200

    def text(response) -> str:
        return re.sub(r'value="[^"]+"', "", response.get_data(as_text=True))

    assert text(known) == text(unknown)
    assert len(inbox.wait_for(1)) == 1


def test_links_use_the_base_url_whatever_the_host_header(
    app: Flask, client, inbox: Inbox, customer: User
) -> None:
    app.config["BASE_URL"] = "https://trust.example.com"
    evil = {"Host": "attacker.example"}
    form = client.get("/reset", headers=evil).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    sent = client.post("/reset", data={"csrf_token": token, "email": customer.email}, headers=evil)
    assert sent.status_code == 200
    body = inbox.wait_for(1)[0].get_content()
    assert "https://trust.example.com/reset/" in body
    assert "attacker.example" not in body


def test_reset_links_expire_after_an_hour(app: Flask, client, inbox: Inbox, customer: User) -> None:
    post_form(client, "/reset", {"email": customer.email})
    path = _link(inbox.wait_for(1)[0], "reset")
    token = db.session.scalars(select(AccountToken)).one()
    assert token.expires_at - token.created_at == timedelta(hours=1)
    token.expires_at = token.created_at
    db.session.commit()
    assert client.get(path).status_code == 400


def test_a_new_reset_link_replaces_the_old_one(client, inbox: Inbox, customer: User) -> None:
    post_form(client, "/reset", {"email": customer.email})
    post_form(client, "/reset", {"email": customer.email})
    first, second = inbox.wait_for(2)[:2]
    assert client.get(_link(first, "reset")).status_code == 400
    assert client.get(_link(second, "reset")).status_code == 200


def test_email_verification(app: Flask, client, inbox: Inbox, customer: User) -> None:
    sign_in(client, customer.email)
    assert post_form(client, "/account/verify-email").status_code == 302
    path = _link(inbox.wait_for(1)[0], "verify-email")
    token = db.session.scalars(select(AccountToken)).one()
    assert token.expires_at - token.created_at == timedelta(hours=24)
    scanner = app.test_client().get(path)  # a mail scanner fetching the link
    assert scanner.status_code == 200
    assert db.session.get(User, customer.id).email_verified_at is None
    assert post_form(client, path, token_from=path).status_code == 302
    assert db.session.get(User, customer.id).email_verified_at is not None
    assert app.test_client().get(path).status_code == 400


@pytest.mark.parametrize("weak", ["password1234", "qwertyuiopasdf", "aaaaaaaaaaaaaaa"])
def test_common_passwords_are_refused(app: Flask, weak: str) -> None:
    with pytest.raises(ValidationFailed, match="too common or easy to guess"):
        accounts.check_password_rules(weak)


def test_passwords_made_of_the_email_are_refused(app: Flask) -> None:
    with pytest.raises(ValidationFailed, match="easy to guess"):
        accounts.check_password_rules("jonathan.smithers", ["jonathan.smithers@example.test"])


def test_long_random_passphrases_pass(app: Flask) -> None:
    accounts.check_password_rules(PASSWORD)
    accounts.check_password_rules(NEW_PASSWORD)
    accounts.check_password_rules(secrets.token_urlsafe(90))  # 120 characters, past zxcvbn's 72
