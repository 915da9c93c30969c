"""Evidence through the JSON API: uploads (and hostile ones), review, approval, downloads,
and 404 for everyone who is not staff."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from artifact.extensions import db
from artifact.models import AuditEvent, Evidence, EvidenceVersion
from tests.conftest import csrf_token
from tests.fixtures_catalog import make_pdf, racing_upload
from tests.fixtures_evidence import (
    blob_files,
    make_docx,
    make_png,
    make_xlsx,
    png_bomb,
    today,
    zeros_entry,
)


def _post(client, headers, path, data: bytes, filename: str, **fields):
    form = {"file": (io.BytesIO(data), filename), **fields}
    return client.post(path, data=form, headers=headers, content_type="multipart/form-data")


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_upload_review_approve_download(
    client, bearer, staff, reviewer, store, evidence_frameworks
) -> None:
    pdf = make_pdf(1, marker="EVIDENCE")
    created = _post(
        client,
        bearer(staff),
        "/api/v1/evidence",
        pdf,
        "policy.pdf",
        title="Access control policy",
        effective_date="2025-01-15",
        expires_on=(today() + timedelta(days=200)).isoformat(),
        requirements=["iso-sample:A.5.15", "soc-sample:cc6.1"],
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["state"] == "draft"
    assert body["requirements"] == ["iso-sample:A.5.15", "soc-sample:CC6.1"]
    assert body["versions"][0]["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert body["versions"][0]["type"] == "pdf"
    assert body["owner"] == staff.email
    item = body["id"]
    early = client.post(f"/api/v1/evidence/{item}/approve", headers=bearer(reviewer))
    assert early.status_code == 409  # still a draft
    assert "draft" in early.get_json()["error"]["message"]
    assert client.post(f"/api/v1/evidence/{item}/submit", headers=bearer(staff)).status_code == 200
    refused = client.post(f"/api/v1/evidence/{item}/approve", headers=bearer(staff))
    assert refused.status_code == 403
    assert "someone else" in refused.get_json()["error"]["message"]
    # The optional body is a JSON object whose note is text; anything else is refused.
    for body in ([1], {"note": 5}, "checked"):
        bad = client.post(f"/api/v1/evidence/{item}/approve", headers=bearer(reviewer), json=body)
        assert bad.status_code == 400, body
    approved = client.post(
        f"/api/v1/evidence/{item}/approve", headers=bearer(reviewer), json={"note": "checked"}
    )
    assert approved.status_code == 200
    assert approved.get_json()["state"] == "approved"
    assert approved.get_json()["approved"]["by"] == reviewer.email
    for version in ("", "0x1", "-1"):
        bad = client.get(
            f"/api/v1/evidence/{item}/download",
            query_string={"version": version},
            headers=bearer(reviewer),
        )
        assert bad.status_code == 400, version
    download = client.get(f"/api/v1/evidence/{item}/download", headers=bearer(reviewer))
    assert download.status_code == 200
    assert download.data == pdf  # evidence is served as stored, not stamped
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "no-store"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert download.headers["Content-Disposition"].startswith('attachment; filename="policy.pdf"')
    assert [a for a in _actions() if a.startswith("evidence.")] == [
        "evidence.create",
        "evidence.submit",
        "evidence.approve",
        "evidence.download",
    ]


def test_new_version_returns_to_draft_and_needs_a_new_approval(
    client, bearer, staff, reviewer, make_evidence
) -> None:
    item = make_evidence(state="approved")
    second = _post(
        client,
        bearer(reviewer),
        f"/api/v1/evidence/{item.id}/versions",
        b"reviewed again\n",
        "review-2.txt",
        effective_date=today().isoformat(),
    )
    assert second.status_code == 201
    assert second.get_json()["number"] == 2
    shown = client.get(f"/api/v1/evidence/{item.id}", headers=bearer(staff)).get_json()
    assert shown["state"] == "draft"
    assert shown["approved"] is None  # the approval was of version 1
    assert [v["number"] for v in shown["versions"]] == [1, 2]
    client.post(f"/api/v1/evidence/{item.id}/submit", headers=bearer(staff))
    # reviewer uploaded version 2, so now reviewer may not approve, but staff may
    assert (
        client.post(f"/api/v1/evidence/{item.id}/approve", headers=bearer(reviewer)).status_code
        == 403
    )
    assert (
        client.post(f"/api/v1/evidence/{item.id}/approve", headers=bearer(staff)).status_code == 200
    )
    old = client.get(f"/api/v1/evidence/{item.id}/download?version=1", headers=bearer(staff))
    assert old.data == b"reviewed: alice, bob\n"


def test_versions_are_immutable_in_the_database(make_evidence) -> None:
    item = make_evidence()
    version = db.session.scalar(
        select(EvidenceVersion).where(EvidenceVersion.evidence_id == item.id)
    )
    version.sha256 = "0" * 64
    with pytest.raises(Exception, match="immutable"):
        db.session.commit()
    db.session.rollback()


def test_expired_evidence_cannot_be_submitted(client, bearer, staff, make_evidence) -> None:
    item = make_evidence(
        effective_date=today() - timedelta(days=400), expires_on=today() - timedelta(days=1)
    )
    shown = client.get(f"/api/v1/evidence/{item.id}", headers=bearer(staff)).get_json()
    assert shown["state"] == "expired"
    refused = client.post(f"/api/v1/evidence/{item.id}/submit", headers=bearer(staff))
    assert refused.status_code == 409  # the state forbids it, not the request
    assert "expired" in refused.get_json()["error"]["message"]


@pytest.mark.parametrize("role", ["customer", "auditor"])
def test_non_staff_get_404_on_every_evidence_route(
    client, bearer, make_user, make_evidence, role
) -> None:
    item = make_evidence(state="approved")
    headers = bearer(make_user(role, org="Acme Health"))
    for method, path in [
        ("GET", "/api/v1/evidence"),
        ("GET", f"/api/v1/evidence/{item.id}"),
        ("GET", f"/api/v1/evidence/{item.id}/download"),
        ("POST", f"/api/v1/evidence/{item.id}/submit"),
        ("POST", f"/api/v1/evidence/{item.id}/approve"),
        ("POST", f"/api/v1/evidence/{item.id}/requirements"),
        ("POST", f"/api/v1/evidence/{item.id}/versions"),
        ("POST", "/api/v1/evidence"),
        ("GET", "/api/v1/evidence/" + "0" * 32),
    ]:
        response = client.open(path, method=method, headers=headers)
        assert response.status_code == 404, (method, path, response.status_code)
        assert item.title not in response.get_data(as_text=True)
    assert "evidence.download" not in _actions()


def test_list_filters(client, bearer, staff, reviewer, make_evidence, evidence_frameworks) -> None:
    make_evidence("Linked", requirements=["iso-sample:A.5.1"], state="approved")
    make_evidence("Other", by=reviewer)
    make_evidence(
        "Old", effective_date=today() - timedelta(days=90), expires_on=today() - timedelta(days=2)
    )
    headers = bearer(staff)

    def titles(query: str) -> list[str]:
        body = client.get(f"/api/v1/evidence{query}", headers=headers).get_json()
        assert body["total"] == len(body["items"])
        return [i["title"] for i in body["items"]]

    assert titles("") == ["Linked", "Old", "Other"]
    assert titles("?state=approved") == ["Linked"]
    assert titles("?state=expired") == ["Old"]
    assert titles("?framework=iso-sample") == ["Linked"]
    assert titles(f"?owner={reviewer.email}") == ["Other"]


def test_links_can_be_replaced_and_unknown_requirements_are_refused(
    client, bearer, staff, make_evidence, evidence_frameworks
) -> None:
    item = make_evidence(requirements=["iso-sample:A.5.1"])
    changed = client.post(
        f"/api/v1/evidence/{item.id}/requirements",
        headers=bearer(staff),
        json={"requirements": ["soc-sample:CC6.1", "iso-sample:A.8.5"]},
    )
    assert changed.get_json()["requirements"] == ["iso-sample:A.8.5", "soc-sample:CC6.1"]
    bad = client.post(
        f"/api/v1/evidence/{item.id}/requirements",
        headers=bearer(staff),
        json={"requirements": ["iso-sample:Z.9"]},
    )
    # Well formed, but naming nothing that exists now: a conflict with the state, not bad input.
    assert bad.status_code == 409
    assert "unknown requirement 'iso-sample:Z.9'" in bad.get_json()["error"]["message"]
    too_many = client.post(
        f"/api/v1/evidence/{item.id}/requirements",
        headers=bearer(staff),
        json={"requirements": [""] * 201},
    )
    assert too_many.status_code == 400
    assert "too many" in too_many.get_json()["error"]["message"]


def _bomb_docx() -> bytes:
    return make_docx(zeros_entry("word/media/zeros.bin", 110))


@pytest.mark.parametrize(
    ("make", "name", "status", "words"),
    [
        (_bomb_docx, "minutes.docx", 422, "zip bomb"),
        (lambda: make_xlsx(zeros_entry("xl/zeros.xml", 5)), "users.xlsx", 422, "zip bomb"),
        (
            lambda: make_png() + b"PK\x03\x04" + b"\x00" * 40 + b"PK\x05\x06" + b"\x00" * 18,
            "image.png",
            422,
            "two formats",
        ),
        (lambda: make_png(), "report.pdf", 415, "name ends in .pdf"),
        (lambda: b"", "empty.txt", 422, "empty"),
        (png_bomb, "bomb.png", 422, "too large"),
        (lambda: b"<html><script>alert(1)</script></html>", "x.txt", 415, "markup"),
        (lambda: b"\x7fELF\x02\x01\x01" + b"\x00" * 50, "tool", 415, "not an accepted type"),
    ],
)
def test_hostile_uploads_leave_no_blob_and_no_row(
    client, bearer, staff, store, make, name, status, words
) -> None:
    headers = bearer(staff)
    before_blobs, before_events = blob_files(store), _count(AuditEvent)
    response = _post(
        client,
        headers,
        "/api/v1/evidence",
        make(),
        name,
        title="Hostile",
        effective_date="2025-01-01",
    )
    assert response.status_code == status, response.get_json()
    assert words in response.get_json()["error"]["message"]
    assert blob_files(store) == before_blobs
    assert _count(Evidence) == 0
    assert _count(EvidenceVersion) == 0
    assert _count(AuditEvent) == before_events


def test_too_large_is_413_and_bad_fields_are_400(app, client, bearer, staff, store) -> None:
    app.config["EVIDENCE_MAX_BYTES"] = 100
    big = _post(
        client,
        bearer(staff),
        "/api/v1/evidence",
        b"x" * 101,
        "big.txt",
        title="Big",
        effective_date="2025-01-01",
    )
    assert big.status_code == 413
    app.config["EVIDENCE_MAX_BYTES"] = 10**6
    for fields, words in [
        ({"effective_date": "2025-01-01"}, "title is required"),
        ({"title": "T"}, "effective date is required"),
        ({"title": "T", "effective_date": "yesterday"}, "must be a date"),
        (
            {"title": "T", "effective_date": "2025-02-01", "expires_on": "2025-01-01"},
            "before the effective date",
        ),
        ({"title": "T", "effective_date": "2999-01-01"}, "in the future"),
        ({"title": "T", "effective_date": "20250101"}, "must be a date"),
        ({"title": "T" * 201, "effective_date": "2025-01-01"}, "too long"),
        (
            {"title": "T", "description": "a\x00b", "effective_date": "2025-01-01"},
            "description contains a control character (NUL)",
        ),
    ]:
        response = _post(client, bearer(staff), "/api/v1/evidence", b"ok", "a.txt", **fields)
        assert response.status_code == 400, fields
        assert words in response.get_json()["error"]["message"]
    nobody = _post(
        client,
        bearer(staff),
        "/api/v1/evidence",
        b"ok",
        "a.txt",
        title="T",
        effective_date="2025-01-01",
        owner="nobody@example.test",
    )
    assert nobody.status_code == 409
    assert "owner must be" in nobody.get_json()["error"]["message"]
    assert blob_files(store) == []
    assert _count(Evidence) == 0


def test_a_tampered_evidence_blob_is_never_served(
    client, store, staff, make_evidence, login_as
) -> None:
    item = make_evidence("Firewall review", data=b"rule 1: deny all\n", filename="fw.txt")
    path = store.path_of(item.versions[-1].blob_id)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    login_as(staff)
    response = client.get(f"/api/v1/evidence/{item.id}/download")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "integrity_failed"
    assert b"deny all" not in response.data
    failure = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "evidence.download", AuditEvent.outcome == "failure"
        )
    ).one()
    assert json.loads(failure.details)["error"] == "integrity"


def test_a_lost_version_race_leaves_neither_blob_nor_row(
    client, bearer, staff, store, make_evidence, login_as
) -> None:
    item = make_evidence("Firewall review", data=b"rule 1: deny all\n", filename="fw.txt")
    headers, before = bearer(staff), (blob_files(store), _count(EvidenceVersion))
    with racing_upload():
        response = _post(
            client,
            headers,
            f"/api/v1/evidence/{item.id}/versions",
            b"rule 1: allow all\n",
            "fw.txt",
        )
    assert response.status_code == 409
    assert "uploaded at the same time" in response.get_json()["error"]["message"]
    assert (blob_files(store), _count(EvidenceVersion)) == before
    login_as(staff)
    detail = f"/evidence/{item.id}"
    token = csrf_token(client, detail)
    with racing_upload():
        page = client.post(
            f"{detail}/versions",
            data={
                "csrf_token": token,
                "file": (io.BytesIO(b"rule 1: allow all\n"), "fw.txt"),
                "effective_date": "2025-01-01",
            },
            content_type="multipart/form-data",
            follow_redirects=True,
        )
    assert page.status_code == 200
    assert "The file was refused: another version was uploaded at the same time" in page.get_data(
        as_text=True
    )
    assert (blob_files(store), _count(EvidenceVersion)) == before
    db.session.refresh(item)
    assert len(item.versions) == 1


def test_the_list_filters_by_a_known_state_only(client, bearer, staff, make_evidence) -> None:
    make_evidence(state="approved")
    listed = client.get("/api/v1/evidence", query_string={"state": ""}, headers=bearer(staff))
    assert listed.get_json()["total"] == 1
    approved = client.get(
        "/api/v1/evidence", query_string={"state": "approved"}, headers=bearer(staff)
    )
    assert approved.get_json()["total"] == 1
    for state in ("null", "retired", " ", " approved"):
        bad = client.get("/api/v1/evidence", query_string={"state": state}, headers=bearer(staff))
        assert bad.status_code == 400, state
        assert "state must be one of" in bad.get_json()["error"]["message"]


def test_what_cannot_be_an_id_or_a_key_names_nothing(client, bearer, staff, make_evidence) -> None:
    """Never put in a query: PostgreSQL refuses NUL in text (a 500 there, before)."""
    item = make_evidence(state="approved")
    headers = bearer(staff)
    assert client.get("/api/v1/evidence/nope", headers=headers).status_code == 404
    # NUL is refused at the edge of the app (issue 16), wherever it is.
    assert client.get("/api/v1/evidence/%00/download", headers=headers).status_code == 400
    for query in ({"framework": "a\x00"}, {"owner": "\x00"}):
        listed = client.get("/api/v1/evidence", query_string=query, headers=headers)
        assert listed.status_code == 400, query
    unknown = client.post(
        f"/api/v1/evidence/{item.id}/requirements",
        headers=headers,
        json={"requirements": ["iso-sample:A.5\x00"]},
    )
    assert unknown.status_code == 400
