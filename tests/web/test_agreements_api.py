"""Agreements through the JSON API, black-box: publish, accept, versions, scope, termination,
and the terms gate's answer (``terms_status``) after each step."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from artifact.agreements.services import agreements
from artifact.extensions import db
from artifact.kernel.errors import TermsRequired
from artifact.models import Acceptance, AuditEvent
from tests.callers import as_caller
from tests.fixtures_agreements import NDA_TEXT


def _satisfied(user, agreement_id: str) -> bool:
    return agreements.terms_status(db.session, as_caller(user), agreement_id).satisfied


def test_admin_creates_and_publishes_others_may_not(make_user, api_as, customer) -> None:
    admin_api = api_as(make_user("admin"))
    response = admin_api.post(
        "/agreements", {"title": "Data BAA", "kind": "baa", "text": "Sample BAA.\r\n\r\nClause 1."}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["current_version"] == 1
    response = admin_api.post(f"/agreements/{body['id']}/versions", {"text": "Clause 1, v2."})
    assert response.status_code == 201
    assert response.get_json()["current_version"] == 2
    customer_api = api_as(customer)
    assert (
        customer_api.post("/agreements", {"title": "X", "kind": "nda", "text": "t"}).status_code
        == 403
    )
    assert (
        customer_api.post(f"/agreements/{body['id']}/versions", {"text": "mine"}).status_code == 403
    )
    listed = customer_api.get("/agreements").get_json()
    assert listed["total"] == 1
    assert listed["items"][0]["current_version"] == 2
    assert listed["items"][0]["acceptance"] is None
    assert (
        admin_api.post(
            "/agreements", {"title": "data baa", "kind": "baa", "text": "dup"}
        ).status_code
        == 409
    )
    assert (
        admin_api.post("/agreements", {"title": "Bad", "kind": "eula", "text": "t"}).status_code
        == 400
    )


def test_accepting_records_the_hash_of_the_text(nda, api_as, customer) -> None:
    api = api_as(customer)
    shown = api.get(f"/agreements/{nda.id}").get_json()
    assert shown["text"] == NDA_TEXT
    assert not _satisfied(customer, nda.id)
    response = api.post(
        f"/agreements/{nda.id}/accept",
        {"version": 1, "typed_name": "  Carla   Customer ", "scope": "account"},
    )
    assert response.status_code == 201, response.get_json()
    expected = hashlib.sha256(NDA_TEXT.encode()).hexdigest()
    assert response.get_json()["text_sha256"] == expected
    row = db.session.get(Acceptance, response.get_json()["acceptance_id"])
    assert (row.user_id, row.organization_id, row.scope) == (
        customer.id,
        customer.organization_id,
        "account",
    )
    assert row.typed_name == "Carla Customer"
    assert row.text_sha256 == expected
    assert row.user_agent == "pytest-agent/1.0"
    assert row.ip_address == "127.0.0.1"
    assert row.accepted_at.tzinfo is not None
    assert _satisfied(customer, nda.id)
    listed = api.get("/agreements").get_json()["items"][0]
    assert listed["satisfied"] is True
    assert listed["acceptance"]["id"] == row.id
    again = api.post(
        f"/agreements/{nda.id}/accept", {"version": 1, "typed_name": "Carla", "scope": "account"}
    )
    assert again.status_code == 409
    audited = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "agreement.accept", AuditEvent.outcome == "success"
        )
    ).all()
    assert [event.target_id for event in audited] == [row.id]


def test_old_version_409_new_version_needs_acceptance_again(
    nda, api_as, customer, make_user
) -> None:
    api, admin_api = api_as(customer), api_as(make_user("admin"))
    first = api.post(
        f"/agreements/{nda.id}/accept",
        {"version": 1, "typed_name": "Carla Customer", "scope": "account"},
    )
    assert first.status_code == 201
    assert (
        admin_api.post(
            f"/agreements/{nda.id}/versions", {"text": NDA_TEXT + "\n\n3. New clause."}
        ).status_code
        == 201
    )
    assert not _satisfied(customer, nda.id)
    status = agreements.terms_status(db.session, as_caller(customer), nda.id)
    assert status.current_version == 2
    stale = api.post(
        f"/agreements/{nda.id}/accept",
        {"version": 1, "typed_name": "Carla Customer", "scope": "account"},
    )
    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "conflict"
    assert stale.get_json()["error"]["current_version"] == 2
    wrong_text = api.post(
        f"/agreements/{nda.id}/accept",
        {"version": 2, "typed_name": "Carla Customer", "scope": "account", "text_sha256": "0" * 64},
    )
    assert wrong_text.status_code == 409
    assert not _satisfied(customer, nda.id)
    second = api.post(
        f"/agreements/{nda.id}/accept",
        {"version": 2, "typed_name": "Carla Customer", "scope": "account"},
    )
    assert second.status_code == 201
    assert _satisfied(customer, nda.id)
    history = api.get("/acceptances").get_json()
    assert history["total"] == 2
    assert [item["version"] for item in history["items"]] == [2, 1]
    assert history["items"][1]["id"] == first.get_json()["acceptance_id"]


def test_organisation_acceptance_covers_members_who_join_later(nda, api_as, make_user) -> None:
    org_admin = make_user("customer", org="Acme Health", org_admin=True, name="Olga Admin")
    member = make_user("customer", org="Acme Health")
    outsider = make_user("customer", org="Evil Corp")
    denied = api_as(member).post(
        f"/agreements/{nda.id}/accept", {"version": 1, "typed_name": "M", "scope": "organization"}
    )
    assert denied.status_code == 403
    assert not _satisfied(member, nda.id)
    response = api_as(org_admin).post(
        f"/agreements/{nda.id}/accept",
        {"version": 1, "typed_name": "Olga Admin", "scope": "organization"},
    )
    assert response.status_code == 201
    newcomer = make_user("customer", org="Acme Health")
    assert _satisfied(newcomer, nda.id)
    assert _satisfied(member, nda.id)
    assert _satisfied(org_admin, nda.id)
    assert not _satisfied(outsider, nda.id)
    assert api_as(newcomer).get("/agreements").get_json()["items"][0]["satisfied"] is True
    # a member may not end what binds the organisation; the org admin may
    assert (
        api_as(member)
        .post(f"/agreements/{nda.id}/terminate", {"scope": "organization"})
        .status_code
        == 403
    )
    assert _satisfied(newcomer, nda.id)
    ended = api_as(org_admin).post(f"/agreements/{nda.id}/terminate", {"scope": "organization"})
    assert ended.status_code == 200
    assert not _satisfied(newcomer, nda.id)


def test_terminating_ends_satisfaction_at_once(nda, api_as, customer) -> None:
    api = api_as(customer)
    accepted = api.post(
        f"/agreements/{nda.id}/accept",
        {"version": 1, "typed_name": "Carla Customer", "scope": "account"},
    ).get_json()
    assert _satisfied(customer, nda.id)
    response = api.post(
        f"/agreements/{nda.id}/terminate", {"scope": "account", "reason": "contract ended"}
    )
    assert response.status_code == 200
    assert response.get_json()["terminated"][0]["acceptance_id"] == accepted["acceptance_id"]
    assert not _satisfied(customer, nda.id)
    with pytest.raises(TermsRequired) as raised:
        agreements.require_terms(db.session, as_caller(customer), nda.id)
    assert raised.value.details == {"agreement_id": nda.id, "version": 1}
    history = api.get("/acceptances").get_json()["items"]
    assert history[0]["terminated_at"] is not None
    assert api.post(f"/agreements/{nda.id}/terminate", {"scope": "account"}).status_code == 409
    assert (
        api.post(
            f"/agreements/{nda.id}/accept",
            {"version": 1, "typed_name": "Carla Customer", "scope": "account"},
        ).status_code
        == 201
    )
    assert _satisfied(customer, nda.id)


def test_certificate_only_for_acceptor_and_staff(nda, api_as, customer, hostile, staff) -> None:
    accepted = (
        api_as(customer)
        .post(
            f"/agreements/{nda.id}/accept",
            {"version": 1, "typed_name": "Carla Customer", "scope": "account"},
        )
        .get_json()
    )
    path = f"/acceptances/{accepted['acceptance_id']}/certificate"
    response = api_as(customer).get(path)
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF-")
    assert api_as(staff).get(path).status_code == 200
    assert api_as(hostile).get(path).status_code == 404
    assert api_as(hostile).get("/acceptances/nope/certificate").status_code == 404
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "acceptance.certificate")
    ).all()
    assert len(events) == 2


def test_bad_input_is_400_and_unknown_agreement_404(nda, api_as, customer) -> None:
    api = api_as(customer)
    for body in (
        {"version": "x", "typed_name": "Carla Customer", "scope": "account"},
        {"version": 1, "typed_name": "   ", "scope": "account"},
        {"version": 1, "typed_name": "C\x00", "scope": "account"},
        {"version": 1, "typed_name": "Carla Customer", "scope": "planet"},
        ["not", "an", "object"],
        # As documented: the version is a JSON integer, the shown hash 64 hex digits, and the
        # typed name at most 200 characters as sent.
        {"version": "1", "typed_name": "Carla Customer", "scope": "account"},
        {"version": True, "typed_name": "Carla Customer", "scope": "account"},
        {"version": 1, "typed_name": "Carla Customer", "text_sha256": 7},
        {"version": 1, "typed_name": "Carla Customer", "text_sha256": ""},
        {"version": 1, "typed_name": "C" + " " * 200},
    ):
        assert api.post(f"/agreements/{nda.id}/accept", body).status_code == 400, body
    assert (
        api.post(
            "/agreements/nope/accept",
            {"version": 1, "typed_name": "Carla Customer", "scope": "account"},
        ).status_code
        == 404
    )
    assert db.session.scalars(select(Acceptance)).all() == []


def test_terms_required_maps_to_428_naming_agreement_and_version(
    app, nda, customer, api_as
) -> None:
    """What the gate will answer once the lead wires it into downloads (a probe route here)."""

    def probe() -> dict:
        from flask_login import current_user

        agreements.require_terms(db.session, as_caller(current_user), nda.id)
        return {"ok": True}

    app.add_url_rule("/api/v1/gate-probe", "gate_probe", probe)
    api = api_as(customer)
    response = api.get("/gate-probe")
    assert response.status_code == 428
    assert response.get_json()["error"] == {
        "code": "terms_required",
        "message": "accept Mutual NDA (version 1) first",
        "agreement_id": nda.id,
        "version": 1,
    }
    api.post(
        f"/agreements/{nda.id}/accept",
        {"version": 1, "typed_name": "Carla Customer", "scope": "account"},
    )
    assert api.get("/gate-probe").get_json() == {"ok": True}


def test_titles_clash_ignoring_case_beyond_ascii_and_same_text_is_a_conflict(
    nda, api_as, make_user
) -> None:
    admin_api = api_as(make_user("admin"))
    first = admin_api.post("/agreements", {"title": "Édition NDA", "kind": "nda", "text": "T."})
    assert first.status_code == 201
    again = admin_api.post("/agreements", {"title": "Édition NDA", "kind": "nda", "text": "T."})
    assert again.status_code == 409
    same = admin_api.post(f"/agreements/{nda.id}/versions", {"text": NDA_TEXT})
    assert same.status_code == 409
    assert "same as the current" in same.get_json()["error"]["message"]
    for text in ("\x0cform feed at the edge", "vertical\x0btab", "   \r\n  "):
        response = admin_api.post(f"/agreements/{nda.id}/versions", {"text": text})
        assert response.status_code == 400, text


def test_what_cannot_be_an_id_names_nothing(nda, api_as, customer) -> None:
    """Never put in a query: PostgreSQL refuses NUL in text (a 500 there, before)."""
    api = api_as(customer)
    assert api.get("/agreements/nope").status_code == 404
    # NUL never gets past the edge of the app (issue 16): a 400 that names where it was.
    for path in (
        "/agreements/%00",
        "/acceptances/%00/certificate",
        "/acceptances?agreement_id=%00",
    ):
        assert api.get(path).status_code == 400, path
    assert (
        api.post(
            "/agreements/%00/accept", {"version": 1, "typed_name": "Carla Customer"}
        ).status_code
        == 400
    )
    api.post(f"/agreements/{nda.id}/accept", {"version": 1, "typed_name": "Carla Customer"})
    refused = api.post(f"/agreements/{nda.id}/terminate", {"reason": "a\x00b"})
    assert refused.status_code == 400
    assert api.post(f"/agreements/{nda.id}/terminate", {"reason": "done"}).status_code == 200
