"""The engagement package: ``flask engagements export ID DIR`` and the staff page's button.
The manifest's hashes match the files, the stamped copies name the receiving auditor, the
events pass the audit export's standalone verifier (run as an auditor would, in a separate
Python), and a failed export leaves no file behind."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from artifact.engagements.services import requests as engagement_requests
from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.models import EngagementReceipt
from tests.conftest import post_form


def accepted(audit, add_request, *evidence) -> None:
    """A request answered with ``evidence``, marked ready and accepted; and one still open."""
    made = add_request("Access reviews")
    staff, auditor = Caller.of_user(audit.staff), Caller.of_user(audit.auditor)
    for item in evidence:
        engagement_requests.attach_evidence(
            db.session, staff, audit.engagement.id, made.id, item.id
        )
    engagement_requests.mark_ready(db.session, staff, audit.engagement.id, made.id)
    engagement_requests.accept(db.session, auditor, audit.engagement.id, made.id)
    add_request("Not answered yet")
    uow.commit(db.session)


def check_package(data: bytes, tmp_path: Path, audit) -> dict:
    """Unzip, check every hash of the manifest, run the verifier; the manifest."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    manifest = json.loads(archive.read("manifest.json"))
    listed = {f["path"] for f in manifest["files"]}
    assert listed == names - {"manifest.json"}
    for entry in manifest["files"]:
        body = archive.read(entry["path"])
        assert hashlib.sha256(body).hexdigest() == entry["sha256"], entry["path"]
        assert len(body) == entry["size"]
    assert manifest["recipient"]["email"] == audit.auditor.email
    assert manifest["engagement"]["id"] == audit.engagement.id
    out = tmp_path / "unzipped"
    archive.extractall(out)
    verified = subprocess.run(  # noqa: S603 (our own verifier, on our own files)
        [sys.executable, "-I", str(out / "audit" / "verify.py"), str(out / "audit")],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith(f"ok {manifest['audit']['events']} events")
    return manifest


def test_the_command_writes_a_package_the_verifier_accepts(
    runner, tmp_path, audit, add_request
) -> None:
    accepted(audit, add_request, audit.in_scope, audit.in_scope_text)
    target = tmp_path / "out"
    result = runner.invoke(args=["engagements", "export", audit.engagement.id, str(target)])
    assert result.exit_code == 0, result.output
    files = list(target.iterdir())
    assert len(files) == 1, files
    assert files[0].suffix == ".zip"
    assert f"wrote {files[0]}" in result.output
    manifest = check_package(files[0].read_bytes(), tmp_path, audit)
    archive = zipfile.ZipFile(files[0])
    evidence = [f for f in manifest["files"] if f["path"].startswith("evidence/")]
    assert sorted(f["title"] for f in evidence) == ["Access review Q1", "MFA settings export"]
    pdf = next(f for f in evidence if f["watermarked"])
    stamped = " ".join(
        " ".join(
            p.extract_text() or "" for p in PdfReader(io.BytesIO(archive.read(pdf["path"]))).pages
        ).split()
    )
    assert audit.auditor.email in stamped
    assert pdf["receipt"] in stamped
    receipt = db.session.get(EngagementReceipt, pdf["receipt"])
    assert receipt.email == audit.auditor.email
    assert receipt.engagement_id == audit.engagement.id
    text = next(f for f in evidence if not f["watermarked"])
    assert archive.read(text["path"]) == b"mfa: required for all staff\n"  # decrypted, as stored
    assert pdf["requests"] == ["PBC-1"]
    # The request list, both requests.
    listing = archive.read("requests.csv").decode()
    assert "PBC-1" in listing
    assert "Not answered yet" in listing
    assert "accepted" in listing
    # The engagement's events are picked out of the verified trail, the export's own included.
    events = [json.loads(line) for line in archive.read("audit/events.jsonl").splitlines()]
    picked = [json.loads(line) for line in archive.read("engagement-events.jsonl").splitlines()]
    assert [e["seq"] for e in picked] == manifest["audit"]["engagement_events"]
    assert all(e in events for e in picked)
    actions = [e["action"] for e in picked]
    for expected in (
        "engagement.create",
        "engagement.request.create",
        "engagement.request.attach",
        "engagement.request.ready",
        "engagement.request.accept",
        "engagement.evidence.download",
        "engagement.export",
    ):
        assert expected in actions, expected
    assert {e["target_id"] for e in picked} == {audit.engagement.id}


def test_bad_ids_and_directories_leave_nothing(runner, tmp_path, audit, make_user) -> None:
    target = tmp_path / "out"
    unknown = runner.invoke(args=["engagements", "export", "0" * 32, str(target)])
    assert unknown.exit_code == 1
    assert "no engagement '00000000000000000000000000000000'" in unknown.output
    assert not target.exists()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    unwritable = runner.invoke(
        args=["engagements", "export", audit.engagement.id, str(blocker / "sub")]
    )
    assert unwritable.exit_code == 1
    assert "cannot create" in unwritable.output
    assert "nothing was written" in unwritable.output
    # Two auditors and none named: refused once the temporary file exists; it goes too.
    from artifact.engagements.services import records

    second = make_user("auditor", org="Ledger Auditors")
    values = {
        "name": "Two auditors",
        "organization": "Ledger Auditors",
        "framework": "iso-sample",
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
        "starts_on": "2025-01-01",
        "ends_on": "2099-01-01",
        "auditors": [audit.auditor.email, second.email],
    }
    made = records.create_engagement(db.session, Caller.of_user(audit.staff), values)
    uow.commit(db.session)
    target.mkdir()
    ambiguous = runner.invoke(args=["engagements", "export", made.id, str(target)])
    assert ambiguous.exit_code == 1
    assert (
        "the engagement has 2 auditors: name the one who receives the package" in ambiguous.output
    )
    assert list(target.iterdir()) == []
    named = runner.invoke(
        args=["engagements", "export", made.id, str(target), "--auditor", second.email]
    )
    assert named.exit_code == 0, named.output
    assert len(list(target.glob("*.zip"))) == 1
    assert not list(target.glob(".package-*"))


def test_the_button_for_an_administrator(
    client, login_as, tmp_path, audit, add_request, admin
) -> None:
    accepted(audit, add_request, audit.in_scope)
    login_as(admin)
    page = client.get(f"/engagements/{audit.engagement.id}").get_data(as_text=True)
    assert "Download package (ZIP)" in page
    assert "with the whole audit trail and its verifier" in page
    response = post_form(
        client, f"/engagements/{audit.engagement.id}/package", {"auditor": audit.auditor.email}
    )
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert ".zip" in response.headers["Content-Disposition"]
    manifest = check_package(response.data, tmp_path, audit)
    assert manifest["created_by"] == admin.email
    assert [f["title"] for f in manifest["files"] if "title" in f] == ["Access review Q1"]
    stored = db.session.scalars(select(EngagementReceipt.email)).all()
    assert stored == [audit.auditor.email]


def test_staff_get_the_engagement_events_without_the_trail(
    client, login_as, audit, add_request
) -> None:
    """The audit trail is the administrators' (policy: audit.export): a staff member's package
    holds the engagement's events, not the rest of the trail."""
    accepted(audit, add_request, audit.in_scope)
    login_as(audit.staff)
    page = client.get(f"/engagements/{audit.engagement.id}").get_data(as_text=True)
    assert "only in an administrator&#39;s package" in page
    response = post_form(
        client, f"/engagements/{audit.engagement.id}/package", {"auditor": audit.auditor.email}
    )
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert not [name for name in archive.namelist() if name.startswith("audit/")]
    manifest = json.loads(archive.read("manifest.json"))
    for entry in manifest["files"]:
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
    picked = [json.loads(line) for line in archive.read("engagement-events.jsonl").splitlines()]
    assert {e["target_id"] for e in picked} == {audit.engagement.id}
    assert [e["seq"] for e in picked] == manifest["audit"]["engagement_events"]
    assert "engagement.export" in [e["action"] for e in picked]
    assert manifest["audit"]["events"] is None
    assert "only administrators may export it" in manifest["audit"]["verify"]


def test_auditors_have_no_package(client, login_as, audit) -> None:
    login_as(audit.auditor)
    response = post_form(
        client, f"/engagements/{audit.engagement.id}/package", {"auditor": audit.auditor.email}
    )
    assert response.status_code == 404


def test_a_closed_engagement_still_exports(runner, tmp_path, audit, add_request) -> None:
    """Closing ends the auditors' access, not the record: the package is the hand-over."""
    from artifact.engagements.services import records

    accepted(audit, add_request, audit.in_scope)
    records.close_engagement(db.session, Caller.of_user(audit.staff), audit.engagement.id)
    uow.commit(db.session)
    target = tmp_path / "closed"
    result = runner.invoke(args=["engagements", "export", audit.engagement.id, str(target)])
    assert result.exit_code == 0, result.output
    (package,) = target.glob("*.zip")
    manifest = check_package(package.read_bytes(), tmp_path, audit)
    assert manifest["engagement"]["state"] == "closed"
    assert [f["title"] for f in manifest["files"] if "title" in f] == ["Access review Q1"]
