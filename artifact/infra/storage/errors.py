"""Storage errors (mapped to domain errors by the services that call the store)."""

from __future__ import annotations


class StorageError(Exception):
    """Base class of storage failures."""


class KeyringError(StorageError):
    """The keyring is missing, unreadable or refuses the operation; the message says why."""


class BlobNotFound(StorageError):
    """No blob (or no data key any more) under this id."""


class IntegrityError(StorageError):
    """The stored bytes fail authentication: tampered, truncated, reordered or mis-bound."""


class StorageUnavailable(StorageError):
    """The object store or the key token does not answer (or refuses us): nothing is served or
    stored until it does; the message says which and never carries a secret. ``code`` is the
    store's error code when it answered with one (e.g. ``NotImplemented``)."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code
