"""Moving a single-node data directory's node-local pieces to shared services (``flask
migrate-store``): the stored files to the S3-compatible store, and the search index into
PostgreSQL (``index_search``).

The objects in the bucket are the local files byte for byte (same envelope, same keys: the
bucket only ever sees ciphertext), so nothing is decrypted to be copied.

Each blob is verified after copying: the object's bytes hash like the local file's, and it
opens (every chunk authenticates) to a plaintext whose SHA-256 is the one recorded at upload
(or, for a blob no row names, the local copy's). Verified ids are appended to a progress file
in the data directory, fsynced, so an interrupted run is simply run again and goes on where it
stopped."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.infra.storage import BlobNotFound, BlobStore, IntegrityError
from artifact.infra.storage.s3store import S3BlobStore
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.models import EvidenceVersion, ReportVersion
from artifact.models.base import DbSession
from artifact.search import indexer

PROGRESS_FILE = "migrate-store.done"


@dataclass
class Migration:
    copied: int = 0  # copied and verified in this run
    already: int = 0  # verified by an earlier run (in the progress file)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (blob id, why)


def copy_blobs(
    db: DbSession,
    caller: Caller,
    source: BlobStore,
    target: S3BlobStore,
    progress: Path,
    report: Callable[[str, str], None] | None = None,
) -> Migration:
    """Copy every blob of ``source`` (the local store) to ``target`` and verify it; ``report``
    hears (blob id, outcome) for each. Raises PermissionDenied; StorageUnavailable when the
    bucket does not answer (run it again)."""
    # Moving the encrypted store is part of key custody: who manages keys may do it.
    policy.require(caller, "keys.manage")
    recorded = _recorded_sha256(db)
    done = _read_progress(progress)
    result = Migration(already=len(done))
    for blob_id in source.blob_ids():
        if blob_id in done:
            continue
        why = _copy_one(source, target, blob_id, recorded.get(blob_id))
        if why is None:
            _append_progress(progress, blob_id)
            result.copied += 1
        else:
            result.failed.append((blob_id, why))
        if report is not None:
            report(blob_id, why or "copied and verified")
    details = {
        "to": target.describe(),
        "copied": result.copied,
        "already": result.already,
        "failed": len(result.failed),
    }
    uow.durable(  # the objects are written whatever becomes of the transaction
        db,
        lambda session: audit.record(
            session,
            caller,
            "store.migrate",
            target_type="store",
            target_id=target.location.bucket[:64],
            outcome="failure" if result.failed else "success",
            details=details,
        ),
    )
    return result


def index_search(
    db: DbSession,
    caller: Caller,
    app: Any,
    report: Callable[[str], None] | None = None,
) -> indexer.Filled:
    """Build the PostgreSQL search index from the database, record by record (resumable: a run
    goes on after the records an earlier one indexed; idempotent: a finished index is left as
    it is, bar the entries of records that are gone). Raises PermissionDenied."""
    policy.require(caller, "search.reindex")
    result = indexer.fill(app, db, report)
    audit.record(
        db,
        caller,
        "search.migrate",
        target_type="search",
        target_id=None,
        details={"indexed": result.indexed, "already": result.already, "removed": result.removed},
    )
    return result


def _copy_one(
    source: BlobStore, target: S3BlobStore, blob_id: str, recorded: str | None
) -> str | None:
    """None when the blob is in the bucket and verified, else why not (and then no object of
    it is left in the bucket)."""
    try:
        local = _sha256(source.read_chunks(blob_id))
    except (IntegrityError, BlobNotFound) as error:
        return f"the local copy fails its own check ({error}); it was not copied"
    if recorded is not None and local != recorded:
        return "the local copy's SHA-256 is not the one recorded at upload; it was not copied"
    with source.path_of(blob_id).open("rb") as handle:
        sent = target.put_ciphertext(blob_id, handle)
    why = None
    if target.ciphertext_sha256(blob_id) != sent:
        why = "the object's bytes differ from the local file's after copying"
    else:
        try:
            if _sha256(target.read_chunks(blob_id)) != local:
                why = "the copy opens to a plaintext whose SHA-256 is not the local one"
        except (IntegrityError, BlobNotFound) as error:
            why = f"the copy does not open ({error})"
    if why is not None:
        target.destroy(blob_id)
    return why


def _sha256(chunks: Iterator[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def _recorded_sha256(db: DbSession) -> dict[str, str]:
    found: dict[str, str] = {}
    for model in (ReportVersion, EvidenceVersion):
        for blob_id, sha256 in db.execute(select(model.blob_id, model.sha256)):
            found[blob_id] = sha256
    return found


def _read_progress(path: Path) -> set[str]:
    if not path.exists():
        return set()
    return {line.strip() for line in path.read_text().splitlines() if line.strip()}


def _append_progress(path: Path, blob_id: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{blob_id}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)
