"""Key-encryption-key operations (create, rotate, import), each an audit event.

The keyring is a file, changed before its event is written and not undone by a rollback, so
the event is a durable record: it is kept even when the owner rolls the rest back."""

from __future__ import annotations

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.infra.storage import BlobStore, KeyringError
from artifact.infra.storage.keyring import KeyVersion, parse_key_file
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.kernel.errors import Conflict, ValidationFailed
from artifact.models.base import DbSession


def ensure_keyring(db: DbSession, caller: Caller, store: BlobStore) -> KeyVersion | None:
    """Create the keyring if it is missing; None when it exists. Raises Conflict when blobs exist
    without a keyring (a lost keyring must be restored, never silently replaced)."""
    policy.require(caller, "keys.manage")
    if store.keyring.exists():
        return None
    if store.root.exists() and any(p.is_file() for p in store.root.rglob("*")):
        raise Conflict(
            f"encrypted blobs exist in {store.root} but the keyring "
            f"{store.keyring.path} is missing; restore it from your backup"
        )
    entry = store.keyring.create()
    _record(db, caller, "keys.create", entry)
    return entry


def rotate(db: DbSession, caller: Caller, store: BlobStore) -> KeyVersion:
    """A new current key version; older versions keep decrypting. Raises ValidationFailed."""
    policy.require(caller, "keys.manage")
    try:
        entry = store.keyring.rotate()
    except KeyringError as error:
        raise ValidationFailed(str(error)) from error
    _record(db, caller, "keys.rotate", entry)
    return entry


def import_key(db: DbSession, caller: Caller, store: BlobStore, raw: bytes) -> KeyVersion:
    """Bring your own 256-bit key; it becomes current. Raises ValidationFailed."""
    policy.require(caller, "keys.manage")
    try:
        entry = store.keyring.import_key(parse_key_file(raw))
    except KeyringError as error:
        raise ValidationFailed(str(error)) from error
    _record(db, caller, "keys.import", entry)
    return entry


def _record(db: DbSession, caller: Caller, action: str, entry: KeyVersion) -> None:
    uow.durable(
        db,
        lambda session: audit.record(
            session,
            caller,
            action,
            target_type="key",
            target_id=str(entry.version),
            details={
                "version": entry.version,
                "fingerprint": entry.fingerprint,
                "source": entry.source,
            },
        ),
    )
