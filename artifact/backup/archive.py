"""The archive format: layout, manifest, hashing, and the checks a member must pass."""

from __future__ import annotations

import hashlib
import json
import platform
import tarfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import IO, Any

from artifact.kernel.errors import ValidationFailed

FORMAT = "artifact-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
DATABASE_PREFIX = "database/"
DATA_PREFIX = "data/"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
CHUNK = 1024 * 1024


class BackupError(ValidationFailed):
    """A backup or restore cannot proceed; the message says why and what to do."""


@dataclass
class Manifest:
    database: dict[str, Any]
    files: list[dict[str, Any]] = field(default_factory=list)
    created_at: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> bytes:
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": self.created_at,
            "versions": self.versions,
            "database": self.database,
            "files": self.files,
            "notes": self.notes,
        }
        return json.dumps(document, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            document = json.loads(raw)
        except ValueError as error:
            raise BackupError(f"{MANIFEST_NAME} is not valid JSON: {error}") from error
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise BackupError(
                f"this is not an Artifact backup (its manifest names no {FORMAT!r} format)"
            )
        if document.get("format_version") != FORMAT_VERSION:
            raise BackupError(
                f"backup format version {document.get('format_version')!r} is "
                f"not the one this Artifact reads ({FORMAT_VERSION})"
            )
        files = document.get("files")
        database = document.get("database")
        if not isinstance(files, list) or not isinstance(database, dict):
            raise BackupError(f"{MANIFEST_NAME} lacks its file list or database entry")
        for entry in files:
            if not (
                isinstance(entry, dict)
                and isinstance(entry.get("path"), str)
                and isinstance(entry.get("sha256"), str)
                and isinstance(entry.get("size"), int)
            ):
                raise BackupError(f"{MANIFEST_NAME} has a malformed file entry: {entry!r}")
        return cls(
            database=database,
            files=files,
            created_at=str(document.get("created_at")),
            versions=dict(document.get("versions") or {}),
            notes=list(document.get("notes") or []),
        )


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("artifact", "flask", "sqlalchemy", "alembic"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "unknown"
    return found


def check_member_name(name: str) -> str:
    """The member's path if it is a plain relative path in the layout; else refuse."""
    path = PurePosixPath(name)
    if (
        path.is_absolute()
        or ".." in path.parts
        or name != path.as_posix()
        or not (name == MANIFEST_NAME or name.startswith((DATABASE_PREFIX, DATA_PREFIX)))
    ):
        raise BackupError(f"the archive holds a member outside its layout: {name!r}")
    return name


def copy_hashing(source: IO[bytes], target: IO[bytes] | None, size: int) -> str:
    """Copy exactly ``size`` bytes (or hash them when ``target`` is None); their SHA-256."""
    digest = hashlib.sha256()
    remaining = size
    while remaining > 0:
        chunk = source.read(min(CHUNK, remaining))
        if not chunk:
            raise BackupError("a file ended early: it changed while it was read")
        digest.update(chunk)
        if target is not None:
            target.write(chunk)
        remaining -= len(chunk)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def regular_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """Every file member, after checking that nothing else (links, devices) is in the tar."""
    files = []
    for member in tar.getmembers():
        if member.isdir():
            check_member_name(member.name.rstrip("/") + "/-")
            continue
        check_member_name(member.name)
        if not member.isreg():
            raise BackupError(f"the archive holds a link or special file: {member.name!r}")
        files.append(member)
    return files
