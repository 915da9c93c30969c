"""Stored files and their rows stay in step: an upload that fails leaves neither the blob nor a
row, and a download that fails its integrity check is recorded and serves nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import IntegrityError as DbIntegrityError

from artifact.audit.services import chain as audit
from artifact.infra.storage import BlobNotFound, BlobStore, IntegrityError
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.kernel.errors import Conflict, IntegrityFailure
from artifact.models.base import DbSession


def read_verified(
    db: DbSession,
    caller: Caller,
    store: BlobStore,
    blob_id: str,
    sha256: str,
    *,
    action: str,
    target_type: str,
    target_id: str,
    details: dict[str, Any],
) -> bytes:
    """The plaintext of ``blob_id`` if it decrypts and matches ``sha256``. Otherwise the
    failure is recorded as ``action`` (outcome failure, a durable record: it is kept when the
    owner rolls the request back) and IntegrityFailure is raised: corrupted bytes are never
    served."""
    try:
        data = store.read_bytes(blob_id)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise IntegrityError("the plaintext does not match the recorded SHA-256")
    except (IntegrityError, BlobNotFound) as error:
        failure = {**details, "error": "integrity", "reason": str(error)[:200]}
        uow.durable(
            db,
            lambda session: audit.record(
                session,
                caller,
                action,
                target_type=target_type,
                target_id=target_id,
                outcome="failure",
                details=failure,
            ),
        )
        raise IntegrityFailure(
            "the stored file failed its integrity check; nothing was "
            "served and the failure was recorded"
        ) from None
    return data


VERSION_RACE = "another version was uploaded at the same time; try again"


@contextmanager
def recorded_or_destroyed(
    db: DbSession, store: BlobStore, blob_id: str, conflict: str | None = None
) -> Iterator[None]:
    """Run the block that records a freshly stored blob, and flush it. The blob is destroyed if
    the owner rolls the unit of work back (this block failing, anything after it failing, or
    the commit failing), so a failed upload leaves neither the file nor a row; with
    ``conflict``, a unique-constraint failure (e.g. two uploads racing for the next version
    number) is raised as Conflict with that message."""
    uow.on_rollback(db, lambda: store.destroy(blob_id))
    try:
        yield
        db.flush()
    except DbIntegrityError:
        if conflict is not None:
            raise Conflict(conflict) from None
        raise
