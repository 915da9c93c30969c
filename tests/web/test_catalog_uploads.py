"""Uploads: type by content, clear 4xx for bad files with nothing left behind, hostile names,
and the real PDFs of the corpus stamped on every page."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pikepdf
import pytest
from sqlalchemy import func, select

from artifact.extensions import db
from artifact.models import ReportVersion
from tests.conftest import corpus_path, csrf_token
from tests.fixtures_catalog import QPDF, QPDF_REFUSED, make_pdf, page_texts, racing_upload


def _upload(client, headers, report_id: str, data: bytes, name: str = "report.pdf"):
    # built in memory: werkzeug's test client spools big bodies to a file it never closes
    return _upload_raw_name(client, headers, report_id, data, name)


def _stored(store) -> tuple[int, list[Path]]:
    rows = db.session.scalar(select(func.count()).select_from(ReportVersion))
    files = [p for p in store.root.rglob("*") if p.is_file()] if store.root.exists() else []
    return rows, files


@pytest.fixture
def draft(make_report):
    return make_report("Upload target", state="draft")


def _qpdf_files() -> list[str]:
    folder = corpus_path("files", QPDF)
    return sorted(p.name for p in folder.glob("*.pdf"))


def test_only_what_readers_cannot_open_of_qpdf_files_is_refused(
    client, store, staff, bearer, draft
) -> None:
    headers = bearer(staff)
    names = _qpdf_files()
    assert len(names) >= 35
    for name in names:
        data = corpus_path("files", QPDF, name).read_bytes()
        response = _upload(client, headers, draft.id, data, name)
        if name not in QPDF_REFUSED:
            assert response.status_code == 201, (name, response.get_json())
            continue
        assert response.status_code in (415, 422), (name, response.status_code)
        message = response.get_json()["error"]["message"]
        assert QPDF_REFUSED[name] in message, (name, message)
        assert "BytesIO" not in message
        assert "object at 0x" not in message
    rows, files = _stored(store)
    assert rows == len(names) - len(QPDF_REFUSED)
    assert len(files) == rows


def test_the_password_protected_sample_says_why(client, store, staff, bearer, draft) -> None:
    data = corpus_path(
        "files",
        "py-pdf-sample-files",
        "005-libreoffice-writer-password",
        "libreoffice-writer-password.pdf",
    ).read_bytes()
    response = _upload(client, bearer(staff), draft.id, data)
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] == (
        "this PDF is protected by a password; upload an unprotected copy"
    )
    assert _stored(store) == (0, [])


def _no_pages() -> bytes:
    out = io.BytesIO()
    pikepdf.new().save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (b"", 415, "not a PDF"),
        (b"PK\x03\x04 a zip file pretending", 415, "not a PDF"),
        (b"<html><body>%PDF-1.7 later</body></html>" + b" " * 2000, 415, "not a PDF"),
        (make_pdf(1)[:-200], 422, "cannot be read"),
        (make_pdf(1)[:120], 422, "cannot be read"),
        (_no_pages(), 422, "has no pages"),
        (make_pdf(1) + b"PK\x03\x04 then a zip archive", 422, "two formats"),
    ],
)
def test_non_pdfs_and_broken_pdfs(client, store, staff, bearer, draft, data, status, words) -> None:
    response = _upload(client, bearer(staff), draft.id, data, "looks-fine.pdf")
    assert response.status_code == status, response.get_json()
    assert words in response.get_json()["error"]["message"]
    assert _stored(store) == (0, [])


def test_size_limits(app, client, store, staff, bearer, draft) -> None:
    data = make_pdf(3)
    app.config["REPORT_MAX_BYTES"] = len(data) - 1
    response = _upload(client, bearer(staff), draft.id, data)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = _upload(client, bearer(staff), draft.id, data)
    assert response.status_code == 413
    assert _stored(store) == (0, [])


HOSTILE_NAMES = [
    "../../x.pdf",
    "evil\x00.pdf",
    "invoice\u202efdp.exe",
    "a\r\nSet-Cookie: x=1.pdf",
    "n" * 300 + ".pdf",
    "..\\..\\windows.pdf",
    "  .hidden.pdf",
    "résumé 2025 ✓.pdf",
]


def _upload_raw_name(client, headers, report_id: str, data: bytes, name: str):
    """Multipart with the name as RFC 5987 ``filename*``, so CR, LF and NUL reach the server
    as the characters themselves (a test client would otherwise break the part header)."""
    from urllib.parse import quote

    boundary = "----artifact-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f"filename*=UTF-8''{quote(name, safe='')}\r\n"
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(
        f"/api/v1/reports/{report_id}/versions",
        headers=headers,
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_file_names_are_stored_and_served_safely(
    client, store, staff, customer, bearer, make_report, name
) -> None:
    report = make_report("Names", visibility="public", state="draft")
    response = _upload_raw_name(client, bearer(staff), report.id, make_pdf(1), name)
    assert response.status_code == 201, response.get_json()
    stored = response.get_json()["filename"]
    assert not any(c in stored for c in "/\\\x00\r\n\u202e")
    assert not stored.startswith(".")
    assert 0 < len(stored) <= 200
    assert stored.endswith(".pdf") or stored.endswith(".exe")
    client.post(
        f"/api/v1/reports/{report.id}/state", headers=bearer(staff), json={"state": "published"}
    )
    download = client.get(f"/api/v1/reports/{report.id}/download", headers=bearer(customer))
    assert download.status_code == 200
    header = download.headers["Content-Disposition"]
    assert header.isascii()
    assert "\r" not in header
    assert "\n" not in header
    assert header.startswith('attachment; filename="')
    assert "filename*=UTF-8''" in header
    ascii_name = header.split('filename="', 1)[1].split('"', 1)[0]
    assert "/" not in ascii_name
    assert "\\" not in ascii_name
    assert ".." not in ascii_name
    assert [p.name for p in store.root.rglob("*") if p.is_file()] != []
    assert all(len(p.name) == 32 for p in store.root.rglob("*") if p.is_file())


def test_download_headers(client, make_report, customer, bearer) -> None:
    report = make_report("Public ISO", visibility="public")
    response = client.get(f"/api/v1/reports/{report.id}/download", headers=bearer(customer))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "sandbox" in response.headers["Content-Security-Policy"]


def _py_pdf_samples() -> list[Path]:
    folder = corpus_path("files", "py-pdf-sample-files")
    encrypted = {
        Path(item["path"]).name
        for item in json.loads((folder / "files.json").read_text())["data"]
        if item["encrypted"]
    }
    return sorted(p for p in folder.glob("*/*.pdf") if p.name not in encrypted)


def test_py_pdf_samples_upload_download_and_carry_the_watermark(
    client, store, staff, customer, bearer, make_report
) -> None:
    as_staff, as_customer = bearer(staff), bearer(customer)
    refused, checked = [], 0
    for path in _py_pdf_samples():
        report = make_report(path.name, visibility="customers", state="draft")
        response = _upload(client, as_staff, report.id, path.read_bytes(), path.name)
        if response.status_code != 201:
            refused.append((path.name, response.get_json()["error"]["message"]))
            continue
        client.post(
            f"/api/v1/reports/{report.id}/state", headers=as_staff, json={"state": "published"}
        )
        download = client.get(f"/api/v1/reports/{report.id}/download", headers=as_customer)
        assert download.status_code == 200, path.name
        texts = page_texts(download.data)
        assert len(texts) == response.get_json()["pages"] + 1, path.name
        receipt = download.headers["X-Artifact-Receipt"]
        for number, text in enumerate(texts):
            assert customer.email in text, (path.name, number)
            assert receipt in text, (path.name, number)
        checked += 1
    # qpdf cannot open this one at all ("root of pages tree has no /Kids array")
    assert [name for name, _ in refused] == ["unreadablemetadata.pdf"], refused
    assert checked >= 25


def test_head_answers_without_a_copy_but_is_recorded(client, make_report, customer, bearer) -> None:
    from artifact.models import AuditEvent, DownloadReceipt

    report = make_report("Public ISO", visibility="public")
    response = client.head(f"/api/v1/reports/{report.id}/download", headers=bearer(customer))
    assert response.status_code == 200
    assert response.data == b""
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "report.download")
    ).all()
    assert [e.actor_email for e in events] == [customer.email]  # an access, as a GET would be
    assert db.session.scalar(select(func.count()).select_from(DownloadReceipt)) == 0


def test_a_lost_version_race_leaves_neither_blob_nor_row(
    client, store, staff, bearer, draft, login_as
) -> None:
    headers, before = bearer(staff), _stored(store)
    with racing_upload():
        api = _upload(client, headers, draft.id, make_pdf())
    assert api.status_code == 409
    assert "uploaded at the same time" in api.get_json()["error"]["message"]
    assert _stored(store) == before
    login_as(staff)
    detail = f"/catalog/{draft.id}"
    token = csrf_token(client, detail)
    with racing_upload():
        page = client.post(
            f"{detail}/versions",
            data={"csrf_token": token, "file": (io.BytesIO(make_pdf()), "r.pdf")},
            content_type="multipart/form-data",
            follow_redirects=True,
        )
    assert page.status_code == 200
    assert "The file was refused: another version was uploaded at the same time" in page.get_data(
        as_text=True
    )
    assert _stored(store) == before
