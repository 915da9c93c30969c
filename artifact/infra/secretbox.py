"""Encrypt small secrets (TOTP seeds) at rest with the keyring.

A value is sealed with AES-256-GCM under a key derived (HKDF-SHA256, per purpose) from the
keyring's current key version (in a PKCS#11 token, under the token's key with the purpose bound
into the associated data); the version is written beside the ciphertext so that after
``keys rotate`` old values still open and new ones use the new key. The purpose and the owner's
id are bound in as associated data, so a ciphertext copied onto another account, or into another
column, does not open.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from cryptography.exceptions import InvalidTag

from artifact.infra.storage.errors import KeyringError
from artifact.infra.storage.kek import Aead, Kek, KeyProvider

_FORMAT = "kr1"


class MissingKey(ValueError):
    """The key version a value was sealed under is not in the keyring (retired, or a keyring
    restored without it): the value is intact but cannot be opened here."""

    def __init__(self, version: int) -> None:
        super().__init__(f"key version {version} is not in the keyring")
        self.version = version


def _aead(key: Kek, purpose: str) -> Aead:
    return key.derived(purpose)


def _associated(purpose: str, owner: str) -> bytes:
    return f"{purpose}\x00{owner}".encode()


def seal(keyring: KeyProvider, purpose: str, owner: str, plaintext: str) -> str:
    key = keyring.current()
    nonce = secrets.token_bytes(12)
    sealed = _aead(key, purpose).encrypt(nonce, plaintext.encode(), _associated(purpose, owner))
    body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
    return f"{_FORMAT}:{key.version}:{body}"


def version_of(token: str) -> int | None:
    """The key version ``token`` was sealed under (None for a value that is not ours)."""
    fmt, _, rest = token.partition(":")
    version = rest.partition(":")[0]
    return int(version) if fmt == _FORMAT and version.isdigit() else None


def version_prefix(version: int) -> str:
    """What every value sealed under ``version`` starts with (to find them in a column)."""
    return f"{_FORMAT}:{version}:"


def open_sealed(keyring: KeyProvider, purpose: str, owner: str, token: str) -> str:
    """Raises MissingKey when its key version is not in the keyring, ValueError for a value
    that is not ours, or was moved or altered."""
    version = version_of(token)
    if version is None:
        raise ValueError("unknown sealed-secret format")
    try:
        key = keyring.get(version)
    except KeyringError:
        raise MissingKey(version) from None
    try:
        blob = base64.urlsafe_b64decode(token.split(":", 2)[2])
        return (
            _aead(key, purpose).decrypt(blob[:12], blob[12:], _associated(purpose, owner)).decode()
        )
    except (InvalidTag, binascii.Error) as exc:
        raise ValueError("the sealed secret does not open with this keyring and owner") from exc


def reseal(keyring: KeyProvider, purpose: str, owner: str, token: str) -> str:
    """``token`` sealed again under the current key version (itself when already there).
    Raises what ``open_sealed`` raises."""
    if version_of(token) == keyring.current().version:
        return token
    return seal(keyring, purpose, owner, open_sealed(keyring, purpose, owner, token))
