"""The agreement page a lawyer would accept: who signs for whom, the text's structure, a
printable view and the exact text, a typed name that must be the signer's, the record after
accepting and one clear message on accepting twice."""

from __future__ import annotations

import hashlib
import html
import re

from sqlalchemy import select

from artifact.agreements.services import agreements
from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR
from artifact.models import Acceptance
from tests.conftest import post_form

STRUCTURED = (
    "# Mutual NDA\n\n"
    "Intro with **defined terms** & <script>alert(1)</script>.\n\n"
    "1. What is confidential\nAnything marked confidential.\n\n"
    "## Duties\n- keep it safe\n- return it"
)


def _text(response) -> str:
    """The page's words as a reader sees them (tags dropped, spacing normalised)."""
    words = " ".join(
        html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split()
    )
    return re.sub(r" ([,.;)])", r"\1", words)


def _accept_form(agreement, typed_name: str, **extra: str) -> dict[str, str]:
    return {
        "typed_name": typed_name,
        "consent": "y",
        "scope": "account",
        "version": str(agreement.current.number),
        "text_sha256": agreement.current.text_sha256,
        **extra,
    }


def test_page_states_signer_and_organisation(client, nda, make_user, login_as) -> None:
    alice = make_user(
        "customer", org="Acme Health", email="alice@acme-health.test", name="Alice Example"
    )
    login_as(alice)
    page = _text(client.get(f"/agreements/{nda.id}"))
    assert "You are accepting as Alice Example, alice@acme-health.test, for yourself only" in page
    assert "your organisation, Acme Health, is recorded" in page
    assert nda.current.text_sha256 in page

    post_form(client, "/logout")
    boss = make_user("customer", org="Acme Health", org_admin=True, name="Olga Admin")
    login_as(boss)
    page = _text(client.get(f"/agreements/{nda.id}"))
    assert f"You are accepting as Olga Admin, {boss.email}, for Acme Health" in page
    assert "Yourself only (Olga Admin)" in page

    post_form(client, "/logout")
    loner = make_user("customer", name="Lone Wolf")
    login_as(loner)
    assert f"Lone Wolf, {loner.email}, for yourself only." in _text(
        client.get(f"/agreements/{nda.id}")
    )


def test_headings_render_and_nothing_runs(client, make_user, customer, login_as) -> None:
    agreement = agreements.create_agreement(
        db.session, OPERATOR, title="Structured NDA", kind="nda", text=STRUCTURED
    )
    uow.commit(db.session)
    login_as(customer)
    body = client.get(f"/agreements/{agreement.id}").get_data(as_text=True)
    assert "<h2>Mutual NDA</h2>" in body
    assert "<h2>1. What is confidential</h2>" in body
    assert "<h3>Duties</h3>" in body
    assert "<ul><li>keep it safe</li><li>return it</li></ul>" in body
    assert "<strong>defined terms</strong>" in body
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body

    printable = client.get(f"/agreements/{agreement.id}/print")
    assert printable.status_code == 200
    assert "<h3>Duties</h3>" in printable.get_data(as_text=True)
    assert agreement.current.text_sha256 in printable.get_data(as_text=True)
    exact = client.get(f"/agreements/{agreement.id}/text.txt")
    assert exact.status_code == 200
    assert exact.data == STRUCTURED.encode()
    assert hashlib.sha256(exact.data).hexdigest() == agreement.current.text_sha256


def test_typed_name_must_be_the_accounts_name_api(nda, api_as, customer) -> None:
    api = api_as(customer)
    refused = api.post(
        f"/agreements/{nda.id}/accept",
        {"version": 1, "typed_name": "Mickey Mouse", "scope": "account"},
    )
    assert refused.status_code == 400
    error = refused.get_json()["error"]
    assert error["code"] == "invalid"
    assert "Carla Customer" in error["message"]
    assert db.session.scalars(select(Acceptance)).all() == []
    accepted = api.post(
        f"/agreements/{nda.id}/accept",
        {"version": 1, "typed_name": "  carla   CUSTOMER ", "scope": "account"},
    )
    assert accepted.status_code == 201
    again = api.post(
        f"/agreements/{nda.id}/accept",
        {"version": 1, "typed_name": "Carla Customer", "scope": "account"},
    )
    assert again.status_code == 409
    assert again.get_json()["error"]["message"].startswith("you already accepted this version on ")


def test_page_mismatch_is_a_form_error_then_the_record(client, nda, customer, login_as) -> None:
    login_as(customer)
    next_path = "/catalog/abc/download"
    refused = post_form(
        client,
        f"/agreements/{nda.id}/accept",
        _accept_form(nda, "Mickey Mouse", next=next_path),
        token_from=f"/agreements/{nda.id}",
    )
    assert refused.status_code == 400
    page = _text(refused)
    assert "Type your name as it is on your account: “Carla Customer”" in page
    assert db.session.scalars(select(Acceptance)).all() == []

    done = post_form(
        client, f"/agreements/{nda.id}/accept", _accept_form(nda, "carla customer", next=next_path)
    )
    assert done.status_code == 302
    row = db.session.scalars(select(Acceptance)).one()
    record = client.get(done.headers["Location"])
    text = _text(record)
    assert "Signed by carla customer (typed name), account " + customer.email in text
    assert "For Carla Customer only (member of Acme Health)" in text
    assert f"Mutual NDA, version 1 Text SHA-256 {row.text_sha256}" in text
    body = record.get_data(as_text=True)
    assert f'href="{next_path}">Continue to your download</a>' in body
    assert f"/agreements/acceptances/{row.id}/certificate.pdf" in body

    twice = post_form(
        client,
        f"/agreements/{nda.id}/accept",
        _accept_form(nda, "Carla Customer", next=next_path),
        follow_redirects=True,
    )
    assert twice.status_code == 200
    when = row.accepted_at.strftime("%Y-%m-%d %H:%M UTC")
    assert _text(twice).count(f"You already accepted this version on {when}.") == 1
    assert len(db.session.scalars(select(Acceptance)).all()) == 1


def test_record_page_is_the_acceptors_and_next_stays_on_site(
    client, nda, customer, hostile, staff, login_as
) -> None:
    login_as(customer)
    done = post_form(
        client,
        f"/agreements/{nda.id}/accept",
        _accept_form(nda, "Carla Customer", next="https://evil.test/x"),
        token_from=f"/agreements/{nda.id}",
    )
    row = db.session.scalars(select(Acceptance)).one()
    assert done.headers["Location"] == f"/agreements/acceptances/{row.id}"
    page = client.get(f"/agreements/acceptances/{row.id}?next=//evil.test/x")
    assert "evil.test" not in page.get_data(as_text=True)
    assert "Continue to your download" not in page.get_data(as_text=True)
    post_form(client, "/logout")
    login_as(hostile)
    assert client.get(f"/agreements/acceptances/{row.id}").status_code == 404
