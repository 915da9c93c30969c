"""A report's status follows its validity (catalog/services/validity.py) on a real database:
the API's status and valid_until, the badges and the status filter of the page and the API;
the framework filter takes the names people type."""

from __future__ import annotations

from datetime import timedelta

import pytest

from artifact.catalog.services.validity import add_months
from artifact.models.base import utcnow


def _ended(months_ago: int):
    return add_months(utcnow().date(), -months_ago)


@pytest.fixture
def dated(make_report) -> dict[str, str]:
    """Public reports of every status, by title -> id."""
    made = [
        make_report(
            "SOC 2 ended 3 months ago", visibility="public", series="SOC 2 A", period_end=_ended(3)
        ),
        make_report("SOC 2 ended 13 months ago", series="SOC 2 B", period_end=_ended(13)),
        make_report("SOC 2 ended 11 months ago", series="SOC 2 C", period_end=_ended(11)),
        make_report(
            "ISO certificate expired",
            category="certifications",
            series="ISO 9001",
            period_end=utcnow().date() - timedelta(1),
        ),
        make_report("SOC 1 2024", series="SOC 1", period_end=_ended(23)),
        make_report("SOC 1 2025", series="SOC 1", period_end=_ended(11)),
        make_report("SOC 1 2026", series="SOC 1", period_end=_ended(1)),
    ]
    return {r.title: r.id for r in made}


EXPECTED = {
    "SOC 2 ended 3 months ago": "current",
    "SOC 2 ended 13 months ago": "expired",
    "SOC 2 ended 11 months ago": "expiring",
    "ISO certificate expired": "expired",
    "SOC 1 2024": "superseded",
    "SOC 1 2025": "superseded",  # superseded rather than expiring
    "SOC 1 2026": "current",
}


def test_status_in_the_api(client, dated, make_user, bearer) -> None:
    staff = bearer(make_user("staff"))
    for title, report_id in dated.items():
        body = client.get(f"/api/v1/reports/{report_id}", headers=staff).get_json()
        assert body["status"] == EXPECTED[title], title
    body = client.get(f"/api/v1/reports/{dated['SOC 2 ended 3 months ago']}", headers=staff)
    assert body.get_json()["valid_until"] == add_months(_ended(3), 12).isoformat()
    listed = client.get("/api/v1/reports", headers=staff).get_json()["items"]
    assert {item["title"]: item["status"] for item in listed} == EXPECTED
    for status in ("current", "expiring", "expired", "superseded"):
        found = client.get("/api/v1/reports", headers=staff, query_string={"status": status})
        assert {i["title"] for i in found.get_json()["items"]} == {
            t for t, s in EXPECTED.items() if s == status
        }
    bad = client.get("/api/v1/reports", headers=staff, query_string={"status": "outdated"})
    assert bad.status_code == 400


def test_supersession_counts_only_reports_the_reader_may_see(
    client, make_report, customer, bearer
) -> None:
    old = make_report("SOC 1 old", visibility="customers", series="SOC 1", period_end=_ended(6))
    make_report("SOC 1 new (restricted)", series="SOC 1", period_end=_ended(1))
    seen = client.get(f"/api/v1/reports/{old.id}", headers=bearer(customer)).get_json()
    assert seen["status"] == "current"  # the newer report does not exist for this customer


def test_badges_and_status_filter_on_the_page(client, dated, login_as, staff) -> None:
    login_as(staff)
    page = client.get("/catalog/").get_data(as_text=True)
    assert page.count('class="tag status-superseded"') == 2
    assert page.count('class="tag status-expired"') == 2
    assert page.count('class="tag status-expiring"') == 1
    assert "outdated" not in page.lower().replace("mark outdated", "")
    expired = client.get("/catalog/?status=expired").get_data(as_text=True)
    assert "SOC 2 ended 13 months ago" in expired
    assert "ISO certificate expired" in expired
    assert "SOC 1 2026" not in expired
    detail = client.get(f"/catalog/{dated['SOC 1 2025']}").get_data(as_text=True)
    assert "Superseded: a newer report of the SOC 1 series is current." in detail


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ISO 27001", {"ISO/IEC 27001:2022 certificate", "Old ISO 27001 certificate"}),
        ("27001", {"ISO/IEC 27001:2022 certificate", "Old ISO 27001 certificate"}),
        ("iso27001", {"ISO/IEC 27001:2022 certificate", "Old ISO 27001 certificate"}),
        ("ISO/IEC 27001:2022", {"ISO/IEC 27001:2022 certificate"}),
        ("SOC 2", {"SOC 2 Type II", "SOC 3"}),
        ("soc2", {"SOC 2 Type II", "SOC 3"}),
        ("27017", {"ISO/IEC 27017 certificate"}),
        ("PCI DSS 4", {"PCI AOC"}),
        ("2700", set()),
    ],
)
def test_framework_filter_takes_typed_names(client, make_report, typed, expected) -> None:
    for title, frameworks in (
        ("ISO/IEC 27001:2022 certificate", ["ISO/IEC 27001:2022"]),
        ("Old ISO 27001 certificate", ["ISO 27001:2013"]),
        ("ISO/IEC 27017 certificate", ["ISO/IEC 27017:2015"]),
        ("SOC 2 Type II", ["SOC 2"]),
        ("SOC 3", ["SOC 2", "SOC 3"]),
        ("PCI AOC", ["PCI DSS v4.0.1"]),
    ):
        make_report(title, visibility="public", series=title[:10], frameworks=frameworks)
    api = client.get("/api/v1/reports", query_string={"framework": typed}).get_json()
    assert {item["title"] for item in api["items"]} == expected
    page = client.get("/catalog/", query_string={"framework": typed}).get_data(as_text=True)
    assert {t for t in _ALL if f"<strong>{t}</strong>" in page} == expected


_ALL = (
    "ISO/IEC 27001:2022 certificate",
    "Old ISO 27001 certificate",
    "ISO/IEC 27017 certificate",
    "SOC 2 Type II",
    "SOC 3",
    "PCI AOC",
)
