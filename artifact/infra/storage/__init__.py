"""Encrypted blob storage: a versioned keyring, a STREAM-style chunked AES-256-GCM cipher and a
local blob store under opaque ids (envelope encryption in the manner of AWS KMS)."""

from __future__ import annotations

from pathlib import Path

from artifact.infra.app_state import AppState
from artifact.infra.storage.blobs import BlobInfo, BlobStore
from artifact.infra.storage.errors import BlobNotFound, IntegrityError, KeyringError
from artifact.infra.storage.keyring import Keyring

__all__ = [
    "BlobInfo",
    "BlobNotFound",
    "BlobStore",
    "IntegrityError",
    "Keyring",
    "KeyringError",
    "store_for",
]


def store_for(app: AppState) -> BlobStore:
    """The app's blob store (one per app; the keyring is re-read when its file changes)."""
    store = app.extensions.get("artifact_blob_store")
    if store is None:
        data_dir = Path(app.config["DATA_DIR"])
        store = BlobStore(data_dir / "blobs", Keyring(data_dir / "keys" / "keyring.json"))
        app.extensions["artifact_blob_store"] = store
    return store
