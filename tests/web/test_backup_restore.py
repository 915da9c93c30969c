"""Backup while serving, restore into a fresh data directory, serve again (SQLite).

The deployment and its restored copy come from tests/fixtures_backup.py (``backup_run``,
``restored``); add checks for what later features store there."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures_backup import BackupRun, rows, run_cli
from tests.live_server import DEMO_EMAILS, HttpSession, LiveServer

ACCEPTANCE_COLUMNS = (
    "id, user_id, agreement_id, version_number, text_sha256, typed_name, "
    "accepted_at, ip_address, user_agent, scope"
)


def _heads() -> set[str]:
    from alembic.script import ScriptDirectory

    from artifact.config import PROJECT_ROOT

    return set(ScriptDirectory(str(PROJECT_ROOT / "migrations")).get_heads())


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {
            m.name: tar.extractfile(m).read()
            for m in tar.getmembers()  # type: ignore[union-attr]
            if m.isreg()
        }


def test_archive_is_private_and_its_manifest_lists_every_file(backup_run: BackupRun) -> None:
    assert stat.S_IMODE(backup_run.archive.stat().st_mode) == 0o600
    assert "keep it secret" in backup_run.output
    members = _members(backup_run.archive)
    manifest = json.loads(members["manifest.json"])
    assert manifest["format"] == "artifact-backup"
    assert manifest["database"]["kind"] == "sqlite"
    assert set(manifest["database"]["alembic_revisions"]) == _heads()
    assert {f["path"] for f in manifest["files"]} == set(members) - {"manifest.json"}
    assert "database/artifact.db" in members
    assert "data/keys/sample.key" in members
    assert "data/artifact.db" not in members  # the live file is never copied as such
    assert "data/upload.tmp" not in members  # transient
    assert {"python", "artifact", "alembic", "sqlalchemy"} <= set(manifest["versions"])


def test_backup_is_an_audit_event_naming_the_archive_hash(backup_run: BackupRun) -> None:
    digest = hashlib.sha256(backup_run.archive.read_bytes()).hexdigest()
    assert f"archive SHA-256: {digest}" in backup_run.output
    events = rows(
        backup_run.original,
        "SELECT actor_email, details FROM audit_event WHERE action = 'backup.create'",
    )
    assert len(events) == 1
    assert events[0][0] == "cli"
    details = json.loads(events[0][1])
    assert details["archive_sha256"] == digest
    assert details["database"] == "sqlite"


def test_every_demo_user_signs_in_after_restore(restored: LiveServer) -> None:
    for role in DEMO_EMAILS:
        client = HttpSession(restored.url)
        client.sign_in(restored.email(role), restored.password(role))
        assert client.get("/account/")[0] == 200


def test_agreements_and_certificates_are_intact(
    backup_run: BackupRun, restored: LiveServer
) -> None:
    query = f"SELECT {ACCEPTANCE_COLUMNS} FROM agreement_acceptance ORDER BY id"
    assert rows(restored.data_dir, query) == rows(backup_run.original, query)
    assert len(rows(restored.data_dir, query)) == 2  # the customer's and staff's
    client = HttpSession(restored.url)
    client.sign_in(restored.email("customer"), restored.password("customer"))
    status, _, page = client.get("/agreements/")
    assert status == 200
    assert "“Bob Acme”" in page.decode()
    acceptance_id = backup_run.facts["acceptance_id"]
    status, headers, pdf = client.get(f"/agreements/acceptances/{acceptance_id}/certificate.pdf")
    assert status == 200
    assert headers["content-type"] == "application/pdf"
    assert pdf.startswith(b"%PDF-")


def test_data_files_come_back_private_and_transient_files_do_not(
    backup_run: BackupRun, restored: LiveServer
) -> None:
    for relative, content in backup_run.facts["data_files"].items():
        path = restored.data_dir / relative
        assert path.read_bytes() == content
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not (restored.data_dir / "upload.tmp").exists()
    assert stat.S_IMODE(restored.data_dir.stat().st_mode) == 0o700


def test_sign_ins_during_the_backup_all_succeeded(backup_run: BackupRun) -> None:
    assert set(backup_run.load) <= {200, 302}, backup_run.load


def _rewrite(
    archive: Path, out: Path, change: Callable[[tarfile.TarFile, dict[str, bytes]], None]
) -> Path:
    members = _members(archive)
    with tarfile.open(out, "w:gz") as tar:
        change(tar, members)
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def _flip_key(tar: tarfile.TarFile, members: dict[str, bytes]) -> None:
    members["data/keys/sample.key"] = b"not a real kez\n"


def _alter_database(tar: tarfile.TarFile, members: dict[str, bytes]) -> None:
    data = bytearray(members["database/artifact.db"])
    data[-100] ^= 0xFF
    members["database/artifact.db"] = bytes(data)


def _extra_member(tar: tarfile.TarFile, members: dict[str, bytes]) -> None:
    members["data/planted.py"] = b"print('hello')"


def _escape(tar: tarfile.TarFile, members: dict[str, bytes]) -> None:
    members["data/../../escaped"] = b"x"


def _symlink(tar: tarfile.TarFile, members: dict[str, bytes]) -> None:
    info = tarfile.TarInfo("data/link")
    info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    tar.addfile(info)


def _drop_file(tar: tarfile.TarFile, members: dict[str, bytes]) -> None:
    del members["data/keys/sample.key"]


def _manifest_lies(tar: tarfile.TarFile, members: dict[str, bytes]) -> None:
    manifest = json.loads(members["manifest.json"])
    manifest["files"][0]["size"] += 1
    members["manifest.json"] = json.dumps(manifest).encode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_flip_key, "data/keys/sample.key does not match its SHA-256"),
        (_alter_database, "database/artifact.db does not match its SHA-256"),
        (_extra_member, "does not match its manifest: unlisted ['data/planted.py']"),
        (_escape, "outside its layout"),
        (_symlink, "link or special file"),
        (_drop_file, "missing ['data/keys/sample.key']"),
        (_manifest_lies, "the manifest says"),
    ],
)
def test_tampered_archive_is_refused_and_nothing_is_restored(
    backup_run: BackupRun,
    tmp_path: Path,
    change: Callable[[tarfile.TarFile, dict[str, bytes]], None],
    message: str,
) -> None:
    archive = _rewrite(backup_run.archive, tmp_path / "tampered.tar.gz", change)
    target = tmp_path / "target"
    result = run_cli(tmp_path / "operator", "restore", str(archive), "--data-dir", str(target))
    assert result.exit_code == 1
    assert message in result.output
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_not_an_archive_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"\x1f\x8b not really gzip")
    result = run_cli(tmp_path / "operator", "restore", str(junk), "--data-dir", str(tmp_path / "t"))
    assert result.exit_code == 1
    assert "not a readable backup archive" in result.output or "is damaged" in result.output


def test_restore_refuses_a_non_empty_target(backup_run: BackupRun, tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "something").write_text("keep me")
    result = run_cli(
        tmp_path / "operator", "restore", str(backup_run.archive), "--data-dir", str(target)
    )
    assert result.exit_code == 1
    assert "is not empty" in result.output
    assert [p.name for p in target.iterdir()] == ["something"]


def test_backup_refuses_to_overwrite(backup_run: BackupRun, tmp_path: Path) -> None:
    out = tmp_path / "exists.tar.gz"
    out.write_bytes(b"precious")
    result = run_cli(backup_run.original, "backup", str(out))
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert out.read_bytes() == b"precious"


def test_restore_into_postgresql_needs_a_postgresql_archive_target(
    backup_run: BackupRun, tmp_path: Path
) -> None:
    manifest_only = _rewrite(backup_run.archive, tmp_path / "pg.tar.gz", _claim_postgres)
    result = run_cli(
        tmp_path / "operator", "restore", str(manifest_only), "--data-dir", str(tmp_path / "t")
    )
    assert result.exit_code == 1
    assert "holds a PostgreSQL database" in result.output


def _claim_postgres(tar: tarfile.TarFile, members: dict[str, bytes]) -> None:
    manifest = json.loads(members["manifest.json"])
    manifest["database"]["kind"] = "postgresql"
    members["manifest.json"] = json.dumps(manifest).encode()


def test_restore_into_the_configured_development_data_directory(
    backup_run: BackupRun, tmp_path: Path
) -> None:
    """`make run`'s data directory already holds what a development start makes (its secret
    key, an empty SQLite file): restoring into it works."""
    import stat

    target = tmp_path / "instance"
    result = run_cli(
        target,
        "restore",
        str(backup_run.archive),
        "--data-dir",
        str(target),
        ARTIFACT_ENV="development",
    )
    assert result.exit_code == 0, result.output
    assert (target / "artifact.db").stat().st_size > 0
    assert (target / "dev-secret-key").exists()
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert stat.S_IMODE((target / "artifact.db").stat().st_mode) == 0o600
