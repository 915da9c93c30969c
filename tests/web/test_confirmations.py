"""Destructive actions ask first: a GET of the confirmation page names the consequence and
changes nothing; its POST form (with CSRF) performs the action."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from artifact.agreements.services import acceptance as agreements_accept
from artifact.catalog.services import grants
from artifact.extensions import db
from artifact.identity.services import mfa, tokens
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR, Caller
from artifact.models import Acceptance, ApiToken, Grant, Report, User
from tests.conftest import post_form


def _confirm(client, path: str, action: str, *phrases: str) -> str:
    """GET the confirmation page; check it names ``phrases`` and posts to ``action``."""
    response = client.get(path)
    assert response.status_code == 200, path
    page = response.get_data(as_text=True)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    for phrase in phrases:
        assert phrase in text, phrase
    form = re.search(r'<form method="post" action="([^"]+)" class="confirm-form">', page)
    assert form is not None
    assert html.unescape(form.group(1)) == action
    assert 'name="csrf_token"' in page
    assert "<script" not in page
    return page


def test_terminating_an_agreement(client, nda, customer, make_report, login_as) -> None:
    make_report("SOC 2 Gated", visibility="customers", terms_agreement_id=nda.id)
    accepted = agreements_accept.accept(
        db.session,
        Caller.of_user(customer),
        nda.id,
        version=1,
        typed_name="Carla Customer",
        scope="account",
    )
    uow.commit(db.session)
    login_as(customer)
    listing = client.get("/agreements/").get_data(as_text=True)
    assert f"/agreements/{nda.id}/terminate?scope=account" in listing
    path = f"/agreements/{nda.id}/terminate?scope=account"
    _confirm(
        client,
        path,
        f"/agreements/{nda.id}/terminate",
        "ends for you, effective now",
        "Downloads that need this agreement stop until it is accepted again: SOC 2 Gated.",
    )
    assert db.session.get(Acceptance, accepted.id).termination is None
    done = post_form(client, f"/agreements/{nda.id}/terminate", {"scope": "account"}, path)
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Acceptance, accepted.id).termination is not None


def test_disabling_a_user_and_resetting_2fa(client, admin, make_user, login_as) -> None:
    victim = make_user("staff", email="sam@example.test")
    login_as(admin)
    detail = client.get(f"/admin/users/{victim.id}").get_data(as_text=True)
    assert f'href="/admin/users/{victim.id}/disable"' in detail
    _confirm(
        client,
        f"/admin/users/{victim.id}/disable",
        f"/admin/users/{victim.id}/disable",
        "Disable sam@example.test?",
        "signed out everywhere at once",
        "Every API token of the account stops working",
    )
    assert db.session.get(User, victim.id).disabled_at is None
    reset = f"/admin/users/{victim.id}/mfa/reset"
    _confirm(client, reset, reset, "stop working", "enrol again at the next sign-in")
    assert mfa.is_enabled(db.session, db.session.get(User, victim.id))
    assert post_form(client, reset, {}, reset).status_code == 302
    assert not mfa.is_enabled(db.session, db.session.get(User, victim.id))
    path = f"/admin/users/{victim.id}/disable"
    assert post_form(client, path, {}, path).status_code == 302
    assert db.session.get(User, victim.id).disabled_at is not None


def test_revoking_tokens(client, admin, customer, hostile, login_as) -> None:
    theirs, _raw = tokens.create(db.session, OPERATOR, hostile, "build server")
    mine, _raw = tokens.create(db.session, OPERATOR, customer, "laptop")
    uow.commit(db.session)
    login_as(customer)
    assert f"/account/tokens/{mine.id}/revoke" in client.get("/account/").get_data(as_text=True)
    path = f"/account/tokens/{mine.id}/revoke"
    _confirm(client, path, path, "“laptop” get 401 from now on")
    assert client.get(f"/account/tokens/{theirs.id}/revoke").status_code == 404
    assert db.session.get(ApiToken, mine.id).revoked_at is None
    assert post_form(client, path, {}, path).status_code == 302
    assert db.session.get(ApiToken, mine.id).revoked_at is not None
    post_form(client, "/logout")
    login_as(admin)
    path = f"/admin/tokens/{theirs.id}/revoke"
    _confirm(client, path, path, f"of {hostile.email}?", "“build server” get 401")
    assert db.session.get(ApiToken, theirs.id).revoked_at is None
    assert post_form(client, path, {}, path).status_code == 302
    assert db.session.get(ApiToken, theirs.id).revoked_at is not None


def test_revoking_a_grant(client, staff, customer, make_report, login_as) -> None:
    report = make_report("SOC 2 Restricted")
    grant = grants.create_grant(
        db.session, OPERATOR, report_id=report.id, user_email=customer.email
    )
    uow.commit(db.session)
    login_as(customer)
    assert client.get(f"/catalog/grants/{grant.id}/revoke").status_code == 403
    post_form(client, "/logout")
    login_as(staff)
    assert f"/catalog/grants/{grant.id}/revoke" in client.get("/catalog/requests").get_data(
        as_text=True
    )
    path = f"/catalog/grants/{grant.id}/revoke"
    _confirm(
        client,
        path,
        path,
        f"{customer.email} can no longer see or download report SOC 2 Restricted",
    )
    assert db.session.get(Grant, grant.id).revoked_at is None
    assert post_form(client, path, {}, path).status_code == 302
    assert db.session.get(Grant, grant.id).revoked_at is not None
    assert client.get(path).status_code == 404  # nothing left to revoke


def test_retiring_a_report_asks_first(client, staff, make_report, login_as) -> None:
    report = make_report("ISO 27001 certificate", visibility="public")
    login_as(staff)
    detail = f"/catalog/{report.id}"
    skipped = post_form(client, f"{detail}/state", {"state": "retired"}, detail)
    assert skipped.status_code == 302
    assert skipped.headers["Location"] == f"{detail}/retire"
    assert db.session.get(Report, report.id).state == "published"
    _confirm(
        client,
        f"{detail}/retire",
        f"{detail}/state",
        "Retire ISO 27001 certificate?",
        "no longer see it in the catalog or in search",
    )
    assert db.session.get(Report, report.id).state == "published"
    post_form(client, f"{detail}/state", {"state": "retired", "confirmed": "yes"}, detail)
    db.session.expire_all()
    assert db.session.get(Report, report.id).state == "retired"
    post_form(client, f"{detail}/state", {"state": "published"}, detail)  # no question asked
    db.session.expire_all()
    assert db.session.get(Report, report.id).state == "published"


def test_purging_a_version_asks_first(client, admin, make_report, store, login_as) -> None:
    report = make_report("Old SOC 1", visibility="public")
    blob_id = report.versions[0].blob_id
    login_as(admin)
    path = f"/catalog/{report.id}/versions/1/purge"
    assert path in client.get(f"/catalog/{report.id}").get_data(as_text=True)
    _confirm(client, path, path, "can never be decrypted again", "This cannot be undone.")
    assert store.exists(blob_id)
    assert db.session.scalars(select(Report)).one().versions[0].purged_at is None
