"""Editing a report without rewriting history: PATCH /api/v1/reports/{id} and the staff page's
form, each change one audit event read back as the report's history; who may do it; the search
index and the catalog lists follow."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest

from artifact.extensions import db
from artifact.models import AuditEvent
from tests.conftest import post_form
from tests.fixtures_catalog import ensure_series, make_pdf


def test_patch_title_and_valid_until_shows_in_the_report_and_its_history(
    client, make_report, staff, bearer
) -> None:
    report = make_report("SOC 2 Type II 2025", period_end=date(2025, 12, 31))
    headers = bearer(staff)
    before = client.get(f"/api/v1/reports/{report.id}", headers=headers).get_json()
    assert before["valid_until"] == "2026-12-31"  # the default: 12 months after the period
    patched = client.patch(
        f"/api/v1/reports/{report.id}",
        headers=headers,
        json={"title": "SOC 2 Type II report 2025", "valid_until": "2027-01-31"},
    )
    assert patched.status_code == 200, patched.get_json()
    body = patched.get_json()
    assert (body["title"], body["valid_until"]) == ("SOC 2 Type II report 2025", "2027-01-31")
    assert body["versions"]  # versions stay as they were
    again = client.get(f"/api/v1/reports/{report.id}", headers=headers).get_json()
    assert (again["title"], again["valid_until"]) == ("SOC 2 Type II report 2025", "2027-01-31")

    history = client.get(f"/api/v1/reports/{report.id}/history", headers=headers).get_json()
    edits = [item for item in history["items"] if item["action"] == "report.edit"]
    assert len(edits) == 1
    assert history["total"] == len(history["items"])
    assert edits[0]["by"] == staff.email
    moment = datetime.fromisoformat(edits[0]["at"])
    assert abs((moment - datetime.now(moment.tzinfo)).total_seconds()) < 60
    assert edits[0]["fields"] == {
        "title": {"from": "SOC 2 Type II 2025", "to": "SOC 2 Type II report 2025"},
        "valid_until": {"from": None, "to": "2027-01-31"},
    }
    # One audit event in the hash-chained trail, the same fields.
    event = db.session.query(AuditEvent).filter_by(action="report.edit").one()
    assert (event.actor_email, event.target_id) == (staff.email, report.id)
    # Resetting valid_until (null) returns to the category's default.
    reset = client.patch(
        f"/api/v1/reports/{report.id}", headers=headers, json={"valid_until": None}
    )
    assert reset.get_json()["valid_until"] == "2026-12-31"


@pytest.mark.parametrize("role", ["customer", "auditor"])
def test_customers_and_auditors_may_not_edit(
    client, make_report, make_user, bearer, role: str
) -> None:
    visible = make_report("Public SOC 3", visibility="public")
    hidden = make_report("Restricted SOC 2")  # restricted, no grant: not visible to them
    headers = bearer(make_user(role, org="Acme Health"))
    body = {"title": "Mine now"}
    assert (
        client.patch(f"/api/v1/reports/{visible.id}", headers=headers, json=body).status_code == 403
    )
    refused = client.patch(f"/api/v1/reports/{hidden.id}", headers=headers, json=body)
    assert refused.status_code == 404
    assert "Restricted" not in refused.get_data(as_text=True)
    for path in ("history", "access"):
        assert (
            client.get(f"/api/v1/reports/{visible.id}/{path}", headers=headers).status_code == 403
        )
        assert client.get(f"/api/v1/reports/{hidden.id}/{path}", headers=headers).status_code == 404
    assert client.patch(f"/api/v1/reports/{visible.id}", json=body).status_code == 401
    assert client.get(f"/api/v1/reports/{visible.id}", headers=headers).get_json()["title"] == (
        "Public SOC 3"
    )
    assert db.session.query(AuditEvent).filter_by(action="report.edit").count() == 0


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({}, "at least one"),
        ({"tilte": "x"}, "unknown field 'tilte'"),
        ({"state": "published"}, "unknown field 'state'"),  # has its own operation
        ({"category": "nonsense"}, "unknown category 'nonsense': choose one of certifications"),
        ({"category": "Reports!"}, "category: must be a category's slug"),
        ({"series": "Pentest"}, "unknown series 'Pentest': choose one of the series staff manage"),
        ({"period_start": "2026-01-01", "period_end": "2025-12-31"}, "ends before it starts"),
        ({"issued_on": "2026-02-01", "valid_until": "2026-01-31"}, "a day before it was issued"),
        ({"valid_until": "31/01/2027"}, "valid_until: '31/01/2027' is not a 'date'"),
        ({"listing": "secret"}, "'secret' is not one of ['listed', 'hidden']"),
        ({"title": " "}, "title: must be one line, not blank"),
        ({"bridges_report_id": "0" * 32}, "bridges_report_id names no report"),
    ],
)
def test_bad_edits_are_refused_with_a_clear_message(
    client, make_report, staff, bearer, body, says: str
) -> None:
    report = make_report()
    response = client.patch(f"/api/v1/reports/{report.id}", headers=bearer(staff), json=body)
    assert response.status_code == 400, response.get_json()
    assert says in response.get_json()["error"]["message"]
    assert db.session.query(AuditEvent).filter_by(action="report.edit").count() == 0


def test_an_edit_that_changes_nothing_records_nothing(client, make_report, staff, bearer) -> None:
    report = make_report("Same")
    response = client.patch(
        f"/api/v1/reports/{report.id}", headers=bearer(staff), json={"title": "Same"}
    )
    assert response.status_code == 200
    assert db.session.query(AuditEvent).filter_by(action="report.edit").count() == 0


def test_the_staff_page_edits_and_shows_the_history(client, make_report, staff, login_as) -> None:
    ensure_series("SOC 2")
    report = make_report("Pen test 2025", visibility="public", frameworks=["SOC 2"])
    login_as(staff)
    page = f"/catalog/{report.id}"
    html = client.get(page).get_data(as_text=True)
    for heading in ("Edit details", "Upload a version", "Access", "Recent downloads", "History"):
        assert heading in html
    form = {
        "title": "Penetration test 2025",
        "category": "reports",
        "series": "SOC 2",
        "frameworks": "SOC 2",
        "issued_on": "2026-01-15",
        "visibility": "public",
        "listing": "listed",
    }
    response = post_form(client, f"{page}/edit", form, token_from=page, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Saved (title, series, issued on)" in html
    assert "Penetration test 2025" in html
    history = html[html.index('id="history"') :]
    assert "title: Pen test 2025 → Penetration test 2025" in history
    assert "series: SOC → SOC 2" in history
    assert staff.email in history
    refused = post_form(
        client, f"{page}/edit", {**form, "series": "Nope"}, token_from=page, follow_redirects=True
    )
    assert "Not changed: Series: Not a valid choice" in refused.get_data(as_text=True)


def test_search_and_lists_follow_an_edit(
    client, make_report, staff, customer, bearer, search_api, search_index
) -> None:
    report = make_report("Quarterly scan", visibility="customers", pdf=make_pdf(marker="results"))
    assert search_api(customer, q="Quarterly")[1]["total"] == 1
    headers = bearer(staff)
    client.patch(f"/api/v1/reports/{report.id}", headers=headers, json={"title": "Wombatscan"})
    assert search_api(customer, q="Wombatscan")[1]["total"] == 1
    assert search_api(customer, q="Quarterly")[1]["total"] == 0
    # Hidden: out of lists and search for customers, still reachable by its link; staff list it.
    client.patch(f"/api/v1/reports/{report.id}", headers=headers, json={"listing": "hidden"})
    as_customer = bearer(customer)
    assert client.get("/api/v1/reports", headers=as_customer).get_json()["total"] == 0
    assert search_api(customer, q="Wombatscan")[1]["total"] == 0
    shown = client.get(f"/api/v1/reports/{report.id}", headers=as_customer).get_json()
    assert shown["listing"] == "hidden"
    assert (
        client.get(f"/api/v1/reports/{report.id}/download", headers=as_customer).status_code == 200
    )
    assert client.get("/api/v1/reports", headers=headers).get_json()["total"] == 1
    assert search_api(staff, q="Wombatscan")[1]["total"] == 1


def test_a_bridge_letter_names_the_report_it_extends(
    client, make_report, staff, customer, bearer
) -> None:
    soc2 = make_report("SOC 2 2025", visibility="customers", period_end=date(2025, 12, 31))
    headers = bearer(staff)
    # Seen before any letter names it: the page's kept list of bridged reports must follow.
    page = client.get(f"/catalog/{soc2.id}", headers=bearer(customer)).get_data(as_text=True)
    assert "Bridge letter" not in page
    letter = client.post(
        "/api/v1/reports",
        headers=headers,
        json={
            "title": "Bridge letter Jan-Mar 2026",
            "category": "reports",
            "series": "SOC",
            "issued_on": "2026-04-02",
            "valid_until": "2026-06-30",
            "bridges_report_id": soc2.id,
            "visibility": "customers",
        },
    )
    assert letter.status_code == 201, letter.get_json()
    assert letter.get_json()["bridges_report_id"] == soc2.id
    # A bridge letter supersedes nothing (its series' report stays as its own dates say).
    assert client.get(f"/api/v1/reports/{soc2.id}", headers=headers).get_json()["status"] != (
        "superseded"
    )
    letter_id = letter.get_json()["id"]
    client.post(
        f"/api/v1/reports/{letter_id}/versions",
        headers=headers,
        data={"file": (io.BytesIO(make_pdf()), "b.pdf")},
    )
    client.post(f"/api/v1/reports/{letter_id}/state", headers=headers, json={"state": "published"})
    page = client.get(f"/catalog/{soc2.id}", headers=bearer(customer)).get_data(as_text=True)
    assert "Bridge letter Jan-Mar 2026" in page
    itself = client.patch(
        f"/api/v1/reports/{letter_id}", headers=headers, json={"bridges_report_id": letter_id}
    )
    assert itself.status_code == 400
