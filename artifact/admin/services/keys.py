"""Key-encryption-key operations (create, rotate, import, rewrap, retire), each an audit event.

The keyring is a file, changed before its event is written and not undone by a rollback, so
the event is a durable record: it is kept even when the owner rolls the rest back."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.identity.services import sealed
from artifact.infra.storage import BlobNotFound, BlobStore, IntegrityError, KeyringError
from artifact.infra.storage.kek import Kek
from artifact.infra.storage.keyring import parse_key_file
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.kernel.errors import Conflict, NotFound, ValidationFailed
from artifact.models.base import DbSession
from artifact.sso.services import secrets as sso_secrets
from artifact.webhooks.services import secrets as webhook_secrets


def ensure_keyring(db: DbSession, caller: Caller, store: BlobStore) -> Kek | None:
    """Create the keyring if it is missing; None when it exists. Raises Conflict when blobs exist
    without a keyring (a lost keyring must be restored, never silently replaced)."""
    policy.require(caller, "keys.manage")
    try:
        if store.keyring.exists():
            return None
    except KeyringError as error:  # a token that cannot be reached or refuses the PIN
        raise ValidationFailed(str(error)) from error
    if store.has_blobs():
        raise Conflict(
            f"encrypted blobs exist in {store.describe()} but the keyring "
            f"({store.keyring.describe()}) is missing; restore it from your backup"
        )
    entry = store.keyring.create()
    _record(db, caller, "keys.create", entry)
    return entry


def rotate(db: DbSession, caller: Caller, store: BlobStore) -> Kek:
    """A new current key version; older versions keep decrypting. Raises ValidationFailed."""
    policy.require(caller, "keys.manage")
    # One key change at a time across every node (the trail's lock, held to the commit): two
    # nodes rotating the same token at once would both make the next version.
    audit.lock_head(db)
    try:
        entry = store.keyring.rotate()
    except KeyringError as error:
        raise ValidationFailed(str(error)) from error
    _record(db, caller, "keys.rotate", entry)
    return entry


def import_key(db: DbSession, caller: Caller, store: BlobStore, raw: bytes) -> Kek:
    """Bring your own 256-bit key; it becomes current. Raises ValidationFailed."""
    policy.require(caller, "keys.manage")
    audit.lock_head(db)  # one key change at a time (see rotate)
    try:
        entry = store.keyring.import_key(parse_key_file(raw))
    except KeyringError as error:
        raise ValidationFailed(str(error)) from error
    _record(db, caller, "keys.import", entry)
    return entry


@dataclass(frozen=True)
class Dependents:
    blobs: int  # stored files whose data key is wrapped by the version
    # sealed secrets (TOTP seeds, webhook and OIDC client secrets) under a key derived from it
    sealed: int


def dependents(db: DbSession, caller: Caller, store: BlobStore, version: int) -> Dependents:
    """What still needs key ``version`` to open. Raises PermissionDenied."""
    policy.require(caller, "keys.manage")
    blobs = sum(1 for blob_id in store.blob_ids() if _kek_version(store, blob_id) == version)
    secrets = (
        sealed.count_under(db, version)
        + webhook_secrets.count_under(db, version)
        + sso_secrets.count_under(db, version)
    )
    return Dependents(blobs, secrets)


def _kek_version(store: BlobStore, blob_id: str) -> int | None:
    try:
        return store.kek_version(blob_id)
    except (OSError, struct.error, BlobNotFound):
        return None  # destroyed meanwhile, or not a whole blob


def retire(db: DbSession, caller: Caller, store: BlobStore, version: int) -> Kek:
    """Remove key ``version`` from the keyring for good. Raises NotFound (no such version),
    Conflict (the current version, or stored files or sealed secrets still depend on it: run
    ``keys rewrap`` first)."""
    policy.require(caller, "keys.manage")
    try:
        entry = store.keyring.get(version)
    except KeyringError as error:
        raise NotFound(str(error)) from error
    if version == store.keyring.current().version:
        raise Conflict(
            f"key version {version} is the current version and cannot be retired; "
            "rotate first (flask keys rotate), then rewrap (flask keys rewrap)"
        )
    found = dependents(db, caller, store, version)
    if found.blobs or found.sealed:
        raise Conflict(
            f"key version {version} is still needed by {found.blobs} stored file(s) and "
            f"{found.sealed} sealed secret(s); run `flask keys rewrap` first"
        )
    try:
        store.keyring.retire(version)
    except KeyringError as error:
        raise Conflict(str(error)) from error
    _record(db, caller, "keys.retire", entry)
    return entry


@dataclass(frozen=True)
class RewrapBatch:
    blobs: int  # stored files moved to the current version in this batch
    sealed: int  # sealed secrets moved in this batch
    failed: int  # files or secrets that could not be opened (their key version is gone)
    next_blob: str | None  # where the next batch starts (None: the files are done)
    next_sealed: str | None  # likewise for the sealed secrets

    @property
    def done(self) -> bool:
        return self.next_blob is None and self.next_sealed is None


def rewrap_batch(
    db: DbSession,
    caller: Caller,
    store: BlobStore,
    *,
    after_blob: str | None = "",
    after_sealed: str | None = "",
    limit: int = 100,
) -> RewrapBatch:
    """Move up to ``limit`` stored files and up to ``limit`` sealed secrets, from where the last
    batch stopped, to the current key version. Each file is replaced whole on disk once the new
    copy is durable; the secrets change in the caller's unit of work, which commits the batch.
    A batch interrupted anywhere is simply done again: what is already current is skipped.
    Raises PermissionDenied, ValidationFailed (a limit below 1)."""
    policy.require(caller, "keys.manage")
    if limit < 1:
        raise ValidationFailed("the batch size must be at least 1")
    blobs = failed = 0
    next_blob = None
    if after_blob is not None:
        for seen, blob_id in enumerate(store.blob_ids(after_blob), start=1):
            try:
                blobs += store.rewrap(blob_id)
            except IntegrityError:
                failed += 1
            if seen == limit:
                next_blob = blob_id
                break
    secrets = sealed.ResealBatch(0, 0, None)
    if after_sealed is not None:
        secrets = sealed.reseal_batch(db, store.keyring, after_sealed, limit)
    if after_sealed == "":  # the first batch also takes every webhook and OIDC client secret
        hooks, unreadable = webhook_secrets.reseal_all(db, store.keyring)
        clients, unreadable_clients = sso_secrets.reseal_all(db, store.keyring)
        secrets = sealed.ResealBatch(
            secrets.resealed + hooks + clients,
            secrets.unreadable + unreadable + unreadable_clients,
            secrets.last_id,
        )
    batch = RewrapBatch(
        blobs, secrets.resealed, failed + secrets.unreadable, next_blob, secrets.last_id
    )
    current = store.keyring.current()
    details = {"version": current.version, "blobs": blobs, "sealed": secrets.resealed}
    uow.durable(  # the files are rewritten already, whatever becomes of the transaction
        db,
        lambda session: audit.record(
            session,
            caller,
            "keys.rewrap",
            target_type="key",
            target_id=str(current.version),
            details={**details, "failed": batch.failed},
        ),
    )
    return batch


def _record(db: DbSession, caller: Caller, action: str, entry: Kek) -> None:
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
