"""Issue 12, the PDF half, through the API and the pages: real reports are accepted and
searchable, staff see what the intake found and fetch the original, release notes, copies
without active content, named by us, stamped with every name as typed, and worded as public
or confidential as the report is."""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from artifact.catalog.services import grants
from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR
from artifact.models import AuditEvent, ReportVersion
from tests.conftest import corpus_path, csrf_token, sign_in
from tests.fixtures_catalog import (
    active_content_left,
    make_active_pdf,
    make_pdf,
    page_texts,
    upload_version,
)

FEDRAMP = ("files", "fedramp-public-domain", "pdf")
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
_WORD_RE = re.compile(r"[A-Za-z]{9,}")


def _publish(client, headers, report_id: str) -> None:
    response = client.post(
        f"/api/v1/reports/{report_id}/state", headers=headers, json={"state": "published"}
    )
    assert response.status_code == 200, response.get_json()


def _rows() -> int:
    return db.session.scalar(select(func.count()).select_from(ReportVersion)) or 0


def _words(texts: list[str]) -> set[str]:
    return {w.lower() for text in texts for w in _WORD_RE.findall(text)}


def test_fedramp_reports_upload_publish_download_stamped_and_searchable(
    client, staff, customer, bearer, make_report
) -> None:
    as_staff, as_customer = bearer(staff), bearer(customer)
    paths = sorted(corpus_path(*FEDRAMP).glob("*.pdf"))
    assert len(paths) == 14
    words: dict[str, set[str]] = {}
    for number, path in enumerate(paths, 1):
        # a title without the document's words: a search hit must come from the file's text
        report = make_report(f"Federal package {number}", visibility="customers", state="draft")
        data = path.read_bytes()
        upload = upload_version(client, as_staff, report.id, data, path.name)
        assert upload.status_code == 201, (path.name, upload.get_json())
        assert upload.get_json()["sha256"] == hashlib.sha256(data).hexdigest()
        _publish(client, as_staff, report.id)
        download = client.get(f"/api/v1/reports/{report.id}/download", headers=as_customer)
        assert download.status_code == 200, path.name
        receipt = download.headers["X-Artifact-Receipt"]
        texts = page_texts(download.data)
        assert len(texts) == upload.get_json()["pages"] + 1, path.name
        for page, text in enumerate(texts):
            assert f"receipt {receipt}" in text, (path.name, page)
            assert customer.email in text, (path.name, page)
        words[report.id] = _words(page_texts(data))
    for report_id, mine in words.items():
        others = set().union(*(w for other, w in words.items() if other != report_id))
        word = min(mine - others)  # in this document's text only
        found = client.get("/api/v1/search", query_string={"q": word}, headers=as_customer)
        assert found.status_code == 200
        assert report_id in {hit["id"] for hit in found.get_json()["hits"]}, word


def test_staff_see_the_repairs_and_the_removed_content_customers_do_not(
    client, staff, customer, bearer, make_report
) -> None:
    report = make_report("Repaired", visibility="customers", state="draft")
    guide = corpus_path(*FEDRAMP, "3PAO_Readiness_Assessment_Report_Guide.pdf").read_bytes()
    upload = upload_version(client, bearer(staff), report.id, guide, "guide.pdf")
    assert upload.status_code == 201
    body = upload.get_json()
    assert any("dictionary has duplicated key" in w for w in body["pdf_warnings"])
    assert body["removed_content"] == []
    _publish(client, bearer(staff), report.id)
    as_staff = client.get(f"/api/v1/reports/{report.id}", headers=bearer(staff)).get_json()
    assert as_staff["versions"][0]["pdf_warnings"] == body["pdf_warnings"]
    as_customer = client.get(f"/api/v1/reports/{report.id}", headers=bearer(customer)).get_json()
    assert "pdf_warnings" not in as_customer["versions"][0]
    assert "removed_content" not in as_customer["versions"][0]


def test_active_content_is_named_at_upload_and_absent_from_copies(
    client, store, staff, customer, bearer, make_report, login_as
) -> None:
    report = make_report("Scripted", visibility="customers", state="draft")
    data = make_active_pdf()
    upload = upload_version(client, bearer(staff), report.id, data, "scripted.pdf")
    assert upload.status_code == 201, upload.get_json()
    removed = upload.get_json()["removed_content"]
    for words in ("JavaScript", "Launch", "embedded file", "additional actions", "XFA"):
        assert any(words in r for r in removed), (words, removed)

    # the page says so too, at upload
    login_as(staff)
    page = f"/catalog/{report.id}"
    flashed = client.post(
        f"{page}/versions",
        data={"csrf_token": csrf_token(client, page), "file": (io.BytesIO(data), "s.pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Copies handed out will not carry what this PDF contains" in flashed
    assert "Launch action" in flashed

    _publish(client, bearer(staff), report.id)
    download = client.get(f"/api/v1/reports/{report.id}/download", headers=bearer(customer))
    assert download.status_code == 200
    assert active_content_left(download.data) == ["URI https://example.com/trust"]
    assert all("ACTIVE-CONTENT" in text for text in page_texts(download.data)[1:])


def test_staff_fetch_the_original_as_uploaded_and_no_one_else(
    app, client, staff, customer, bearer, make_report, login_as
) -> None:
    report = make_report("Original kept", visibility="customers", state="draft")
    data = make_active_pdf()
    assert upload_version(client, bearer(staff), report.id, data).status_code == 201
    _publish(client, bearer(staff), report.id)
    path = f"/api/v1/reports/{report.id}/versions/1/original"
    response = client.get(path, headers=bearer(staff))
    assert response.status_code == 200
    assert response.data == data
    assert response.headers["X-Artifact-SHA256"] == hashlib.sha256(data).hexdigest()
    assert "Original kept v1 original.pdf" in response.headers["Content-Disposition"]
    assert "/JavaScript" in active_content_left(response.data)
    assert client.get(path, headers=bearer(customer)).status_code == 404
    assert client.get(path).status_code == 401
    assert client.get(path.replace("/1/", "/2/"), headers=bearer(staff)).status_code == 404
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "report.original")
    ).all()
    assert len(events) == 1

    login_as(staff)
    detail = client.get(f"/catalog/{report.id}").get_data(as_text=True)
    link = f"/catalog/{report.id}/versions/1/original"
    assert link in detail
    assert "Not in copies handed out" in detail
    assert client.get(link).data == data
    browser = app.test_client()  # a customer's session of their own
    sign_in(browser, customer.email)
    assert link not in browser.get(f"/catalog/{report.id}").get_data(as_text=True)
    assert browser.get(link).status_code == 404


def test_release_notes_at_upload_shown_to_everyone(
    client, store, staff, customer, bearer, make_report, login_as
) -> None:
    report = make_report("Noted", visibility="customers", state="draft")
    notes = "Bridge letter added.\nSection 4 corrected."
    upload = upload_version(client, bearer(staff), report.id, make_pdf(1), release_notes=notes)
    assert upload.status_code == 201
    assert upload.get_json()["release_notes"] == notes
    too_long = upload_version(
        client, bearer(staff), report.id, make_pdf(1), release_notes="x" * 2001
    )
    assert too_long.status_code == 400
    assert "release notes" in too_long.get_json()["error"]["message"]
    assert _rows() == 1
    _publish(client, bearer(staff), report.id)
    body = client.get(f"/api/v1/reports/{report.id}", headers=bearer(customer)).get_json()
    assert body["versions"][0]["release_notes"] == notes

    login_as(staff)
    page = f"/catalog/{report.id}"
    client.post(
        f"{page}/versions",
        data={
            "csrf_token": csrf_token(client, page),
            "file": (io.BytesIO(make_pdf(1)), "v2.pdf"),
            "release_notes": "Reissued with the signed opinion.",
        },
        content_type="multipart/form-data",
    )
    shown = client.get(page).get_data(as_text=True)
    assert "Reissued with the signed opinion." in shown
    assert "Section 4 corrected." in shown


@pytest.mark.parametrize("uploaded", ["evil.html", "real.exe", "x.pdf.exe", "résumé.pdf"])
def test_copies_are_named_by_the_report_never_theupload_version(
    client, staff, customer, bearer, make_report, uploaded
) -> None:
    report = make_report(
        "Zoë's SOC 2/3 report",
        visibility="customers",
        state="draft",
        period_start="2025-01-01",
        period_end="2025-06-30",
    )
    response = upload_version(client, bearer(staff), report.id, make_pdf(1), uploaded)
    assert response.status_code == 201
    assert response.get_json()["filename"] == uploaded  # kept as metadata
    _publish(client, bearer(staff), report.id)
    for method in ("GET", "HEAD"):
        served = client.open(
            f"/api/v1/reports/{report.id}/download", method=method, headers=bearer(customer)
        )
        assert served.status_code == 200
        header = served.headers["Content-Disposition"]
        assert header == (
            'attachment; filename="Zoe_s SOC 2-3 report 2025-01-01 to 2025-06-30 v1.pdf"; '
            "filename*=UTF-8''Zo%C3%AB%27s%20SOC%202-3%20report%202025-01-01%20to%20"
            "2025-06-30%20v1.pdf"
        )


@pytest.mark.parametrize("name", ["Łukasz Żółć", "Zoë", "王小明"])
def test_every_name_is_stamped_as_typed_on_every_page(
    client, make_user, make_report, bearer, name
) -> None:
    if any("\u4e00" <= c <= "\u9fff" for c in name) and not CJK_FONT.exists():
        pytest.skip("fonts-wqy-microhei (the Makefile's SYSTEM_PACKAGES) is not installed")
    reader = make_user("customer", org="Ołówek Sp. z o.o.")
    reader.name = name
    uow.commit(db.session)
    pdf = corpus_path(*FEDRAMP, "FedRAMP_Agency_Liaison_Program_09212022.pdf").read_bytes()
    report = make_report("Liaison program", visibility="customers", pdf=pdf)
    download = client.get(f"/api/v1/reports/{report.id}/download", headers=bearer(reader))
    assert download.status_code == 200
    texts = page_texts(download.data)
    assert len(texts) == 3
    for page, text in enumerate(texts):
        assert name in text, (page, text[-300:])
        assert "Ołówek Sp. z o.o." in text, page
        assert "?" * len(name) not in text


@pytest.mark.parametrize("visibility", ["public", "customers", "restricted"])
def test_only_non_public_copies_claim_confidentiality(
    client, staff, customer, bearer, make_report, visibility
) -> None:
    report = make_report("Plain words", visibility=visibility, pdf=make_pdf(2, marker="BODY"))
    if visibility == "restricted":
        grants.create_grant(db.session, OPERATOR, report_id=report.id, user_email=customer.email)
        uow.commit(db.session)
    download = client.get(f"/api/v1/reports/{report.id}/download", headers=bearer(customer))
    assert download.status_code == 200
    texts = page_texts(download.data)
    receipt = download.headers["X-Artifact-Receipt"]
    assert all(customer.email in t and receipt in t for t in texts)
    claims = ["confidential" in text.lower() for text in texts]
    if visibility == "public":
        assert not any(claims)
    else:
        assert all(claims)  # the diagonal mark on every page
        assert "Confidentiality terms" in texts[0]


def test_evidence_pdfs_are_served_without_active_content(
    client, staff, bearer, make_evidence
) -> None:
    data = make_active_pdf()
    item = make_evidence("Scripted policy", data=data, filename="policy.pdf")
    response = client.get(f"/api/v1/evidence/{item.id}/download", headers=bearer(staff))
    assert response.status_code == 200
    assert active_content_left(response.data) == ["URI https://example.com/trust"]
    assert response.headers["X-Artifact-SHA256"] == hashlib.sha256(response.data).hexdigest()
    assert item.current_version().sha256 == hashlib.sha256(data).hexdigest()  # stored as sent
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "evidence.download")
    ).one()
    assert any("JavaScript" in r for r in json.loads(event.details)["removed_content"])
