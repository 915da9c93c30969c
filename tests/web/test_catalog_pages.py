"""Catalog pages: what visitors, customers and staff see and can do."""

from __future__ import annotations

import io
from datetime import date, timedelta

from sqlalchemy import select

from artifact.extensions import db
from artifact.kernel import uow
from artifact.models import AccessRequest, Grant, Report
from artifact.models.base import utcnow
from tests.callers import as_caller
from tests.conftest import post_form
from tests.fixtures_catalog import ensure_series, make_pdf, page_texts


def test_visitors_see_the_public_catalog_only(client, make_report) -> None:
    make_report("Public ISO 27001", visibility="public", category="certifications", series="ISO")
    make_report("Customers SOC 3", visibility="customers")
    make_report("Secret SOC 2", visibility="restricted")
    make_report("Draft PCI", visibility="public", state="draft")
    for path in ("/", "/catalog/"):
        page = client.get(path).get_data(as_text=True)
        assert "Public ISO 27001" in page
        for hidden in ("Customers SOC 3", "Secret SOC 2", "Draft PCI"):
            assert hidden not in page
    assert "1 report." in client.get("/catalog/").get_data(as_text=True)


def test_filters_and_counts(client, login_as, customer, make_report) -> None:
    make_report(
        "ISO cert",
        visibility="public",
        category="certifications",
        series="ISO",
        frameworks=["ISO/IEC 27001:2022"],
    )
    make_report("SOC 3", visibility="public", series="SOC")
    make_report("Secret SOC 2", visibility="restricted", series="SOC")
    login_as(customer)
    page = client.get("/catalog/?series=soc").get_data(as_text=True)
    assert "SOC 3" in page
    assert "ISO cert" not in page
    # The restricted SOC 2 is listed to the customer as locked (its catalog facts only).
    assert "2 reports." in page
    assert "Locked<span" in page
    page = client.get("/catalog/?framework=iso/iec 27001:2022").get_data(as_text=True)
    assert "ISO cert" in page
    assert "SOC 3" not in page
    assert "Secret SOC 2" in client.get("/catalog/?q=secret").get_data(as_text=True)
    make_report("Hidden SOC 2", visibility="restricted", series="SOC", listing="hidden")
    assert "Hidden" not in client.get("/catalog/?q=hidden").get_data(as_text=True)


def test_invisible_reports_are_404_on_every_page(client, login_as, hostile, make_report) -> None:
    secret = make_report("Secret SOC 2", listing="hidden")
    locked = make_report("Listed SOC 2")
    login_as(hostile)
    # A listed restricted report shows its catalog facts (locked); nothing of it downloads.
    assert client.get(f"/catalog/{locked.id}").status_code == 200
    assert client.get(f"/catalog/{locked.id}/download").status_code == 404
    for path in (
        f"/catalog/{secret.id}",
        f"/catalog/{secret.id}/download",
        f"/catalog/{secret.id}/download?version=1",
        "/catalog/nope",
    ):
        response = client.get(path)
        assert response.status_code == 404
        assert "Secret SOC 2" not in response.get_data(as_text=True)
    assert client.head(f"/catalog/{secret.id}/download").status_code == 404


def test_expired_and_retired(client, login_as, customer, make_report) -> None:
    old = make_report(
        "Old ISO 9001",
        visibility="public",
        category="certifications",
        series="ISO",
        period_start=date(2020, 1, 1),
        period_end=utcnow().date() - timedelta(1),
    )
    retired = make_report("Retired SOC 1", visibility="public")
    login_as(customer)
    page = client.get(f"/catalog/{old.id}").get_data(as_text=True)
    assert "Expired: this report was valid until" in page
    body = client.get(f"/api/v1/reports/{old.id}").get_json()
    assert (body["state"], body["status"]) == ("published", "expired")
    download = client.get(f"/catalog/{old.id}/download")
    assert download.status_code == 200
    assert customer.email in page_texts(download.data)[1]
    from artifact.catalog.services import reports
    from artifact.kernel.caller import OPERATOR

    reports.set_state(db.session, OPERATOR, retired.id, "retired")
    uow.commit(db.session)
    assert client.get(f"/catalog/{retired.id}").status_code == 404
    assert "Retired SOC 1" not in client.get("/catalog/").get_data(as_text=True)


def test_staff_create_upload_publish_and_grant_through_pages(
    client, login_as, staff, customer, store
) -> None:
    ensure_series("PCI")  # series are chosen from the list staff manage
    login_as(staff)
    response = post_form(
        client,
        "/catalog/new",
        {
            "title": "PCI DSS AOC",
            "category": "certifications",
            "series": "PCI",
            "visibility": "restricted",
            "frameworks": "PCI DSS v4.0.1, SOC 2",
            "period_start": "2025-06-01",
            "period_end": "2099-05-31",
            "terms_agreement_id": "",
        },
        token_from="/catalog/new",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    report = db.session.scalars(select(Report)).one()
    assert (report.state, report.visibility) == ("draft", "restricted")
    assert report.frameworks == ["PCI DSS v4.0.1", "SOC 2"]
    detail = f"/catalog/{report.id}"
    refused = post_form(
        client,
        f"{detail}/versions",
        {"file": (io.BytesIO(b"not a pdf"), "x.pdf")},
        token_from=detail,
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "not a PDF" in refused.get_data(as_text=True)
    post_form(
        client,
        f"{detail}/versions",
        {"file": (io.BytesIO(make_pdf(2)), "aoc.pdf")},
        token_from=detail,
        content_type="multipart/form-data",
    )
    post_form(client, f"{detail}/state", {"state": "published"}, token_from=detail)
    post_form(
        client, f"{detail}/grants", {"scope": "series", "user": customer.email}, token_from=detail
    )
    grant = db.session.scalars(select(Grant)).one()
    assert (grant.series, grant.user_id) == ("PCI", customer.id)
    db.session.refresh(report)
    assert report.state == "published"
    assert len(report.versions) == 1


def test_access_request_flow(client, login_as, staff, customer, make_report) -> None:
    public = make_report("SOC 3", visibility="public", series="SOC")
    secret = make_report("SOC 2", visibility="restricted", series="SOC")
    login_as(customer)
    detail = f"/catalog/{public.id}"
    assert "Request access to the SOC series" in client.get(detail).get_data(as_text=True)
    post_form(
        client,
        "/catalog/access-requests",
        {"series": "SOC", "message": "Vendor review"},
        token_from=detail,
    )
    post_form(client, "/catalog/access-requests", {"series": "SOC"}, token_from=detail)
    request = db.session.scalars(select(AccessRequest)).one()  # not filed twice
    assert request.state == "pending"
    assert "This report is shared on request" in client.get(f"/catalog/{secret.id}").get_data(
        as_text=True
    )
    assert client.get(f"/catalog/{secret.id}/download").status_code == 404
    assert client.get("/catalog/requests").status_code == 403
    post_form(client, "/logout")
    login_as(staff)
    page = client.get("/catalog/requests").get_data(as_text=True)
    assert customer.email in page
    assert "Vendor review" in page
    post_form(
        client,
        f"/catalog/requests/{request.id}/approve",
        {"expires_at": (utcnow().date() + timedelta(days=30)).isoformat()},
        token_from="/catalog/requests",
    )
    db.session.refresh(request)
    assert request.state == "approved"
    grant = db.session.get(Grant, request.grant_id)
    assert grant.series == "SOC"
    assert grant.expires_at is not None
    from artifact import policy

    assert policy.decide(as_caller(customer), "report.download", db.session.get(Report, secret.id))


def test_customers_get_no_staff_route(client, login_as, customer, make_report) -> None:
    report = make_report("SOC 3", visibility="public")
    login_as(customer)
    from tests.conftest import csrf_token

    token = csrf_token(client)
    for path in (
        f"/catalog/{report.id}/versions",
        f"/catalog/{report.id}/state",
        f"/catalog/{report.id}/grants",
        "/catalog/new",
        f"/catalog/{report.id}/versions/1/purge",
        "/catalog/grants/x/revoke",
        "/catalog/requests/x/approve",
        "/catalog/requests/x/deny",
    ):
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path
    assert client.get("/catalog/new").status_code == 403
    assert "Upload new version" not in client.get(f"/catalog/{report.id}").get_data(as_text=True)


def test_admin_purge_destroys_the_data_key(
    client, login_as, admin, customer, make_report, store
) -> None:
    report = make_report("Public ISO", visibility="public")
    blob_id = report.versions[0].blob_id
    login_as(admin)
    post_form(
        client, f"/catalog/{report.id}/versions/1/purge", {}, token_from=f"/catalog/{report.id}"
    )
    assert not store.exists(blob_id)
    assert client.get(f"/catalog/{report.id}/download").status_code == 404
    db.session.refresh(report)
    assert report.versions[0].purged_at is not None
