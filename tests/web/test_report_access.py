"""The staff report page and GET /api/v1/reports/{id}/access: who holds access (grants with
their expiry, approved requests, acceptances of the report's terms) and recent downloads, by
name and organisation; staff download their own reports without the customer terms gate."""

from __future__ import annotations

from datetime import timedelta

import pytest

from artifact import policy
from artifact.agreements.services import acceptance as agreements_accept
from artifact.catalog.services import grants, report_terms
from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR, Caller
from artifact.models.base import utcnow
from tests.callers import as_caller


@pytest.fixture
def gated(make_report, nda, make_user):
    """A restricted SOC 2 report behind the NDA; Acme Health holds a grant that expires and
    has accepted the NDA for the organisation; Globex's Carol was approved the SOC series on
    request."""
    report = make_report("SOC 2 Type II 2025")
    report_terms.set_terms(db.session, OPERATOR, report.id, nda.id)
    alice = make_user(
        "customer", org="Acme Health", org_admin=True, email="alice@acme.test", name="Łukasz Żółć"
    )
    carol = make_user("customer", org="Globex", email="carol@globex.test")
    alice.name, carol.name = "Łukasz Żółć", "Carol Globex"
    until = utcnow() + timedelta(days=90)
    grants.create_grant(
        db.session, OPERATOR, report_id=report.id, organization="Acme Health", expires_at=until
    )
    request = grants.request_access(db.session, Caller.of_user(carol), series="SOC")
    grants.decide_request(db.session, OPERATOR, request.id, approve=True)
    agreements_accept.accept(
        db.session,
        Caller.of_user(alice),
        nda.id,
        version=1,
        typed_name="Łukasz Żółć",
        scope="organization",
    )
    uow.commit(db.session)
    return report, alice, carol, until


def test_staff_download_without_accepting_terms_and_customers_still_cannot(
    client, gated, staff, make_user, bearer
) -> None:
    report, _alice, _carol, _until = gated
    path = f"/api/v1/reports/{report.id}/download"
    shown = client.get(f"/api/v1/reports/{report.id}", headers=bearer(staff)).get_json()
    assert shown["needs_terms"] is False  # nor are staff asked to accept them
    assert client.get(path, headers=bearer(staff)).status_code == 200
    assert client.get(path, headers=bearer(make_user("admin"))).status_code == 200
    bob = make_user("customer", org="Globex")  # a grant for Carol, not for Bob's organisation
    grants.create_grant(db.session, OPERATOR, report_id=report.id, user_email=bob.email)
    uow.commit(db.session)
    assert client.get(f"/api/v1/reports/{report.id}", headers=bearer(bob)).get_json()["needs_terms"]
    refused = client.get(path, headers=bearer(bob))
    assert refused.status_code == 428
    assert refused.get_json()["error"]["agreement_id"] == report.terms_agreement_id


def test_the_policy_lets_staff_past_the_terms_gate_only(staff, customer, auditor) -> None:
    report = type("Gate", (), {"terms_agreement_id": "a" * 32})()

    def never(_agreement_id: str) -> bool:
        return False

    assert policy.may_download(as_caller(staff), report, never, known_visible=True)
    for other in (customer, auditor):
        decision = policy.may_download(as_caller(other), report, never, known_visible=True)
        assert decision.reason == policy.Reason.ACCEPT_TERMS


def test_staff_page_lists_access_holders_and_downloads_by_name(
    client, gated, staff, bearer, login_as
) -> None:
    report, alice, carol, until = gated
    assert (
        client.get(f"/api/v1/reports/{report.id}/download", headers=bearer(alice)).status_code
        == 200
    )
    assert (
        client.get(f"/api/v1/reports/{report.id}/download", headers=bearer(carol)).status_code
        == 428
    )
    login_as(staff)
    html = client.get(f"/catalog/{report.id}").get_data(as_text=True)
    access = html[html.index('id="access"') : html.index('id="downloads"')]
    assert "Acme Health (organisation)" in access
    assert until.strftime("%Y-%m-%d %H:%M") in access
    assert "Carol Globex &lt;carol@globex.test&gt;, series SOC, approved" in access
    assert "Acme Health (organisation, by Łukasz Żółć), version 1" in access
    downloads = html[html.index('id="downloads"') : html.index('id="history"')]
    assert "Łukasz Żółć &lt;alice@acme.test&gt;</td><td>Acme Health</td>" in downloads
    assert alice.id not in downloads


def test_access_api(client, gated, staff, customer, bearer) -> None:
    report, alice, carol, until = gated
    client.get(f"/api/v1/reports/{report.id}/download", headers=bearer(alice))
    body = client.get(f"/api/v1/reports/{report.id}/access", headers=bearer(staff)).get_json()
    organisations = [g for g in body["grants"] if g["organization"] == "Acme Health"]
    assert organisations[0]["expires_at"][:16] == until.isoformat()[:16]
    assert [(r["user"], r["name"]) for r in body["approved_requests"]] == [
        ("carol@globex.test", "Carol Globex")
    ]
    assert [(a["scope"], a["organization"]) for a in body["acceptances"]] == [
        ("organization", "Acme Health")
    ]
    assert [(d["name"], d["organization"]) for d in body["recent_downloads"]] == [
        ("Łukasz Żółć", "Acme Health")
    ]
    assert (
        client.get(f"/api/v1/reports/{report.id}/access", headers=bearer(alice)).status_code == 403
    )
