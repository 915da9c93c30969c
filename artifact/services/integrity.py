"""Reading a stored file for a download: decrypt, check the recorded SHA-256, and on any failure
record it and serve nothing."""

from __future__ import annotations

import hashlib
from typing import Any

from artifact.models.base import DbSession
from artifact.services import audit
from artifact.services.audit import Actor
from artifact.services.errors import IntegrityFailure
from artifact.storage import BlobNotFound, BlobStore, IntegrityError


def read_verified(db: DbSession, actor: Actor, store: BlobStore, blob_id: str, sha256: str,
                  *, action: str, target_type: str, target_id: str,
                  details: dict[str, Any]) -> bytes:
    """The plaintext of ``blob_id`` if it decrypts and matches ``sha256``. Otherwise the
    failure is recorded as ``action`` (outcome failure, committed on its own) and
    IntegrityFailure is raised: corrupted bytes are never served."""
    try:
        data = store.read_bytes(blob_id)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise IntegrityError("the plaintext does not match the recorded SHA-256")
    except (IntegrityError, BlobNotFound) as error:
        db.rollback()
        audit.record(db, actor, action, target_type=target_type, target_id=target_id,
                     outcome="failure",
                     details={**details, "error": "integrity", "reason": str(error)[:200]})
        db.commit()
        raise IntegrityFailure("the stored file failed its integrity check; nothing was "
                               "served and the failure was recorded") from None
    return data
