"""Every file the app serves carries the same headers (one helper builds them all): reports and
evidence (page and API), acceptance certificates (page and API), the acceptance register and
the audit trail as CSV; HEAD answers with the headers and a Content-Length, nothing else."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from artifact.agreements.services import acceptance as agreements_accept
from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.kernel.filenames import content_disposition
from artifact.models import AuditEvent
from tests.conftest import sign_in

FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; sandbox; frame-ancestors 'none'",
}


def _browser(app: Flask, user: Any) -> Any:
    browser = app.test_client()
    assert sign_in(browser, user.email).status_code == 302
    return browser


def _assert_file(response: Any, filename: str, content_type: str) -> None:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Content-Disposition"] == content_disposition(filename)
    for name, value in FILE_HEADERS.items():
        assert response.headers[name] == value, name


def test_report_downloads_page_api_and_head(
    app: Flask, client, make_report, customer, bearer
) -> None:
    report = make_report("Public ISO", visibility="public")
    version = report.versions[-1]
    name = "Public ISO v1.pdf"  # ours, never the uploaded file's ("report.pdf")
    api = client.get(f"/api/v1/reports/{report.id}/download", headers=bearer(customer))
    page = _browser(app, customer).get(f"/catalog/{report.id}/download")
    for response in (api, page):
        _assert_file(response, name, "application/pdf")
        assert response.data.startswith(b"%PDF-")
        assert int(response.headers["Content-Length"]) == len(response.data)
    assert api.headers["X-Artifact-Receipt"] != page.headers["X-Artifact-Receipt"]

    downloads = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "report.download")
    )
    for path in (f"/api/v1/reports/{report.id}/download", f"/catalog/{report.id}/download"):
        head = client.head(path, headers=bearer(customer))
        _assert_file(head, name, "application/pdf")
        assert head.data == b""
        assert head.headers["Content-Length"] == str(version.size)  # the stored file's size
        assert "X-Artifact-Receipt" not in head.headers
    # Each HEAD is recorded as an access (issue 16), without a receipt: no copy was made.
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "report.download")
        )
        == downloads + 2
    )


def test_evidence_downloads_page_and_api(app: Flask, client, make_evidence, staff, bearer) -> None:
    item = make_evidence(data=b"reviewed: alice, bob\n", filename="review.txt")
    version = item.current_version()
    api = client.get(f"/api/v1/evidence/{item.id}/download", headers=bearer(staff))
    page = _browser(app, staff).get(f"/evidence/{item.id}/download")
    for response in (api, page):
        _assert_file(response, "review.txt", version.content_type)
        assert response.data == b"reviewed: alice, bob\n"
        assert response.headers["X-Artifact-SHA256"] == version.sha256


def test_certificates_and_csv_exports(
    app: Flask, client, nda, customer, staff, admin, bearer
) -> None:
    accepted = agreements_accept.accept(
        db.session,
        Caller.of_user(customer),
        nda.id,
        version=1,
        typed_name="Carla Customer",
        scope="account",
    )
    uow.commit(db.session)
    certificate = f"acceptance-{accepted.id}.pdf"
    api = client.get(f"/api/v1/acceptances/{accepted.id}/certificate", headers=bearer(customer))
    page = _browser(app, customer).get(f"/agreements/acceptances/{accepted.id}/certificate.pdf")
    for response in (api, page):
        _assert_file(response, certificate, "application/pdf")
        assert response.data.startswith(b"%PDF-")

    register = _browser(app, staff).get(f"/agreements/{nda.id}/acceptances.csv")
    _assert_file(register, "acceptances-mutual-nda.csv", "text/csv; charset=utf-8")
    assert "Carla Customer" in register.get_data(as_text=True)

    trail = _browser(app, admin).get("/admin/audit/events.csv")
    disposition = trail.headers["Content-Disposition"]
    name = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert name.startswith("audit-")
    assert name.endswith(".csv")
    _assert_file(trail, name, "text/csv; charset=utf-8")
    assert trail.get_data(as_text=True).startswith('"seq","occurred_at"')
