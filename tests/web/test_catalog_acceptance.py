"""The issue's black-box acceptance, through the JSON API only."""

from __future__ import annotations

import io
import json

from sqlalchemy import select

from artifact.extensions import db
from artifact.models import AuditEvent, ReportVersion
from tests.conftest import corpus_path
from tests.fixtures_catalog import ensure_series, make_pdf, page_texts

MARKER = "ZEBRA-CONFIDENTIAL-4471"


def _upload(client, headers, report_id: str, data: bytes, name: str = "report.pdf"):
    return client.post(
        f"/api/v1/reports/{report_id}/versions",
        headers=headers,
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_restricted_report_end_to_end(
    app, client, runner, store, staff, customer, hostile, bearer
) -> None:
    as_staff, as_customer, as_hostile = bearer(staff), bearer(customer), bearer(hostile)
    ensure_series("SOC")
    real = corpus_path(
        "files", "py-pdf-sample-files", "004-pdflatex-4-pages", "pdflatex-4-pages.pdf"
    ).read_bytes()
    created = client.post(
        "/api/v1/reports",
        headers=as_staff,
        json={
            "title": "SOC 2 Type II 2025",
            "category": "reports",
            "series": "SOC",
            "issuer": "Ledger & Co",
            "visibility": "restricted",
        },
    )
    assert created.status_code == 201, created.get_json()
    report_id = created.get_json()["id"]
    assert created.get_json()["state"] == "draft"
    first = _upload(client, as_staff, report_id, real, "soc2.pdf")
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["number"] == 1
    published = client.post(
        f"/api/v1/reports/{report_id}/state", headers=as_staff, json={"state": "published"}
    )
    assert published.status_code == 200

    # another organisation's customer, and (before any grant) Acme's own: the report is
    # listed to them locked (catalog facts, no versions), and nothing of it downloads (404)
    for headers in (as_hostile, as_customer):
        shown = client.get(f"/api/v1/reports/{report_id}", headers=headers).get_json()
        assert shown["locked"] is True
        assert "versions" not in shown
        for method, path in [
            ("GET", f"/api/v1/reports/{report_id}/download"),
            ("HEAD", f"/api/v1/reports/{report_id}/download"),
            ("GET", f"/api/v1/reports/{report_id}/download?version=1"),
            ("GET", f"/catalog/{report_id}/download"),
        ]:
            response = client.open(path, method=method, headers=headers)
            assert response.status_code == 404, (method, path, response.status_code)
        listing = client.get("/api/v1/reports", headers=headers).get_json()
        assert [(i["id"], i["locked"]) for i in listing["items"]] == [(report_id, True)]

    granted = client.post(
        "/api/v1/grants",
        headers=as_staff,
        json={"report_id": report_id, "organization": "Acme Health"},
    )
    assert granted.status_code == 201, granted.get_json()
    assert client.get(f"/api/v1/reports/{report_id}", headers=as_hostile).get_json()["locked"]

    response = client.get(f"/api/v1/reports/{report_id}/download", headers=as_customer)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    receipt = response.headers["X-Artifact-Receipt"]
    texts = page_texts(response.data)
    assert len(texts) == 1 + 4  # the cover page, then the four pages
    for text in texts:
        assert customer.email in text
        assert receipt in text
    assert "Confidentiality terms" in texts[0]

    # the bytes on disk hold nothing of the PDF
    version = db.session.scalars(select(ReportVersion)).one()
    on_disk = store.path_of(version.blob_id).read_bytes()
    assert real[:64] not in on_disk
    assert b"%PDF-" not in on_disk
    assert real[len(real) // 2 : len(real) // 2 + 32] not in on_disk

    # rotate the key: the old version and a new one both download
    rotated = runner.invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    second = _upload(client, as_staff, report_id, make_pdf(3, MARKER), "v2.pdf")
    assert second.status_code == 201
    v2 = db.session.scalars(select(ReportVersion).where(ReportVersion.number == 2)).one()
    assert (store.kek_version(version.blob_id), store.kek_version(v2.blob_id)) == (1, 2)
    assert MARKER.encode() not in store.path_of(v2.blob_id).read_bytes()
    old = client.get(f"/api/v1/reports/{report_id}/download?version=1", headers=as_customer)
    new = client.get(f"/api/v1/reports/{report_id}/download", headers=as_customer)
    assert old.status_code == new.status_code == 200
    assert len(page_texts(old.data)) == 5
    assert all(MARKER in t for t in page_texts(new.data)[1:])

    # one flipped byte in the stored blob: the download fails and the failure is recorded
    path = store.path_of(v2.blob_id)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x40
    path.write_bytes(bytes(raw))
    broken = client.get(f"/api/v1/reports/{report_id}/download", headers=as_customer)
    assert broken.status_code == 500
    assert broken.get_json()["error"]["code"] == "integrity_failed"
    assert b"%PDF" not in broken.data
    failure = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "report.download", AuditEvent.outcome == "failure"
        )
    ).one()
    assert json.loads(failure.details)["error"] == "integrity"
    assert failure.actor_email == customer.email
    # the untouched version still downloads
    assert (
        client.get(
            f"/api/v1/reports/{report_id}/download?version=1", headers=as_customer
        ).status_code
        == 200
    )


def test_download_records_who_what_version_receipt_and_ip(
    client, make_report, customer, bearer
) -> None:
    report = make_report("Public SOC 3", visibility="public")
    response = client.get(
        f"/api/v1/reports/{report.id}/download",
        headers=bearer(customer),
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert response.status_code == 200
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "report.download")
    ).one()
    details = json.loads(event.details)
    assert (event.actor_email, event.target_id, event.ip_address) == (
        customer.email,
        report.id,
        "203.0.113.9",
    )
    assert details["version"] == 1
    assert details["receipt"] == response.headers["X-Artifact-Receipt"]


def test_trace_names_the_download(client, runner, make_report, customer, bearer, tmp_path) -> None:
    report = make_report("Public SOC 3", visibility="public")
    response = client.get(f"/api/v1/reports/{report.id}/download", headers=bearer(customer))
    leaked = tmp_path / "leaked.pdf"
    leaked.write_bytes(response.data)
    result = runner.invoke(args=["trace", str(leaked)])
    assert result.exit_code == 0, result.output
    assert response.headers["X-Artifact-Receipt"] in result.output
    assert customer.email in result.output
    assert "Acme Health" in result.output
    assert "Public SOC 3" in result.output
    assert "version 1" in result.output
    # metadata stripped: the receipt is still read from the stamped text
    import pikepdf

    with pikepdf.open(io.BytesIO(response.data)) as pdf:
        del pdf.docinfo["/ArtifactReceipt"]
        stripped = tmp_path / "stripped.pdf"
        pdf.save(stripped)
    assert customer.email in runner.invoke(args=["trace", str(stripped)]).output
    clean = tmp_path / "clean.pdf"
    clean.write_bytes(make_pdf(1))
    refused = runner.invoke(args=["trace", str(clean)])
    assert refused.exit_code == 1
    assert "no Artifact receipt" in refused.output
