"""What the encrypting code asks of a key-encryption key (KEK) and of its provider: the file
keyring (``keyring.Keyring``, the default) or a PKCS#11 token (``hsm.Pkcs11Keyring``), chosen by
``ARTIFACT_KEK_PROVIDER``. A KEK seals and opens small values (data keys, TOTP seeds) with
AES-256-GCM; whether its key material is in this process or never leaves a token is the
provider's business."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Aead(Protocol):
    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        """Raises cryptography's InvalidTag when ``data`` does not open."""
        ...


class Kek(Protocol):
    @property
    def version(self) -> int: ...

    @property
    def created_at(self) -> str: ...

    @property
    def source(self) -> str: ...

    @property
    def fingerprint(self) -> str: ...

    def encrypt(self, nonce: bytes, data: bytes, aad: bytes) -> bytes: ...

    def decrypt(self, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        """Raises cryptography's InvalidTag when ``data`` was not sealed under this key."""
        ...

    def derived(self, purpose: str) -> Aead:
        """Sealing for one purpose only (what is sealed for one does not open for another)."""
        ...


class KeyProvider(Protocol):
    """Versioned KEKs: new data keys are sealed by the current version, older versions stay
    for opening. Every method raises KeyringError with a message that says what to do."""

    def exists(self) -> bool: ...

    def describe(self) -> str: ...

    def create(self) -> Kek: ...

    def rotate(self) -> Kek: ...

    def import_key(self, key: bytes) -> Kek: ...

    def current(self) -> Kek: ...

    def get(self, version: int) -> Kek: ...

    def versions(self) -> Sequence[Kek]: ...

    def retire(self, version: int) -> Kek: ...
