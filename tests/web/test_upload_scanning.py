"""Virus scanning of every upload (issue 16, Files): with ARTIFACT_CLAMAV_SOCKET set, report
versions and evidence go through clamd before they are stored. The scanner is Debian's clamd,
started here on a private socket with a signature database made for the EICAR test string (no
signature download is possible or needed)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from artifact.extensions import db
from artifact.infra.clamav import ClamdScanner
from artifact.models import AuditEvent, Evidence, ReportVersion
from tests.fixtures_catalog import upload_version
from tests.fixtures_evidence import blob_files

# The EICAR anti-virus test file: harmless, and detected as a virus by every scanner.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"


@pytest.fixture(scope="module")
def clamd_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A clamd of our own: a body signature for EICAR, a unix socket in a temporary directory,
    in the foreground, stopped at the end of the module."""
    if not Path(CLAMD).exists():
        if os.environ.get("CLAMD_REQUIRED"):
            pytest.fail("CLAMD_REQUIRED is set but clamd is absent: install clamav-daemon")
        pytest.skip("clamd is absent: install Debian's clamav-daemon to run the scanning tests")
    root = tmp_path_factory.mktemp("clamd")
    (root / "db").mkdir()
    (root / "db" / "eicar.ndb").write_text(f"Eicar-Test-Signature:0:*:{EICAR.hex()}\n")
    socket_path = root / "clamd.sock"
    config = root / "clamd.conf"
    config.write_text(
        f"Foreground yes\nLocalSocket {socket_path}\nDatabaseDirectory {root / 'db'}\n"
        f"LogFile {root / 'clamd.log'}\nTemporaryDirectory {root}\nStreamMaxLength 120M\n"
    )
    with (root / "clamd.out").open("wb") as out:
        proc = subprocess.Popen([CLAMD, f"--config-file={config}"], stdout=out, stderr=out)
    scanner = ClamdScanner(str(socket_path), 5)
    deadline = time.monotonic() + 60
    while not (socket_path.exists() and scanner.ping()):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            pytest.fail(f"clamd did not start: {(root / 'clamd.out').read_text()[-2000:]}")
        time.sleep(0.1)
    yield str(socket_path)
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _post_evidence(client, headers, data: bytes, filename: str):
    form = {
        "file": (io.BytesIO(data), filename),
        "title": "Firewall rules",
        "effective_date": "2025-01-01",
    }
    return client.post(
        "/api/v1/evidence", data=form, headers=headers, content_type="multipart/form-data"
    )


def _malware_events() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "upload.malware")))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_client_tells_clean_from_infected(clamd_socket: str) -> None:
    scanner = ClamdScanner(clamd_socket)
    assert scanner.scan(b"rule 1: deny all\n") is None
    assert scanner.scan(b"pre " + EICAR + b" post").startswith("Eicar-Test-Signature")


def test_infected_evidence_is_refused_recorded_and_not_stored(
    app, client, bearer, staff, store, clamd_socket: str
) -> None:
    app.config["CLAMAV_SOCKET"] = clamd_socket
    headers = bearer(staff)
    refused = _post_evidence(client, headers, EICAR, "notes.txt")
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert "virus scanner found Eicar-Test-Signature" in error["message"]
    assert (_count(Evidence), blob_files(store)) == (0, [])
    [event] = _malware_events()
    details = json.loads(event.details)
    assert event.outcome == "failure"
    assert event.actor_email == staff.email
    assert details["signature"].startswith("Eicar-Test-Signature")
    assert "EICAR-STANDARD" not in event.details  # the signature, never the content
    clean = _post_evidence(client, headers, b"rule 1: deny all\n", "notes.txt")
    assert clean.status_code == 201, clean.get_json()


def test_an_infected_report_version_is_refused_before_any_parser_reads_it(
    app, client, bearer, staff, store, make_report, clamd_socket: str
) -> None:
    report = make_report("Scanned", state="draft")
    before = (_count(ReportVersion), blob_files(store))
    app.config["CLAMAV_SOCKET"] = clamd_socket
    refused = upload_version(client, bearer(staff), report.id, EICAR, "report.pdf")
    assert refused.status_code == 422
    assert "Eicar-Test-Signature" in refused.get_json()["error"]["message"]
    assert (_count(ReportVersion), blob_files(store)) == before
    [event] = _malware_events()
    assert (event.target_type, event.target_id) == ("report", report.id)


@pytest.mark.parametrize("address", ["absent.sock", "tcp://127.0.0.1:9"])
def test_a_scanner_that_is_down_refuses_uploads_with_503(
    app, client, bearer, staff, store, make_report, tmp_path: Path, address: str
) -> None:
    report = make_report("Unscanned", state="draft")
    before = (_count(ReportVersion), blob_files(store))
    app.config["CLAMAV_SOCKET"] = (
        address if address.startswith("tcp://") else str(tmp_path / address)
    )
    headers = bearer(staff)
    evidence = _post_evidence(client, headers, b"rule 1: deny all\n", "notes.txt")
    assert evidence.status_code == 503
    assert evidence.get_json()["error"]["code"] == "unavailable"
    assert "virus scanner is not answering" in evidence.get_json()["error"]["message"]
    version = upload_version(client, headers, report.id, b"%PDF-1.7\n", "report.pdf")
    assert version.status_code == 503
    assert (_count(Evidence), _count(ReportVersion), blob_files(store)) == (0, *before)


def test_the_evidence_page_says_the_scanner_is_down(
    app, client, login_as, staff, store, tmp_path: Path
) -> None:
    from tests.conftest import csrf_token

    app.config["CLAMAV_SOCKET"] = str(tmp_path / "absent.sock")
    login_as(staff)
    token = csrf_token(client, "/evidence/new")
    page = client.post(
        "/evidence/new",
        data={
            "csrf_token": token,
            "file": (io.BytesIO(b"rule 1: deny all\n"), "fw.txt"),
            "title": "Firewall rules",
            "effective_date": "2025-01-01",
        },
        content_type="multipart/form-data",
    )
    assert "virus scanner is not answering" in page.get_data(as_text=True)
    assert (_count(Evidence), blob_files(store)) == (0, [])
