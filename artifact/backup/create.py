"""Take a backup: the database first, then the data directory, into one 0600 archive.

Order matters for consistency: stored files (blobs, keys) are written before the database rows
that name them commit, so every file the database snapshot refers to is already on disk when
the data directory is read after it. Files written after the snapshot come along as harmless
extras."""

from __future__ import annotations

import fnmatch
import hashlib
import io
import os
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from artifact.backup import database
from artifact.backup.archive import (
    DATA_PREFIX,
    DATABASE_PREFIX,
    MANIFEST_NAME,
    BackupError,
    Manifest,
    now_iso,
    versions,
)

# Transient files never worth restoring (besides the live SQLite file and its journals).
TRANSIENT = (
    "*.tmp",
    "*.partial",
    "*.lock",
    "*.pid",
    "*-journal",
    "*-wal",
    "*-shm",
    "*.pyc",
    ".~*",
    "*.restoring-*",
)


def create_backup(out: Path, data_dir: Path, database_url: str) -> Manifest:
    """Write the archive to ``out`` (refusing to overwrite); returns its manifest."""
    out = out.resolve()
    if out.exists():
        raise BackupError(f"{out} already exists: choose a new file name")
    kind = database.kind(database_url)
    manifest = Manifest(database={"kind": kind}, created_at=now_iso(), versions=versions())
    skip = {out}
    with tempfile.TemporaryDirectory(prefix="artifact-backup-") as staging:
        db_file = _snapshot(Path(staging), kind, database_url, data_dir, manifest, skip)
        partial = out.with_name(out.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                _add(tar, db_file, manifest.database["file"], manifest)
                for path in _data_files(data_dir, skip):
                    _add(tar, path, DATA_PREFIX + path.relative_to(data_dir).as_posix(), manifest)
                body = manifest.to_json()
                info = tarfile.TarInfo(MANIFEST_NAME)
                info.size, info.mode, info.mtime = len(body), 0o600, int(time.time())
                tar.addfile(info, io.BytesIO(body))
            os.replace(partial, out)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return manifest


def _snapshot(
    staging: Path, kind: str, database_url: str, data_dir: Path, manifest: Manifest, skip: set[Path]
) -> Path:
    if kind == "sqlite":
        live = database.sqlite_path(database_url)
        skip.add(live)
        target = staging / live.name
        revisions = database.sqlite_snapshot(live, target)
        inside = live.is_relative_to(data_dir.resolve())
        manifest.database.update(
            file=DATABASE_PREFIX + live.name,
            alembic_revisions=revisions,
            path_in_data_dir=live.relative_to(data_dir.resolve()).as_posix() if inside else None,
        )
        if not inside:
            manifest.notes.append(f"the SQLite database was outside the data directory ({live})")
        return target
    target = staging / "artifact.pgdump"
    revisions = database.pg_revisions(database_url)
    manifest.database.update(
        file=DATABASE_PREFIX + target.name,
        alembic_revisions=revisions,
        tool=database.pg_dump(database_url, target),
    )
    return target


def _data_files(data_dir: Path, skip: set[Path]) -> Iterator[Path]:
    if not data_dir.is_dir():
        return
    for root, dirs, files in os.walk(data_dir):  # never follows symbolic links
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if path.resolve() in skip or any(fnmatch.fnmatch(name, p) for p in TRANSIENT):
                continue
            if path.is_symlink() or not path.is_file():
                continue
            yield path


def _add(tar: tarfile.TarFile, path: Path, name: str, manifest: Manifest) -> None:
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o600, int(time.time())
        reader = _HashingReader(handle, size)
        try:
            tar.addfile(info, reader)
        except OSError as error:  # tarfile: "unexpected end of data"
            raise BackupError(
                f"{path} changed while it was read ({error}); take the backup again"
            ) from error
    manifest.files.append({"path": name, "sha256": reader.digest.hexdigest(), "size": size})


class _HashingReader:
    """Hands tarfile at most ``size`` bytes of a file, hashing them on the way."""

    def __init__(self, handle: IO[bytes], size: int) -> None:
        self.digest = hashlib.sha256()
        self._handle, self._remaining = handle, size

    def read(self, size: int = -1) -> bytes:
        wanted = self._remaining if size < 0 else min(size, self._remaining)
        chunk = self._handle.read(wanted)
        self._remaining -= len(chunk)
        self.digest.update(chunk)
        return chunk
