"""Encrypt small secrets (TOTP seeds) at rest with a key kept in the data directory.

Stop-gap until the keyring under ``artifact/storage/`` lands: a dedicated random key file
(``mfa-secret-key``, 32 bytes, mode 0600) from which HKDF-SHA256 derives an AES-256-GCM key per
purpose. The owner's id is bound in as associated data, so a ciphertext copied onto another
account does not decrypt. To move to the keyring, replace ``_key`` with a keyring data key and
keep the ``v1:`` format versioned (``v2:`` for keyring-wrapped values), decrypting both.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_FILE = "mfa-secret-key"
_VERSION = "v1:"


def _master(data_dir: str | Path) -> bytes:
    path = Path(data_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(32))
    raw = path.read_bytes()
    if len(raw) != 32:
        raise ValueError(f"{path} must hold exactly 32 bytes")
    return raw


def _key(data_dir: str | Path, purpose: str) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=f"artifact:{purpose}:v1".encode()).derive(_master(data_dir))
    return AESGCM(derived)


def seal(data_dir: str | Path, purpose: str, owner: str, plaintext: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = _key(data_dir, purpose).encrypt(nonce, plaintext.encode(), owner.encode())
    return _VERSION + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_sealed(data_dir: str | Path, purpose: str, owner: str, token: str) -> str:
    """Raises ValueError for a value that is not ours, or was moved or altered."""
    if not token.startswith(_VERSION):
        raise ValueError("unknown sealed-secret format")
    blob = base64.urlsafe_b64decode(token[len(_VERSION):])
    from cryptography.exceptions import InvalidTag

    try:
        return _key(data_dir, purpose).decrypt(blob[:12], blob[12:], owner.encode()).decode()
    except InvalidTag as exc:
        raise ValueError("the sealed secret does not open with this key and owner") from exc
