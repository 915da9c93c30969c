"""Encrypted blob storage: versioned key-encryption keys (a keyring file or a PKCS#11 token), a
STREAM-style chunked AES-256-GCM cipher and a blob store under opaque ids, local or in an
S3-compatible bucket (envelope encryption in the manner of AWS KMS)."""

from __future__ import annotations

from pathlib import Path

from artifact.infra.app_state import AppState
from artifact.infra.storage.blobs import BlobInfo, BlobStore
from artifact.infra.storage.errors import (
    BlobNotFound,
    IntegrityError,
    KeyringError,
    StorageUnavailable,
)
from artifact.infra.storage.kek import KeyProvider
from artifact.infra.storage.keyring import Keyring

__all__ = [
    "BlobInfo",
    "BlobNotFound",
    "BlobStore",
    "IntegrityError",
    "Keyring",
    "KeyProvider",
    "KeyringError",
    "StorageUnavailable",
    "keyring_for",
    "local_store",
    "store_for",
]


def store_for(app: AppState) -> BlobStore:
    """The app's blob store (one per app): local (``ARTIFACT_BLOB_STORE=local``, the default)
    or an S3-compatible bucket (``s3://bucket/prefix``)."""
    store: BlobStore | None = app.extensions.get("artifact_blob_store")
    if store is None:
        setting = str(app.config.get("BLOB_STORE") or "local")
        if setting.startswith("s3://"):
            from artifact.infra.storage import s3
            from artifact.infra.storage.s3store import S3BlobStore

            store = S3BlobStore(
                s3.client(app.config.get("S3_ENDPOINT_URL")), s3.parse(setting), keyring_for(app)
            )
        else:
            store = local_store(app)
        app.extensions["artifact_blob_store"] = store
    return store


def local_store(app: AppState) -> BlobStore:
    """The blob store in the data directory, whatever the setting (``migrate-store`` reads it)."""
    return BlobStore(Path(app.config["DATA_DIR"]) / "blobs", keyring_for(app))


def keyring_for(app: AppState) -> KeyProvider:
    """The app's key-encryption keys (one provider per app): the keyring file in the data
    directory (re-read when it changes), or a PKCS#11 token (``ARTIFACT_KEK_PROVIDER``)."""
    ring: KeyProvider | None = app.extensions.get("artifact_keyring")
    if ring is None:
        if app.config.get("KEK_PROVIDER") == "pkcs11":
            from artifact.infra.storage.hsm import Pkcs11Keyring

            ring = Pkcs11Keyring(
                str(app.config["PKCS11_MODULE"]),
                str(app.config["PKCS11_TOKEN"]),
                str(app.config["PKCS11_PIN"]),
            )
        else:
            ring = Keyring(Path(app.config["DATA_DIR"]) / "keys" / "keyring.json")
        app.extensions["artifact_keyring"] = ring
    return ring
