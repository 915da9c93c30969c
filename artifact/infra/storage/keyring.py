"""Versioned 256-bit key-encryption keys (KEKs) in one JSON file in the data directory (0600).

New data keys are wrapped by the current version; older versions stay for unwrapping, so a
rotation re-encrypts nothing. The file never leaves the machine and no key is ever logged."""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from artifact.infra.storage.errors import KeyringError

KEY_BYTES = 32
FORMAT = 1


@dataclass(frozen=True)
class KeyVersion:
    version: int
    key: bytes
    created_at: str
    source: str  # "generated" or "imported"

    @property
    def fingerprint(self) -> str:
        """A public name for the key (a hash of a 256-bit random key reveals nothing of it)."""
        return hashlib.sha256(b"artifact-kek-fingerprint\x00" + self.key).hexdigest()[:16]

    def __repr__(self) -> str:  # never print key material
        return f"<KeyVersion {self.version} {self.source} {self.fingerprint}>"

    def encrypt(self, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        """AES-256-GCM under this key (ciphertext and tag)."""
        return AESGCM(self.key).encrypt(nonce, data, aad)

    def decrypt(self, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        """Raises cryptography's InvalidTag when ``data`` was not sealed under this key."""
        return AESGCM(self.key).decrypt(nonce, data, aad)

    def derived(self, purpose: str) -> AESGCM:
        """AES-256-GCM under a key derived for ``purpose`` (HKDF-SHA256): the sealed secrets'."""
        derived = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=None,
            info=f"artifact:secretbox:{purpose}".encode(),
        ).derive(self.key)
        return AESGCM(derived)


class Keyring:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache: tuple[float, int, dict[int, KeyVersion], int] | None = None

    def exists(self) -> bool:
        return self.path.exists()

    def describe(self) -> str:
        if not self.path.exists():
            return f"keyring {self.path}"
        return f"keyring {self.path} (mode {stat.S_IMODE(self.path.stat().st_mode):04o})"

    def create(self) -> KeyVersion:
        """Create the keyring with a first generated key; refuses if one exists."""
        with self._locked():
            if self.path.exists():
                raise KeyringError(f"a keyring already exists at {self.path}")
            entry = _entry(1, secrets.token_bytes(KEY_BYTES), "generated")
            self._write({1: entry}, 1)
            return entry

    def rotate(self) -> KeyVersion:
        """Add a generated key version and make it current."""
        return self._add(secrets.token_bytes(KEY_BYTES), "generated")

    def import_key(self, key: bytes) -> KeyVersion:
        """Add a key the operator brings (exactly 256 bits) and make it current."""
        if len(key) != KEY_BYTES:
            raise KeyringError(f"an imported key must be {KEY_BYTES * 8} bits, got {len(key) * 8}")
        if any(entry.key == key for entry in self._load()[0].values()):
            raise KeyringError("this key is already in the keyring")
        return self._add(key, "imported")

    def current(self) -> KeyVersion:
        keys, current = self._load()
        return keys[current]

    def get(self, version: int) -> KeyVersion:
        keys, _current = self._load()
        if version not in keys:
            raise KeyringError(f"key version {version} is not in the keyring")
        return keys[version]

    def versions(self) -> list[KeyVersion]:
        keys, _current = self._load()
        return [keys[v] for v in sorted(keys)]

    def retire(self, version: int) -> KeyVersion:
        """Remove ``version`` for good (the caller has made sure nothing depends on it any
        more); the current version cannot be retired."""
        with self._locked():
            keys, current = self._load(force=True)
            if version not in keys:
                raise KeyringError(f"key version {version} is not in the keyring")
            if version == current:
                raise KeyringError(
                    f"key version {version} is the current version and cannot be retired; "
                    "rotate first (flask keys rotate)"
                )
            entry = keys.pop(version)
            self._write(keys, current)
            return entry

    def _add(self, key: bytes, source: str) -> KeyVersion:
        with self._locked():
            keys, _current = self._load(force=True)
            entry = _entry(max(keys) + 1, key, source)
            keys[entry.version] = entry
            self._write(keys, entry.version)
            return entry

    def _load(self, force: bool = False) -> tuple[dict[int, KeyVersion], int]:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            raise KeyringError(
                f"no keyring at {self.path}; run `flask --app app init` to create it "
                "(or restore it from your backup)"
            ) from None
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyringError(
                f"the keyring {self.path} is accessible to other users; run `chmod 600` on it"
            )
        cached = self._cache
        if not force and cached and cached[0] == info.st_mtime and cached[1] == info.st_size:
            return cached[2], cached[3]
        keys, current = _parse(self.path.read_bytes(), self.path)
        self._cache = (info.st_mtime, info.st_size, keys, current)
        return keys, current

    def _write(self, keys: dict[int, KeyVersion], current: int) -> None:
        document = {
            "format": FORMAT,
            "current": current,
            "keys": [
                {
                    "version": k.version,
                    "key": base64.b64encode(k.key).decode(),
                    "created_at": k.created_at,
                    "source": k.source,
                }
                for k in sorted(keys.values(), key=lambda k: k.version)
            ],
        }
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(document, handle, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self._cache = None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path.parent / ".keyring.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _entry(version: int, key: bytes, source: str) -> KeyVersion:
    return KeyVersion(version, key, datetime.now(UTC).isoformat(timespec="seconds"), source)


def _parse(raw: bytes, path: Path) -> tuple[dict[int, KeyVersion], int]:
    try:
        document: dict[str, Any] = json.loads(raw)
        keys = {
            int(item["version"]): KeyVersion(
                int(item["version"]),
                base64.b64decode(item["key"]),
                str(item["created_at"]),
                str(item["source"]),
            )
            for item in document["keys"]
        }
        current = int(document["current"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise KeyringError(f"the keyring {path} is unreadable: {type(exc).__name__}") from None
    if current not in keys or any(len(k.key) != KEY_BYTES for k in keys.values()):
        raise KeyringError(f"the keyring {path} is inconsistent")
    return keys, current


def parse_key_file(raw: bytes) -> bytes:
    """A key to import: 32 raw bytes, or 64 hex digits, or base64 of 32 bytes."""
    if len(raw) == KEY_BYTES:
        return raw
    text = raw.strip()
    with contextlib.suppress(ValueError):
        if len(text) == KEY_BYTES * 2:
            return bytes.fromhex(text.decode("ascii"))
    with contextlib.suppress(ValueError, binascii.Error):
        decoded = base64.b64decode(text, validate=True)
        if len(decoded) == KEY_BYTES:
            return decoded
    raise KeyringError(
        f"the key file must hold exactly {KEY_BYTES * 8} bits: {KEY_BYTES} raw bytes, "
        f"{KEY_BYTES * 2} hex digits or base64 of {KEY_BYTES} bytes"
    )
