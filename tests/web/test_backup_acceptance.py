"""The acceptance of issue 8: a backup taken while serving downloads restores into a fresh data
directory where `audit verify` passes and every report version downloads, decrypting to the
SHA-256 recorded at upload."""

from __future__ import annotations

import hashlib
import re

from artifact.infra.storage import store_for
from tests.fixtures_backup import BackupRun, rows, run_cli
from tests.live_server import HttpSession, LiveServer

VERSIONS = (
    "SELECT r.id, r.title, v.number, v.sha256, v.blob_id FROM report_version v "
    "JOIN report r ON r.id = v.report_id WHERE v.purged_at IS NULL "
    "ORDER BY r.title, v.number"
)


def test_downloads_were_served_throughout_the_backup(backup_run: BackupRun) -> None:
    assert set(backup_run.downloads) == {200}, backup_run.downloads
    assert sum(backup_run.downloads.values()) >= 3
    receipts = rows(backup_run.original, "SELECT COUNT(*) FROM download_receipt")[0][0]
    assert receipts >= sum(backup_run.downloads.values())


def test_audit_verify_passes_in_the_restored_data_directory(
    backup_run: BackupRun, restored: LiveServer
) -> None:
    backed_up = rows(restored.data_dir, "SELECT COUNT(*), MAX(seq) FROM audit_event")[0]
    assert backed_up[0] > 50  # the demo seed, the sign-ins and downloads of the load
    result = run_cli(restored.data_dir, "audit", "verify")
    assert result.exit_code == 0, result.output
    found = re.search(r"\bok (\d+) events\b", result.output)
    assert found, result.output
    assert int(found.group(1)) >= backed_up[0]
    assert "FAILED" not in result.output


def test_every_report_version_downloads_from_the_restored_deployment(
    backup_run: BackupRun, restored: LiveServer
) -> None:
    versions = rows(restored.data_dir, VERSIONS)
    assert versions == rows(backup_run.original, VERSIONS)
    assert len({title for _id, title, *_ in versions}) >= 7  # the whole demo catalog
    store = store_for(restored.app)
    for _report_id, title, _number, sha256, blob_id in versions:
        original = store.read_bytes(blob_id)  # decrypted with the restored keyring
        assert hashlib.sha256(original).hexdigest() == sha256, title
    staff = HttpSession(restored.url)  # sees every report and accepted the NDA before
    staff.sign_in(restored.email("staff"), restored.password("staff"))
    for report_id, title, number, _sha256, _blob_id in versions:
        status, headers, body = staff.get(f"/catalog/{report_id}/download?version={number}")
        assert status == 200, (title, number, status)
        assert headers["content-type"] == "application/pdf"
        assert re.fullmatch(r"[0-9a-f]{20}", headers["x-artifact-receipt"])
        assert body.startswith(b"%PDF-")
    receipts = rows(
        restored.data_dir,
        "SELECT COUNT(*) FROM download_receipt WHERE email = 'staff@artifact.test'",
    )[0][0]
    assert receipts == len(versions)
