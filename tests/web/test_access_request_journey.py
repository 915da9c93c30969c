"""Requests that lead somewhere (issue 13): a pending duplicate answers 409 naming the first,
"My requests" (page and ``mine=1``) shows state and decision, staff see the pending count and a
queue that says who asks; staff rules approve matching requests at once (from a verified domain
or an organisation, for a series or a category, optionally expiring and only after an
agreement), each such approval an audit event naming its rule; admins list organisations and
mark their verified domains."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from artifact.agreements.services import acceptance as agreements_accept
from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.models import AccessRequest, AuditEvent, Grant
from artifact.models.base import utcnow
from tests.conftest import post_form, sign_in
from tests.fixtures_catalog import ensure_series


def _request(client, headers, **body):
    return client.post("/api/v1/access-requests", headers=headers, json=body)


def test_request_duplicate_mine_and_approval_black_box(client, make_report, make_user, bearer):
    staff = make_user("staff")
    report = make_report("SOC 2 Type II 2025")
    bob = make_user("customer", org="Globex", email="bob@globex.test")
    headers = bearer(bob)
    first = _request(client, headers, series="SOC", message="For our vendor review")
    assert first.status_code == 201
    assert first.get_json()["state"] == "pending"
    second = _request(client, headers, series="SOC")
    assert second.status_code == 409
    assert second.get_json()["error"]["existing_id"] == first.get_json()["id"]

    mine = client.get("/api/v1/access-requests?mine=1", headers=headers).get_json()
    assert [(i["id"], i["state"], i["message"]) for i in mine["items"]] == [
        (first.get_json()["id"], "pending", "For our vendor review")
    ]
    # mine=1 is the caller's own: another customer sees none of Bob's; the staff list
    # without mine=1 stays closed to customers.
    other = bearer(make_user("customer", org="Initech"))
    assert client.get("/api/v1/access-requests?mine=1", headers=other).get_json()["total"] == 0
    assert client.get("/api/v1/access-requests", headers=headers).status_code == 403

    decided = client.post(
        f"/api/v1/access-requests/{first.get_json()['id']}/approve", headers=bearer(staff)
    )
    assert decided.status_code == 200
    mine = client.get("/api/v1/access-requests?mine=1", headers=headers).get_json()
    assert mine["items"][0]["state"] == "approved"
    assert mine["items"][0]["decided_at"] is not None
    assert mine["items"][0]["auto_approved"] is False
    assert client.get(f"/api/v1/reports/{report.id}/download", headers=headers).status_code == 200
    # Decided, so asking again files a new request (not a 409).
    assert _request(client, headers, category="reports").status_code == 201


def test_mine_filters_by_state_and_refuses_garbage(client, make_user, bearer) -> None:
    ensure_series("SOC")
    headers = bearer(make_user("customer", org="Globex"))
    _request(client, headers, series="SOC")
    pending = client.get("/api/v1/access-requests?mine=1&state=pending", headers=headers)
    assert pending.get_json()["total"] == 1
    denied = client.get("/api/v1/access-requests?mine=1&state=denied", headers=headers)
    assert denied.get_json()["total"] == 0
    for bad in ("mine=yes", "mine=2", "mine=1&state=lost"):
        answer = client.get(f"/api/v1/access-requests?{bad}", headers=headers)
        assert answer.status_code == 400, bad


def test_domain_rule_approves_at_once_and_other_domains_wait(
    client, make_report, make_user, bearer
) -> None:
    staff_headers = bearer(make_user("staff"))
    make_report("SOC 2 Type II 2025")
    rule = client.post(
        "/api/v1/approval-rules",
        headers=staff_headers,
        json={"domain": "OrgA.test", "series": "SOC", "expires_in_days": 90},
    )
    assert rule.status_code == 201, rule.get_json()
    assert rule.get_json()["domain"] == "orga.test"

    x = make_user("customer", org="OrgA", email="x@orga.test")
    answer = _request(client, bearer(x), series="SOC", message="renewal")
    assert answer.status_code == 201
    body = answer.get_json()
    assert (body["state"], body["auto_approved"]) == ("approved", True)
    grant = db.session.scalar(select(Grant).where(Grant.user_id == x.id))
    assert grant is not None
    assert grant.series == "SOC"
    assert abs(grant.expires_at - (utcnow() + timedelta(days=90))) < timedelta(minutes=5)
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "access_request.auto_approve",
            AuditEvent.target_id == body["id"],
        )
    )
    assert event is not None
    assert json.loads(event.details)["rule_id"] == rule.get_json()["id"]

    y = make_user("customer", org="OrgB", email="y@orgb.test")
    waiting = _request(client, bearer(y), series="SOC").get_json()
    assert (waiting["state"], waiting["auto_approved"]) == ("pending", False)
    # A rule for a series does not cover a request for a whole category.
    z = make_user("customer", email="z@orga.test")
    assert _request(client, bearer(z), category="reports").get_json()["state"] == "pending"


def test_organisation_rule_and_a_rule_that_needs_an_agreement(
    client, make_report, make_user, bearer, nda
) -> None:
    staff_headers = bearer(make_user("staff"))
    make_report("SOC 2 Type II 2025")
    alice = make_user("customer", org="Acme Health", email="alice@acme.test")
    alice.name = "Alice Example"
    uow.commit(db.session)
    rule = client.post(
        "/api/v1/approval-rules",
        headers=staff_headers,
        json={
            "organization": "Acme Health",
            "category": "reports",
            "requires_agreement_id": nda.id,
        },
    )
    assert rule.status_code == 201, rule.get_json()
    headers = bearer(alice)
    before = _request(client, headers, category="reports").get_json()
    assert before["state"] == "pending"  # the NDA is not accepted yet

    agreements_accept.accept(
        db.session,
        Caller.of_user(alice),
        nda.id,
        version=1,
        typed_name="Alice Example",
        scope="account",
    )
    uow.commit(db.session)
    # The pending one stays for staff; a new request for another scope the rule covers is
    # approved once the agreement is accepted.
    db.session.get(AccessRequest, before["id"]).state = "denied"
    uow.commit(db.session)
    after = _request(client, headers, category="reports").get_json()
    assert after["state"] == "approved"

    stopped = client.delete(
        f"/api/v1/approval-rules/{rule.get_json()['id']}", headers=staff_headers
    )
    assert stopped.status_code == 204
    assert client.get("/api/v1/approval-rules", headers=staff_headers).get_json()["total"] == 0
    again = client.delete(f"/api/v1/approval-rules/{rule.get_json()['id']}", headers=staff_headers)
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (
            {"domain": "a.test", "organization": "Acme", "series": "SOC"},
            400,
            "exactly one requester",
        ),
        ({"domain": "a.test", "series": "SOC", "category": "reports"}, 400, "exactly one scope"),
        ({"domain": "not a domain", "series": "SOC"}, 400, "domain"),
        ({"domain": "a.test", "series": "Bridge letters"}, 400, "unknown series"),
        ({"domain": "a.test", "category": "memes"}, 400, "unknown category"),
        ({"domain": "a.test", "series": "SOC", "expires_in_days": 0}, 400, "expires_in_days"),
        ({"organization": "Nobody Inc", "series": "SOC"}, 409, "no organisation"),
        (
            {"domain": "a.test", "series": "SOC", "requires_agreement_id": "x" * 32},
            409,
            "agreement",
        ),
    ],
)
def test_bad_rules_are_refused_with_a_reason(client, make_user, bearer, body, status, words):
    ensure_series("SOC")
    headers = bearer(make_user("staff"))
    answer = client.post("/api/v1/approval-rules", headers=headers, json=body)
    assert answer.status_code == status, answer.get_json()
    assert words in answer.get_json()["error"]["message"]
    assert client.get("/api/v1/approval-rules", headers=headers).get_json()["total"] == 0


def test_customers_cannot_see_or_make_rules(client, make_user, bearer) -> None:
    headers = bearer(make_user("customer", org="Globex"))
    assert client.get("/api/v1/approval-rules", headers=headers).status_code == 403
    made = client.post(
        "/api/v1/approval-rules", headers=headers, json={"domain": "globex.test", "series": "SOC"}
    )
    assert made.status_code == 403


def test_organisations_and_their_verified_domains(client, make_user, bearer) -> None:
    admin = bearer(make_user("admin"))
    acme = make_user("customer", org="Acme Health")
    make_user("customer", org="Globex")
    orgs = client.get("/api/v1/organizations", headers=admin).get_json()["items"]
    ids = {o["name"]: o["id"] for o in orgs}
    added = client.post(
        f"/api/v1/organizations/{ids['Acme Health']}/domains",
        headers=admin,
        json={"domain": "Acme-Health.TEST"},
    )
    assert added.status_code == 201
    assert added.get_json()["domains"] == ["acme-health.test"]
    taken = client.post(
        f"/api/v1/organizations/{ids['Globex']}/domains",
        headers=admin,
        json={"domain": "acme-health.test"},
    )
    assert taken.status_code == 409
    for bad in ("", "localhost", "a..test", "-a.test", "a.t3st1", "x" * 300 + ".test"):
        refused = client.post(
            f"/api/v1/organizations/{ids['Globex']}/domains", headers=admin, json={"domain": bad}
        )
        assert refused.status_code == 400, bad
    unknown = client.post(
        "/api/v1/organizations/" + "0" * 32 + "/domains", headers=admin, json={"domain": "a.test"}
    )
    assert unknown.status_code == 404
    assert client.get("/api/v1/organizations", headers=bearer(acme)).status_code == 403
    gone = client.delete(
        f"/api/v1/organizations/{ids['Acme Health']}/domains/acme-health.test", headers=admin
    )
    assert gone.status_code == 204
    orgs = client.get("/api/v1/organizations", headers=admin).get_json()["items"]
    assert {o["name"]: o["domains"] for o in orgs}["Acme Health"] == []
    again = client.delete(
        f"/api/v1/organizations/{ids['Acme Health']}/domains/acme-health.test", headers=admin
    )
    assert again.status_code == 404


def test_pages_my_requests_duplicate_message_and_staff_queue(
    client, make_report, make_user, login_as
) -> None:
    make_report("SOC 2 Type II 2025")
    bob = make_user("customer", org="Globex", email="bob@globex.test")
    login_as(bob)
    sent = post_form(
        client,
        "/catalog/access-requests",
        {"series": "SOC", "message": "vendor review"},
        token_from="/catalog/",
    )
    assert sent.status_code == 302
    page = client.get("/catalog/").get_data(as_text=True)
    assert "You can follow it under My requests" in page
    again = post_form(client, "/catalog/access-requests", {"series": "SOC"}, token_from="/catalog/")
    assert again.headers["Location"].endswith("/catalog/requests/mine")
    mine = client.get("/catalog/requests/mine").get_data(as_text=True)
    assert "still pending" in mine
    assert "series SOC" in mine
    assert "vendor review" in mine
    assert "Waiting for the compliance team" in mine
    assert 'href="/catalog/requests/mine"' in mine  # the navigation's "My requests"
    client.post("/logout", data={"csrf_token": ""})

    staff_client = client.application.test_client()
    staff = make_user("staff")
    assert sign_in(staff_client, staff.email).status_code == 302
    queue = staff_client.get("/catalog/requests").get_data(as_text=True)
    assert "Globex" in queue
    assert "domain globex.test" in queue
    assert "first request" in queue
    home = staff_client.get("/").get_data(as_text=True)
    assert '<span class="badge">1<span class="visually-hidden"> pending</span></span>' in home
    made = post_form(
        staff_client,
        "/catalog/approval-rules",
        {"domain": "globex.test", "series": "SOC", "category": "", "organization": ""},
        token_from="/catalog/requests",
    )
    assert made.status_code == 302
    queue = staff_client.get("/catalog/requests").get_data(as_text=True)
    assert "anyone at globex.test" in queue
    assert "matching requests are approved at once" in queue
    refused = post_form(
        staff_client,
        "/catalog/approval-rules",
        {"domain": "globex.test", "organization": "Globex", "series": "SOC"},
        token_from="/catalog/requests",
    )
    assert refused.status_code == 400
    assert "name exactly one requester" in refused.get_data(as_text=True)


def test_admin_page_adds_and_removes_a_verified_domain(client, make_user, login_as) -> None:
    make_user("customer", org="Acme Health")
    login_as(make_user("admin"))
    page = client.get("/admin/").get_data(as_text=True)
    org_id = page.split('id="domain-organization"')[1].split('<option value="')[1].split('"')[0]
    added = post_form(
        client,
        "/admin/organizations/domains",
        {"domain-organization": org_id, "domain-domain": "acme.test"},
        token_from="/admin/",
    )
    assert added.status_code == 302
    page = client.get("/admin/").get_data(as_text=True)
    assert "acme.test is now a verified domain of Acme Health" in page
    assert '<span class="tag">acme.test</span>' in page
    bad = post_form(
        client,
        "/admin/organizations/domains",
        {"domain-organization": org_id, "domain-domain": "nope"},
        token_from="/admin/",
    )
    assert bad.status_code == 400
    assert "not a domain name like example.com" in bad.get_data(as_text=True)
    removed = post_form(
        client, f"/admin/organizations/{org_id}/domains/acme.test/remove", token_from="/admin/"
    )
    assert removed.status_code == 302
    assert '<span class="tag">acme.test</span>' not in client.get("/admin/").get_data(as_text=True)


def test_grants_listed_per_report_and_revoked_through_the_api(
    client, make_report, make_user, bearer
) -> None:
    report = make_report("SOC 2 Type II 2025")
    other = make_report("ISO 27001 certificate", category="certifications", series="ISO")
    carol = make_user("customer", org="Initech")
    staff = bearer(make_user("staff"))
    by_series = client.post(
        "/api/v1/grants", headers=staff, json={"series": "SOC", "organization": "Initech"}
    ).get_json()
    for_report = client.post(
        "/api/v1/grants", headers=staff, json={"report_id": report.id, "user": carol.email}
    ).get_json()
    client.post("/api/v1/grants", headers=staff, json={"report_id": other.id, "user": carol.email})
    listed = client.get("/api/v1/grants", query_string={"report_id": report.id}, headers=staff)
    assert listed.status_code == 200
    assert {g["id"] for g in listed.get_json()["items"]} == {by_series["id"], for_report["id"]}
    assert client.get("/api/v1/grants", headers=staff).get_json()["total"] == 3
    assert client.get("/api/v1/grants?report_id=nope", headers=staff).status_code == 400
    assert client.get("/api/v1/grants?report_id=" + "0" * 32, headers=staff).status_code == 404
    as_carol = bearer(carol)
    assert client.get("/api/v1/grants", headers=as_carol).status_code == 403
    assert client.delete(f"/api/v1/grants/{for_report['id']}", headers=as_carol).status_code == 403

    assert client.get(f"/api/v1/reports/{report.id}/download", headers=as_carol).status_code == 200
    assert client.delete(f"/api/v1/grants/{for_report['id']}", headers=staff).status_code == 204
    assert client.delete(f"/api/v1/grants/{for_report['id']}", headers=staff).status_code == 404
    revoked = client.post(f"/api/v1/grants/{by_series['id']}/revoke", headers=staff)
    assert revoked.status_code == 204
    assert client.get(f"/api/v1/reports/{report.id}/download", headers=as_carol).status_code == 404
    assert client.get(f"/api/v1/reports/{report.id}", headers=as_carol).get_json()["locked"]
