"""Self sign-up (issue 13), with mail delivered to a real SMTP server (aiosmtpd) on loopback:
the answer never tells whether an address has an account; the account cannot sign in, and
belongs to no organisation, until the mailed link is used with its password; then the domain an
admin verified decides its organisation. Free-mail can be refused and sign-up turned off."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from artifact.catalog.services import grants
from artifact.extensions import db
from artifact.identity.services import organizations
from artifact.identity.services.lookup import user_by_email
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR
from artifact.models import AuditEvent, Organization
from tests.conftest import post_form
from tests.fixtures_mail import Inbox

STRONG = "violet harbour cycling 1987"


def _signup(client, email, password=STRONG, **extra):
    body = {"email": email, "name": "Nadia New", "company": "Org A Ltd", "password": password}
    return client.post("/api/v1/signup", json={**body, **extra})


def _link(message) -> str:
    return re.search(
        r"http://localhost(/verify-email/[A-Za-z0-9_-]+)", message.get_content()
    ).group(1)


def test_signup_verification_then_organisation_by_verified_domain(
    app: Flask,
    client,
    inbox: Inbox,
    make_user,
    make_report,
) -> None:
    make_user("customer", org="OrgA")
    org = db.session.scalar(select(Organization).where(Organization.name == "OrgA"))
    organizations.add_domain(db.session, OPERATOR, org.id, "orga.test")
    report = make_report("SOC 2 Type II 2025")
    grants.create_grant(db.session, OPERATOR, report_id=report.id, organization="OrgA")
    uow.commit(db.session)

    answer = _signup(client, "New@OrgA.test")
    assert answer.status_code == 202
    assert "Check your inbox" in answer.get_json()["message"]
    message = inbox.wait_for(1)[0]
    assert message["To"] == "new@orga.test"
    assert "Confirm your e-mail address" in message["Subject"]
    user = user_by_email(db.session, "new@orga.test")
    assert (user.role, user.organization_id, user.company) == ("customer", None, "Org A Ltd")
    assert user.email_verified_at is None

    # Before confirming: no sign-in (so nothing restricted is seen), with a message saying why.
    refused = post_form(client, "/login", {"email": "new@orga.test", "password": STRONG})
    assert refused.status_code == 403
    assert "Confirm your e-mail address first" in refused.get_data(as_text=True)

    path = _link(message)
    page = client.get(path)
    assert page.status_code == 200
    assert "type the password you chose" in page.get_data(as_text=True).lower()
    wrong = post_form(client, path, {"password": "not the one at all 99"}, token_from=path)
    assert wrong.status_code == 400
    assert "type the password you chose when you signed up" in wrong.get_data(as_text=True)
    done = post_form(client, path, {"password": STRONG}, token_from=path)
    assert done.status_code == 302
    assert done.headers["Location"] == "/login"
    db.session.expire_all()
    user = user_by_email(db.session, "new@orga.test")
    assert user.email_verified_at is not None
    assert user.organization_id == org.id
    assert not user.is_org_admin
    again = post_form(client, path, {"password": STRONG}, token_from="/login")
    assert again.status_code == 400  # single use

    signed_in = post_form(client, "/login", {"email": "new@orga.test", "password": STRONG})
    assert signed_in.status_code == 302
    shown = client.get(f"/api/v1/reports/{report.id}").get_json()
    assert shown["locked"] is False  # OrgA's grant now covers the new member
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"user.signup", "user.email_verified", "user.join_organization"} <= actions


def test_a_known_address_gets_the_same_answer_and_a_notice(
    client,
    inbox: Inbox,
    customer,
) -> None:
    known = _signup(client, customer.email)
    unknown = _signup(client, "someone.new@example.test")
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    messages = inbox.wait_for(2)
    by_to = {m["To"]: m for m in messages}
    notice = by_to[customer.email]
    assert notice["Subject"] == "Someone tried to sign up for Artifact with your address"
    assert "/verify-email/" not in notice.get_content()
    assert "/reset" in notice.get_content()
    assert user_by_email(db.session, customer.email).self_registered is False


def test_signing_up_again_before_confirming_sends_a_new_link(
    client,
    inbox: Inbox,
) -> None:
    assert _signup(client, "twice@example.test").status_code == 202
    assert (
        _signup(client, "twice@example.test", password="another phrase entirely 55").status_code
        == 202
    )
    first, second = inbox.wait_for(2)[:2]
    assert client.get(_link(first)).status_code == 400  # replaced by the newer link
    assert client.get(_link(second)).status_code == 200
    # The password stays the one chosen first: the newer sign-up changed nothing else.
    done = post_form(client, _link(second), {"password": STRONG}, token_from=_link(second))
    assert done.status_code == 302


def test_bad_input_free_mail_and_turned_off(app: Flask, client) -> None:
    assert _signup(client, "not-an-address").status_code == 400
    weak = _signup(client, "weak@example.test", password="password1234")
    assert weak.status_code == 400
    assert "password" in weak.get_json()["error"]["message"]
    blank = _signup(client, "blank@example.test", name="   ")
    assert blank.status_code == 400
    extra = client.post(
        "/api/v1/signup",
        json={
            "email": "x@example.test",
            "name": "X",
            "company": "Y",
            "password": STRONG,
            "role": "admin",
        },
    )
    assert extra.status_code == 400
    assert user_by_email(db.session, "x@example.test") is None

    app.config["SIGNUP_BLOCK_FREEMAIL"] = True
    free = _signup(client, "someone@gmail.com")
    assert free.status_code == 400
    assert "work e-mail" in free.get_json()["error"]["message"]
    assert _signup(client, "someone@orga.test").status_code == 202

    app.config["SIGNUP"] = False
    assert _signup(client, "late@example.test").status_code == 404
    assert client.get("/signup").status_code == 404
    assert "Create one" not in client.get("/login").get_data(as_text=True)


def test_signup_page_and_a_reset_link_also_confirms(client, inbox: Inbox) -> None:
    page = client.get("/signup")
    assert page.status_code == 200
    assert "Create an account" in page.get_data(as_text=True)
    assert "Create one" in client.get("/login").get_data(as_text=True)
    sent = post_form(
        client,
        "/signup",
        {
            "email": "page@example.test",
            "name": "Paula Page",
            "company": "Page Co",
            "password": STRONG,
        },
        token_from="/signup",
    )
    assert sent.status_code == 200
    assert "Check your inbox" in sent.get_data(as_text=True)
    inbox.wait_for(1)
    short = post_form(
        client,
        "/signup",
        {"email": "p2@example.test", "name": "P", "company": "C", "password": "short"},
        token_from="/signup",
    )
    assert short.status_code == 400
    assert "Not signed up" in short.get_data(as_text=True)
    # Forgot the password before confirming: the reset link proves the mailbox too.
    post_form(client, "/reset", {"email": "page@example.test"}, token_from="/reset")
    reset = inbox.wait_for(2)[1]
    path = re.search(r"http://localhost(/reset/[A-Za-z0-9_-]+)", reset.get_content()).group(1)
    post_form(client, path, {"password": "a brand new passphrase 31"}, token_from=path)
    db.session.expire_all()
    assert user_by_email(db.session, "page@example.test").email_verified_at is not None
    signed_in = post_form(
        client, "/login", {"email": "page@example.test", "password": "a brand new passphrase 31"}
    )
    assert signed_in.status_code == 302
