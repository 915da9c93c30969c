"""Download analytics: the counts by report, organisation and week match the receipts and
acceptance records made through the product; bad arguments are 400; the CSV is formula-safe;
only staff may look."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from artifact.agreements.services import acceptance as agreements_accept
from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.models import AuditEvent, DownloadReceipt
from artifact.models.base import utcnow


@pytest.fixture
def traffic(client, make_report, make_user, nda, bearer):
    """Two reports; Acme downloads the gated one twice and the public one once, a visitor
    downloads the public one, Globex's org admin accepts the NDA for Globex; one older
    receipt three weeks back."""
    gated = make_report("SOC 2 Type II", visibility="customers", terms_agreement_id=nda.id)
    public = make_report("=ISO 27001 certificate", visibility="public")
    acme = make_user("customer", org="Acme Health", name="Alice Acme")
    globex = make_user("customer", org="Globex", org_admin=True, name="Gil Globex")
    agreements_accept.accept(
        db.session,
        Caller.of_user(acme),
        nda.id,
        version=1,
        typed_name="Alice Acme",
        scope="account",
    )
    agreements_accept.accept(
        db.session,
        Caller.of_user(globex),
        nda.id,
        version=1,
        typed_name="Gil Globex",
        scope="organization",
    )
    uow.commit(db.session)
    acme_token = bearer(acme)
    for report in (gated, gated, public):
        response = client.get(f"/api/v1/reports/{report.id}/download", headers=acme_token)
        assert response.status_code == 200
    assert client.get(f"/api/v1/reports/{public.id}/download").status_code == 200  # a visitor
    old = utcnow() - timedelta(weeks=3)
    db.session.add(
        DownloadReceipt(
            id="0" * 20,
            report_id=gated.id,
            version_id=gated.versions[0].id,
            email="old@globex.test",
            organization="Globex",
            created_at=old,
        )
    )
    uow.commit(db.session)
    return {"gated": gated, "public": public, "old": old}


def _items(client, headers, **query):
    response = client.get("/api/v1/analytics/downloads", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_counts_by_report_organisation_and_week(client, staff, bearer, traffic) -> None:
    headers = bearer(staff)
    gated, public = traffic["gated"], traffic["public"]
    assert _items(client, headers, group="report") == [
        {"key": gated.id, "label": "SOC 2 Type II", "downloads": 3, "acceptances": 2},
        {"key": public.id, "label": "=ISO 27001 certificate", "downloads": 2, "acceptances": 0},
    ]
    today = utcnow().date()
    recent = _items(client, headers, group="report", **{"from": today.isoformat()})
    assert [(r["label"], r["downloads"]) for r in recent] == [
        ("SOC 2 Type II", 2),
        ("=ISO 27001 certificate", 2),
    ]
    by_org = {
        r["label"]: (r["downloads"], r["acceptances"])
        for r in _items(client, headers, group="organization")
    }
    assert by_org == {
        "Acme Health": (3, 1),
        "Globex": (1, 1),
        "No organisation (visitors and individual accounts)": (1, 0),
    }
    weeks = _items(
        client,
        headers,
        group="week",
        **{"from": traffic["old"].date().isoformat(), "to": today.isoformat()},
    )
    assert len(weeks) == 4  # every week of the range, quiet ones included
    assert weeks[0]["downloads"] == 1
    assert weeks[-1]["downloads"] == 4
    assert weeks[-1]["acceptances"] == 2
    assert sum(w["downloads"] for w in weeks[1:-1]) == 0
    monday = today - timedelta(days=today.weekday())
    year, number, _ = monday.isocalendar()
    assert weeks[-1]["key"] == f"{year}-W{number:02d}"
    assert weeks[-1]["label"] == f"Week of {monday.isoformat()}"


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-13-01"},
        {"from": "yesterday"},
        {"to": "2026-02-30"},
        {"from": "2026-05-02", "to": "2026-05-01"},
        {"group": "user"},
        {"group": ""},
        {"group": "week", "from": "1900-01-01", "to": "2026-01-01"},
    ],
)
def test_bad_arguments_are_400(client, staff, bearer, query) -> None:
    response = client.get("/api/v1/analytics/downloads", headers=bearer(staff), query_string=query)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid"


def test_only_staff(client, customer, bearer, login_as) -> None:
    assert client.get("/api/v1/analytics/downloads").status_code == 401
    assert client.get("/api/v1/analytics/downloads", headers=bearer(customer)).status_code == 403
    login_as(customer)
    assert client.get("/analytics/").status_code == 403
    assert client.get("/analytics/downloads.csv").status_code == 403
    assert "/analytics/" not in client.get("/catalog/").get_data(as_text=True)


def test_page_and_csv_export(client, staff, login_as, traffic) -> None:
    login_as(staff)
    page = client.get("/analytics/")  # this quarter by report, unless today began it
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert '<svg class="chart"' in body
    assert '<title id="chart-title">' in body
    assert '<desc id="chart-desc">' in body
    assert "SOC 2 Type II: " in body  # the description reads out every bar
    assert "<script" not in body
    query = {"group": "organization", "from": "2000-01-01", "to": "2100-12-31"}
    assert "Acme Health" in client.get("/analytics/", query_string=query).get_data(as_text=True)
    refused = client.get("/analytics/", query_string={"from": "2026-05-02", "to": "2026-05-01"})
    assert refused.status_code == 400
    assert "&#39;from&#39; is after &#39;to&#39;" in refused.get_data(as_text=True)

    exported = client.get(
        "/analytics/downloads.csv",
        query_string={"group": "report", "from": "2000-01-01", "to": "2100-12-31"},
    )
    assert exported.status_code == 200
    assert exported.mimetype == "text/csv"
    assert "attachment" in exported.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0] == ["report", "key", "downloads", "acceptances"]
    assert rows[1][0::2] == ["SOC 2 Type II", "3"]
    assert rows[2][0] == "'=ISO 27001 certificate"  # a formula neutralised
    assert rows[2][2:] == ["2", "0"]
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "analytics.export")
    ).one()
    assert event.actor_id == staff.id
