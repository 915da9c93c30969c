"""The terms gate: a report that requires an agreement downloads only for callers (or their
organisation) holding an active acceptance of the agreement's current version."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from artifact.extensions import db
from artifact.kernel import uow
from artifact.models import Acceptance, AuditEvent
from tests.conftest import post_form
from tests.fixtures_agreements import NDA_TEXT
from tests.fixtures_catalog import page_texts


def _gated_report(make_report, nda, organization: str):
    from artifact.catalog.services import grants
    from artifact.identity.services import accounts
    from artifact.kernel.caller import OPERATOR

    if accounts.find_organization(db.session, organization) is None:
        accounts.create_organization(db.session, OPERATOR, organization)
    report = make_report("SOC 2 Type II", visibility="restricted", terms_agreement_id=nda.id)
    grants.create_grant(db.session, OPERATOR, report_id=report.id, organization=organization)
    uow.commit(db.session)
    return report


def test_api_black_box(make_report, make_user, nda, api_as, admin) -> None:
    report = _gated_report(make_report, nda, "Acme Health")
    alice = api_as(make_user("customer", org="Acme Health", name="Alice"))
    download = f"/reports/{report.id}/download"

    gated = alice.get(download)
    assert gated.status_code == 428
    error = gated.get_json()["error"]
    assert (error["code"], error["agreement_id"], error["version"]) == ("terms_required", nda.id, 1)
    assert alice.get(f"/reports/{report.id}").get_json()["needs_terms"] is True
    assert alice.client.head("/api/v1" + download, headers=alice.headers).status_code == 428

    boss = api_as(admin)
    assert (
        boss.post(
            f"/agreements/{nda.id}/versions", {"text": NDA_TEXT + "\n\n3. Version two."}
        ).status_code
        == 201
    )
    old = alice.post(
        f"/agreements/{nda.id}/accept", {"version": 1, "typed_name": "Alice", "scope": "account"}
    )
    assert old.status_code == 409
    accepted = alice.post(
        f"/agreements/{nda.id}/accept", {"version": 2, "typed_name": "Alice", "scope": "account"}
    )
    assert accepted.status_code == 201
    ok = alice.get(download)
    assert ok.status_code == 200
    assert all(alice.user.email in text for text in page_texts(ok.data))
    assert alice.get(f"/reports/{report.id}").get_json()["needs_terms"] is False

    assert (
        boss.post(
            f"/agreements/{nda.id}/versions", {"text": NDA_TEXT + "\n\n3. Version three."}
        ).status_code
        == 201
    )
    assert alice.get(download).status_code == 428
    assert (
        alice.post(
            f"/agreements/{nda.id}/accept",
            {"version": 3, "typed_name": "Alice", "scope": "account"},
        ).status_code
        == 201
    )
    assert alice.get(download).status_code == 200
    history = db.session.scalars(
        select(Acceptance.version_number)
        .where(Acceptance.user_id == alice.user.id)
        .order_by(Acceptance.version_number)
    ).all()
    assert history == [2, 3]

    assert alice.post(f"/agreements/{nda.id}/terminate", {"scope": "account"}).status_code == 200
    assert alice.get(download).status_code == 428


def test_organisation_acceptance_covers_later_members(make_report, make_user, nda, api_as) -> None:
    report = _gated_report(make_report, nda, "Acme Health")
    member = api_as(make_user("customer", org="Acme Health"))
    refused = member.post(
        f"/agreements/{nda.id}/accept", {"version": 1, "typed_name": "Bob", "scope": "organization"}
    )
    assert refused.status_code == 403
    assert member.get(f"/reports/{report.id}/download").status_code == 428

    org_admin = api_as(make_user("customer", org="Acme Health", org_admin=True, name="Ada"))
    assert (
        org_admin.post(
            f"/agreements/{nda.id}/accept",
            {"version": 1, "typed_name": "Ada", "scope": "organization"},
        ).status_code
        == 201
    )
    newcomer = api_as(make_user("customer", org="Acme Health"))  # joins afterwards
    assert newcomer.get(f"/reports/{report.id}/download").status_code == 200
    assert member.get(f"/reports/{report.id}/download").status_code == 200

    outsider = api_as(make_user("customer", org="Globex"))
    assert outsider.get(f"/reports/{report.id}/download").status_code == 404

    assert (
        org_admin.post(f"/agreements/{nda.id}/terminate", {"scope": "organization"}).status_code
        == 200
    )
    assert newcomer.get(f"/reports/{report.id}/download").status_code == 428


def test_gate_is_not_a_leak(make_report, make_user, nda, api_as) -> None:
    """A caller who may not see the report gets 404, never 428 naming the agreement."""
    report = _gated_report(make_report, nda, "Acme Health")
    outsider = api_as(make_user("customer", org="Evil Corp"))
    response = outsider.get(f"/reports/{report.id}/download")
    assert response.status_code == 404
    assert nda.id not in response.get_data(as_text=True)


def test_page_flow_accepts_then_continues_to_the_download(
    client, make_report, make_user, nda, login_as
) -> None:
    report = _gated_report(make_report, nda, "Acme Health")
    alice = make_user("customer", org="Acme Health", name="Alice Acme")
    login_as(alice)
    detail = client.get(f"/catalog/{report.id}").get_data(as_text=True)
    assert "Downloads need your acceptance of" in detail
    download = f"/catalog/{report.id}/download"
    response = client.get(download)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == f"/agreements/{nda.id}"
    assert parse_qs(location.query)["next"] == [download]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Keep it secret." in page
    accepted = post_form(
        client,
        f"/agreements/{nda.id}/accept",
        {
            "typed_name": "Alice Acme",
            "consent": "y",
            "scope": "account",
            "version": "1",
            "text_sha256": _hidden(page, "text_sha256"),
            "next": _hidden(page, "next"),
        },
        token_from=response.headers["Location"],
    )
    assert accepted.status_code == 302
    record = urlsplit(accepted.headers["Location"])
    assert record.path.startswith("/agreements/acceptances/")
    assert parse_qs(record.query)["next"] == [download]
    confirmation = client.get(accepted.headers["Location"]).get_data(as_text=True)
    assert f'href="{download}">Continue to your download</a>' in confirmation
    assert 'name="consent"' not in confirmation
    ok = client.get(download)
    assert ok.status_code == 200
    assert ok.mimetype == "application/pdf"
    # The report's page, seen before the acceptance, says so at once (what it knew is kept
    # per policy generation, which the acceptance bumped).
    detail = client.get(f"/catalog/{report.id}").get_data(as_text=True)
    assert "Downloads need your acceptance of" not in detail
    assert "You have accepted" in detail
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "agreement.accept" in actions
    assert "report.download" in actions


def _hidden(page: str, name: str) -> str:
    """The value of a hidden field of the accept form, as a browser would send it."""
    import html
    import re

    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert match, f"the accept form has no {name} field"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return html.unescape(value.group(1)) if value else ""


def test_staff_set_terms_through_the_page(client, make_report, nda, staff, login_as) -> None:
    report = make_report("PCI AOC", visibility="customers")
    login_as(staff)
    detail = f"/catalog/{report.id}"
    response = post_form(
        client,
        f"{detail}/terms",
        {"terms_agreement_id": nda.id},
        token_from=detail,
        follow_redirects=True,
    )
    assert "Downloads now need acceptance of Mutual NDA" in response.get_data(as_text=True)
    db.session.refresh(report)
    assert report.terms_agreement_id == nda.id
    bogus = post_form(
        client,
        f"{detail}/terms",
        {"terms_agreement_id": "nope"},
        token_from=detail,
        follow_redirects=True,
    )
    assert "Choose one of the published agreements" in bogus.get_data(as_text=True)
    assert (
        post_form(
            client, f"{detail}/terms", {"terms_agreement_id": ""}, token_from=detail
        ).status_code
        == 302
    )
    db.session.refresh(report)
    assert report.terms_agreement_id is None


def test_api_create_with_unknown_agreement_is_refused(api_as, staff) -> None:
    # Not an id at all: the document's pattern refuses it.
    response = api_as(staff).post(
        "/reports", {"title": "X", "category": "reports", "terms_agreement_id": "nope"}
    )
    assert response.status_code == 400
    assert "terms_agreement_id" in response.get_json()["error"]["message"]
    # Well formed, but naming no published agreement: a conflict with what exists.
    response = api_as(staff).post(
        "/reports", {"title": "X", "category": "reports", "terms_agreement_id": "0" * 32}
    )
    assert response.status_code == 409
    assert "no published agreement" in response.get_json()["error"]["message"]
