"""Categories and series are records staff manage (name, description, order): the API, the staff
page, the lists forms and filters choose from, and refusals of series that match nothing."""

from __future__ import annotations

import pytest

from artifact.extensions import db
from artifact.models import AuditEvent, Report, ReportSeries
from tests.conftest import post_form


def test_create_rename_and_reorder_a_series_through_the_api(client, staff, bearer) -> None:
    headers = bearer(staff)
    first = client.post("/api/v1/series", headers=headers, json={"name": "SOC 2"})
    assert first.status_code == 201, first.get_json()
    second = client.post(
        "/api/v1/series",
        headers=headers,
        json={"name": "Penetration tests", "slug": "PENTEST", "description": "Yearly"},
    )
    assert second.get_json()["slug"] == "PENTEST"
    listed = client.get("/api/v1/series", headers=headers).get_json()
    assert [s["slug"] for s in listed["items"]] == ["SOC 2", "PENTEST"]
    series_id = first.get_json()["id"]
    renamed = client.patch(
        f"/api/v1/series/{series_id}", headers=headers, json={"name": "SOC 2 Type II"}
    )
    assert renamed.get_json() == {**first.get_json(), "name": "SOC 2 Type II"}  # slug stays
    moved = client.patch(f"/api/v1/series/{series_id}", headers=headers, json={"position": 9})
    assert moved.status_code == 200
    listed = client.get("/api/v1/series", headers=headers).get_json()
    assert [s["name"] for s in listed["items"]] == ["Penetration tests", "SOC 2 Type II"]
    taken = client.post("/api/v1/series", headers=headers, json={"name": "soc 2"})
    assert taken.status_code == 409
    empty = client.patch(f"/api/v1/series/{series_id}", headers=headers, json={})
    assert empty.status_code == 400
    assert (
        client.patch(f"/api/v1/series/{'0' * 32}", headers=headers, json={"name": "x"}).status_code
        == 404
    )
    actions = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.seq)]
    assert actions.count("taxonomy.series.update") == 2


def test_categories_keep_their_slugs(client, staff, customer, bearer) -> None:
    headers = bearer(staff)
    listed = client.get("/api/v1/categories").get_json()  # anyone may read them
    assert [c["slug"] for c in listed["items"]] == [
        "certifications",
        "reports",
        "regulations",
        "agreements",
    ]
    made = client.post(
        "/api/v1/categories", headers=headers, json={"slug": "pen-tests", "name": "Pen tests"}
    )
    assert made.status_code == 201, made.get_json()
    reports_id = listed["items"][1]["id"]
    renamed = client.patch(
        f"/api/v1/categories/{reports_id}",
        headers=headers,
        json={"name": "Attestation reports", "position": 0},
    )
    assert renamed.get_json()["slug"] == "reports"
    refused = client.patch(
        f"/api/v1/categories/{reports_id}", headers=headers, json={"slug": "other"}
    )
    assert refused.status_code == 400
    created = client.post(
        "/api/v1/reports", headers=headers, json={"title": "Pen test", "category": "pen-tests"}
    )
    assert created.status_code == 201
    as_customer = bearer(customer)
    assert (
        client.post(
            "/api/v1/categories", headers=as_customer, json={"slug": "x", "name": "X"}
        ).status_code
        == 403
    )
    assert (
        client.patch(
            f"/api/v1/categories/{reports_id}", headers=as_customer, json={"name": "X"}
        ).status_code
        == 403
    )


def test_unknown_series_are_refused_with_a_clear_message(
    client, staff, customer, bearer, make_report
) -> None:
    make_report("SOC 2 Type II", series="SOC 2")
    headers = bearer(staff)
    body = {"title": "Scan", "category": "reports", "series": "Pentest"}
    refused = client.post("/api/v1/reports", headers=headers, json=body)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["message"] == (
        "unknown series 'Pentest': choose one of the series staff manage (SOC 2)"
    )
    assert db.session.query(Report).filter_by(title="Scan").count() == 0
    # Any case names the series; the report stores its slug.
    made = client.post("/api/v1/reports", headers=headers, json={**body, "series": "soc 2"})
    assert made.get_json()["series"] == "SOC 2"
    grant = client.post(
        "/api/v1/grants", headers=headers, json={"series": "Pentest", "user": customer.email}
    )
    assert grant.status_code == 400
    assert "unknown series" in grant.get_json()["error"]["message"]
    asked = client.post("/api/v1/access-requests", headers=bearer(customer), json={"series": "X"})
    assert asked.status_code == 400
    # A customer is not told which series exist.
    assert asked.get_json()["error"]["message"] == (
        "unknown series 'X': choose one of the series staff manage"
    )


def test_the_staff_page_manages_series_and_report_forms_offer_them(client, staff, login_as) -> None:
    login_as(staff)
    page = "/catalog/taxonomy"
    assert client.get(page).status_code == 200
    response = post_form(
        client,
        f"{page}/series",
        {"name": "Bridge letters", "slug": "BRIDGE", "description": "Gaps between reports"},
        token_from=page,
        follow_redirects=True,
    )
    assert "Series Bridge letters added." in response.get_data(as_text=True)
    new_form = client.get("/catalog/new").get_data(as_text=True)
    assert '<option value="BRIDGE">Bridge letters (BRIDGE)</option>' in new_form
    record = db.session.query(ReportSeries).filter_by(slug="BRIDGE").one()
    renamed = post_form(
        client,
        f"{page}/series/{record.id}",
        {"name": "Bridge letters (SOC)", "position": "3"},
        token_from=page,
        follow_redirects=True,
    )
    assert "Series Bridge letters (SOC) saved." in renamed.get_data(as_text=True)
    db.session.refresh(record)
    assert (record.slug, record.name, record.position) == ("BRIDGE", "Bridge letters (SOC)", 3)
    created = post_form(
        client,
        "/catalog/new",
        {
            "title": "Bridge letter Q1",
            "category": "reports",
            "series": "BRIDGE",
            "visibility": "restricted",
            "listing": "listed",
            "terms_agreement_id": "",
        },
        token_from="/catalog/new",
    )
    assert created.status_code == 302, created.get_data(as_text=True)
    refused = post_form(
        client,
        "/catalog/new",
        {"title": "Other", "category": "reports", "series": "Unknown", "terms_agreement_id": ""},
        token_from="/catalog/new",
    )
    assert refused.status_code == 400
    assert "Not a valid choice" in refused.get_data(as_text=True)


@pytest.mark.parametrize("role", ["customer", "auditor"])
def test_only_staff_manage_the_taxonomy(client, make_user, login_as, role: str) -> None:
    login_as(make_user(role))
    assert client.get("/catalog/taxonomy").status_code == 403
    refused = post_form(client, "/catalog/taxonomy/series", {"name": "Mine"})
    assert refused.status_code == 403


def test_visitors_see_only_the_series_of_reports_listed_to_them(
    client, make_report, customer, bearer
) -> None:
    make_report("Public SOC 3", visibility="public", series="SOC 3")
    make_report("Secret pentest", series="PENTEST")
    assert [s["slug"] for s in client.get("/api/v1/series").get_json()["items"]] == ["SOC 3"]
    assert "PENTEST" not in client.get("/catalog/").get_data(as_text=True)
    # Signed in, a customer may ask for a series whose reports they cannot see yet.
    listed = client.get("/api/v1/series", headers=bearer(customer)).get_json()["items"]
    assert [s["slug"] for s in listed] == ["SOC 3", "PENTEST"]  # in the order staff gave
