"""What every upload (report versions, evidence) passes besides its type check: a virus scan
before anything is stored, and the storage quotas.

Quotas count what is stored (every version of reports, but purged ones, and of evidence), all
uploaders together and per uploader, in bytes and in files. Parallel uploads cannot slip past
them: the check runs after the new version's row is written, in the same transaction, under a
lock held until it ends (PostgreSQL: an advisory transaction lock; SQLite: the database's write
lock, already taken by that row), so the second of two racing uploads sees the first; over the
limit, the upload is refused and its owner rolls everything back, blob included.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import func, select, text

from artifact.audit.services import chain as audit
from artifact.infra.clamav import ClamdScanner, ScannerUnavailable
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.kernel.errors import InvalidFile, QuotaExceeded, Unavailable
from artifact.models import EvidenceVersion, ReportVersion
from artifact.models.base import DbSession

MB = 1024 * 1024
_PG_QUOTA_KEY = 0x51756F7461  # "Quota": another key than the audit trail's
_SQLITE_WRITE_LOCK = text("UPDATE report_version SET size = size WHERE 1 = 0")


class Scanner(Protocol):
    def scan(self, data: bytes) -> str | None: ...


@dataclass(frozen=True)
class Quota:
    """Limits on what is stored; 0 is no limit."""

    total_bytes: int = 0
    user_bytes: int = 0
    total_files: int = 0
    user_files: int = 0


@dataclass(frozen=True)
class UploadGuard:
    scanner: Scanner | None = None
    quota: Quota = Quota()

    @classmethod
    def from_settings(cls, config: Mapping[str, Any]) -> UploadGuard:
        address = config.get("CLAMAV_SOCKET")
        scanner = ClamdScanner(address, float(config["CLAMAV_TIMEOUT"])) if address else None
        quota = Quota(
            total_bytes=config["QUOTA_TOTAL_BYTES"],
            user_bytes=config["QUOTA_USER_BYTES"],
            total_files=config["QUOTA_TOTAL_FILES"],
            user_files=config["QUOTA_USER_FILES"],
        )
        return cls(scanner, quota)


# No scan, no quotas: the demo seeding and the services' own callers that pass no guard.
NO_GUARD = UploadGuard()


def screen(
    db: DbSession,
    caller: Caller,
    guard: UploadGuard,
    data: bytes,
    *,
    target_type: str,
    target_id: str | None,
) -> None:
    """Before the file is stored: the quotas as they stand (a cheap early refusal; the check
    that counts is ``enforce_quota``), then the virus scan. Raises QuotaExceeded, Unavailable
    (the scanner gives no answer: nothing unscanned is stored) or InvalidFile (malware; the
    ``upload.malware`` event, naming the signature, survives the rollback)."""
    _check_quota(db, caller, guard.quota, len(data), stored=False)
    if guard.scanner is None:
        return
    try:
        signature = guard.scanner.scan(data)
    except ScannerUnavailable as error:
        raise Unavailable(
            "the virus scanner is not answering, so the file was not stored; try again later "
            f"or tell the administrator ({str(error)[:120]})"
        ) from None
    if signature is None:
        return
    details = {
        "signature": signature[:200],
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    uow.durable(
        db,
        lambda session: audit.record(
            session,
            caller,
            "upload.malware",
            target_type=target_type,
            target_id=target_id,
            outcome="failure",
            details=details,
        ),
    )
    raise InvalidFile(f"the virus scanner found {signature[:200]} in the file; it was not stored")


def enforce_quota(db: DbSession, caller: Caller, guard: UploadGuard, size: int) -> None:
    """After the new version's row is flushed: lock, count what is stored (that row included)
    and refuse past a limit. Raises QuotaExceeded; the owner's rollback removes the row and
    the blob."""
    quota = guard.quota
    if not any((quota.total_bytes, quota.user_bytes, quota.total_files, quota.user_files)):
        return
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_QUOTA_KEY})
    elif dialect == "sqlite":
        db.execute(_SQLITE_WRITE_LOCK)
    _check_quota(db, caller, quota, size, stored=True)


def _check_quota(db: DbSession, caller: Caller, quota: Quota, size: int, stored: bool) -> None:
    pending = 0 if stored else size
    scopes: list[tuple[str, str | None, int, int]] = [
        ("all uploads together", None, quota.total_bytes, quota.total_files)
    ]
    if caller.user_id is not None:
        scopes.append(("your uploads", caller.user_id, quota.user_bytes, quota.user_files))
    for label, user_id, max_bytes, max_files in scopes:
        if not (max_bytes or max_files):
            continue
        used_bytes, used_files = usage(db, user_id)
        used_bytes, used_files = used_bytes + pending, used_files + (0 if stored else 1)
        if max_bytes and used_bytes > max_bytes:
            raise QuotaExceeded(
                f"the storage quota for {label} is {_mb(max_bytes)}: {_mb(used_bytes - size)} "
                f"is stored and this file needs {_mb(size)}; ask an administrator to raise "
                "the quota or purge old versions"
            )
        if max_files and used_files > max_files:
            raise QuotaExceeded(
                f"the storage quota for {label} is {max_files} files and they are all used; "
                "ask an administrator to raise the quota or purge old versions"
            )


def usage(db: DbSession, user_id: str | None = None) -> tuple[int, int]:
    """Bytes and files stored (by ``user_id``, or by everyone): report versions not purged and
    evidence versions."""
    reports = select(func.coalesce(func.sum(ReportVersion.size), 0), func.count()).where(
        ReportVersion.purged_at.is_(None)
    )
    evidence = select(func.coalesce(func.sum(EvidenceVersion.size), 0), func.count()).select_from(
        EvidenceVersion
    )
    if user_id is not None:
        reports = reports.where(ReportVersion.created_by_id == user_id)
        evidence = evidence.where(EvidenceVersion.created_by_id == user_id)
    report_bytes, report_files = db.execute(reports).one()
    evidence_bytes, evidence_files = db.execute(evidence).one()
    return int(report_bytes) + int(evidence_bytes), int(report_files) + int(evidence_files)


def _mb(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= MB else f"{round(size / 1024)} kB"
