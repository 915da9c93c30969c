"""Restore a backup into a fresh data directory (and, for PostgreSQL, an empty database).

Every member is checked against the manifest (layout, no links, no extras, sizes, SHA-256)
while it is unpacked into a staging folder beside the target; only when all of them match does
the database get restored and the staging folder become the target."""

from __future__ import annotations

import os
import secrets
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from artifact.backup import database
from artifact.backup.archive import (
    DATA_PREFIX,
    DATABASE_PREFIX,
    MANIFEST_NAME,
    MAX_MANIFEST_BYTES,
    BackupError,
    Manifest,
    check_member_name,
    copy_hashing,
    regular_members,
)


@dataclass(frozen=True)
class RestoreResult:
    target: Path
    manifest: Manifest
    sqlite_file: Path | None
    needs_upgrade: bool


def restore_backup(
    archive: Path,
    target: Path,
    database_url: str | None,
    known_revisions: set[str],
    heads: set[str],
) -> RestoreResult:
    """Restore ``archive`` into ``target`` (new or empty). A PostgreSQL backup goes into
    ``database_url``, which must be an empty PostgreSQL database."""
    target = target.resolve()
    leftovers = _self_made(target) if target.exists() else []
    if leftovers is None:
        raise BackupError(f"{target} is not empty: restore into a new or empty directory")
    try:
        tar = tarfile.open(archive, "r:*")  # noqa: SIM115 - closed below
    except (OSError, tarfile.TarError, EOFError, zlib.error) as error:
        raise BackupError(f"{archive} is not a readable backup archive: {error}") from error
    with tar:
        try:
            members = regular_members(tar)
            manifest = _manifest(tar, members)
            expected = _expected(manifest, members)
            revisions = _check_revisions(manifest, known_revisions)
            kind = manifest.database.get("kind")
            if kind == "postgresql":
                if database_url is None or database.kind(database_url) != "postgresql":
                    raise BackupError(
                        "this backup holds a PostgreSQL database: set "
                        "ARTIFACT_DATABASE_URL to a new, empty PostgreSQL "
                        "database to restore into"
                    )
                database.pg_require_empty(database_url)
            elif kind != "sqlite":
                raise BackupError(f"the manifest names an unknown database kind {kind!r}")
            sqlite_file = _unpack(tar, members, expected, manifest, target, database_url, leftovers)
        except (tarfile.TarError, EOFError, zlib.error) as error:
            raise BackupError(f"{archive} is damaged: {error}") from error
    return RestoreResult(target, manifest, sqlite_file, needs_upgrade=set(revisions) != heads)


# What the app itself leaves in a data directory it started on before anything was stored:
# the development secret key and an empty SQLite file. A directory holding only these counts as
# empty, so a backup restores into the configured data directory (`make run`'s) too.
DEV_SECRET_FILE = "dev-secret-key"  # noqa: S105 (a file name, not a secret)


def _self_made(target: Path) -> list[Path] | None:
    """The self-made files of an existing ``target``, or None when it holds anything else."""
    if not target.is_dir():
        return None
    found = []
    for entry in target.iterdir():
        if entry.is_symlink() or not entry.is_file():
            return None
        empty_database = entry.suffix == ".db" and entry.stat().st_size == 0
        if entry.name != DEV_SECRET_FILE and not empty_database:
            return None
        found.append(entry)
    return found


def _clear_self_made(leftovers: list[Path], staging: Path) -> None:
    """The development key stays (unless the backup brings one); an empty database goes."""
    for entry in leftovers:
        if entry.name == DEV_SECRET_FILE and not (staging / entry.name).exists():
            os.replace(entry, staging / entry.name)
        else:
            entry.unlink()


def _manifest(tar: tarfile.TarFile, members: list[tarfile.TarInfo]) -> Manifest:
    found = [m for m in members if m.name == MANIFEST_NAME]
    if len(found) != 1:
        raise BackupError(f"the archive has {len(found)} {MANIFEST_NAME} (one is needed)")
    if found[0].size > MAX_MANIFEST_BYTES:
        raise BackupError(f"{MANIFEST_NAME} is implausibly large")
    handle = tar.extractfile(found[0])
    assert handle is not None
    return Manifest.from_json(handle.read())


def _expected(manifest: Manifest, members: list[tarfile.TarInfo]) -> dict[str, dict[str, Any]]:
    expected = {}
    for entry in manifest.files:
        name = check_member_name(entry["path"])
        if name == MANIFEST_NAME or name in expected:
            raise BackupError(f"{MANIFEST_NAME} lists {name!r} twice or names itself")
        expected[name] = entry
    present = [m.name for m in members if m.name != MANIFEST_NAME]
    if len(present) != len(set(present)):
        raise BackupError("the archive holds a member twice")
    extra, missing = set(present) - set(expected), set(expected) - set(present)
    if extra or missing:
        raise BackupError(
            "the archive does not match its manifest: "
            f"unlisted {sorted(extra)}, missing {sorted(missing)}"
        )
    db_file = manifest.database.get("file")
    if (
        not isinstance(db_file, str)
        or not db_file.startswith(DATABASE_PREFIX)
        or db_file not in expected
    ):
        raise BackupError(f"{MANIFEST_NAME} names no database file of the archive")
    return expected


def _check_revisions(manifest: Manifest, known: set[str]) -> list[str]:
    revisions = [str(r) for r in manifest.database.get("alembic_revisions") or []]
    unknown = sorted(set(revisions) - known)
    if unknown:
        raise BackupError(
            f"the backup's database is at revision(s) {', '.join(unknown)}, "
            "which this Artifact does not know: restore it with the Artifact "
            "version that took it (or a newer one)"
        )
    return revisions


def _unpack(
    tar: tarfile.TarFile,
    members: list[tarfile.TarInfo],
    expected: dict[str, dict[str, Any]],
    manifest: Manifest,
    target: Path,
    database_url: str | None,
    leftovers: list[Path],
) -> Path | None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.restoring-{secrets.token_hex(4)}"
    staging.mkdir(mode=0o700)
    try:
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".restore-db-") as db_dir:
            db_name = manifest.database["file"]
            for member in members:
                if member.name == MANIFEST_NAME:
                    continue
                if member.name == db_name:
                    dest = Path(db_dir) / Path(db_name).name
                elif member.name.startswith(DATA_PREFIX):
                    dest = staging / member.name[len(DATA_PREFIX) :]
                else:
                    raise BackupError(f"unexpected member {member.name!r}")
                _extract(tar, member, expected[member.name], dest)
            sqlite_file = _restore_database(
                manifest, Path(db_dir) / Path(db_name).name, staging, database_url
            )
        if target.exists():
            _clear_self_made(leftovers, staging)
            target.rmdir()
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target / sqlite_file.relative_to(staging) if sqlite_file else None


def _extract(
    tar: tarfile.TarFile, member: tarfile.TarInfo, entry: dict[str, Any], dest: Path
) -> None:
    if member.size != entry["size"]:
        raise BackupError(
            f"{member.name} has {member.size} bytes, the manifest says "
            f"{entry['size']}: the archive is damaged or was altered"
        )
    dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    source = tar.extractfile(member)
    assert source is not None
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        digest = copy_hashing(source, handle, member.size)
    if digest != entry["sha256"]:
        raise BackupError(
            f"{member.name} does not match its SHA-256 in the manifest: the "
            "archive is damaged or was altered; nothing was restored"
        )


def _restore_database(
    manifest: Manifest, dump: Path, staging: Path, database_url: str | None
) -> Path | None:
    if manifest.database["kind"] == "postgresql":
        assert database_url is not None
        database.pg_restore(database_url, dump)
        return None
    database.sqlite_check(dump)
    relative = manifest.database.get("path_in_data_dir") or dump.name
    check_member_name(DATA_PREFIX + str(relative))
    dest = staging / str(relative)
    if dest.exists():
        raise BackupError(f"the archive holds both a data file and the database at {relative}")
    dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.move(dump, dest)
    return dest
