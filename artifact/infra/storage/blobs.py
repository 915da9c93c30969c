"""A local blob store under the data directory: opaque ids, one encrypted file per blob.

File layout: header (magic, KEK version, wrapped data key, nonce prefix, chunk size) and then the
STREAM chunks. The data key is fresh per blob, wrapped with AES-256-GCM by the current KEK with
the blob id as associated data, so a blob (or its header) moved under another id fails."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import secrets
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from artifact.infra.storage import stream
from artifact.infra.storage.errors import BlobNotFound, IntegrityError, KeyringError
from artifact.infra.storage.kek import KeyProvider

MAGIC = b"ARTBLOB1"
HEADER = struct.Struct(">8sI60s7sI")  # magic, kek version, nonce+wrapped key+tag, prefix, chunk
WRAPPED_OFFSET, WRAPPED_BYTES = 12, 60
_ID_RE = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class BlobInfo:
    id: str
    size: int
    sha256: str
    kek_version: int


def _wrap_aad(blob_id: str, kek_version: int) -> bytes:
    return b"artifact-data-key\x00" + blob_id.encode("ascii") + struct.pack(">I", kek_version)


class BlobStore:
    def __init__(self, root: Path, keyring: KeyProvider, chunk_size: int = stream.DEFAULT_CHUNK):
        self.root = root
        self.keyring = keyring
        self.chunk_size = chunk_size

    def path_of(self, blob_id: str) -> Path:
        if not _ID_RE.match(blob_id or ""):
            raise BlobNotFound("not a blob id")
        return self.root / blob_id[:2] / blob_id

    def put(self, source: BinaryIO) -> BlobInfo:
        """Encrypt ``source`` into a new blob. On any failure nothing is left behind."""
        blob_id = secrets.token_hex(16)
        tmp, sha256, size, version = self._encrypt_to_temp(blob_id, source)
        try:
            os.replace(tmp, self.path_of(blob_id))
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return BlobInfo(blob_id, size, sha256, version)

    def _encrypt_to_temp(self, blob_id: str, source: BinaryIO) -> tuple[Path, str, int, int]:
        """``source`` encrypted for ``blob_id`` under the current KEK with a fresh data key, in
        a fsynced temporary file beside the blob's path: (that file, SHA-256 and size of the
        plaintext, KEK version). On any failure nothing is left behind."""
        sealed = Sealing(self, blob_id, source)
        final = self.path_of(blob_id)
        final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = final.with_name(f".{blob_id}.{secrets.token_hex(4)}.part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                for piece in sealed.pieces():
                    out.write(piece)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp, sealed.sha256, sealed.size, sealed.version

    def new_header(self, blob_id: str) -> tuple[bytes, bytes, bytes]:
        """A fresh data key for ``blob_id`` sealed under the current KEK: (header, data key,
        nonce prefix)."""
        kek = self.keyring.current()
        data_key = AESGCM.generate_key(bit_length=256)
        wrap_nonce = secrets.token_bytes(12)
        wrapped = wrap_nonce + kek.encrypt(wrap_nonce, data_key, _wrap_aad(blob_id, kek.version))
        prefix = secrets.token_bytes(stream.PREFIX_BYTES)
        return HEADER.pack(MAGIC, kek.version, wrapped, prefix, self.chunk_size), data_key, prefix

    def describe(self) -> str:
        return str(self.root)

    def has_blobs(self) -> bool:
        return self.root.exists() and any(p.is_file() for p in self.root.rglob("*"))

    def blob_ids(self, after: str = "") -> Iterator[str]:
        """Every stored blob's id, in order, from just after ``after``."""
        if not self.root.is_dir():
            return
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for path in sorted(folder.iterdir()):
                if _ID_RE.match(path.name) and path.name > after:
                    yield path.name

    def rewrap(self, blob_id: str) -> bool:
        """Put the blob under the current key version; False when it already is (or is gone).
        The chunks are bound to the header, so the file is encrypted again (same id and
        plaintext, a fresh data key), written and fsynced beside the old one and renamed over
        it: a crash leaves the old file or the new one, whole, and the old wrapping is never
        lost before the new one is durable. Holds the blob's lock, so ``destroy`` waits."""
        path = self.path_of(blob_id)
        current = self.keyring.current().version
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            return False
        with handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            if not _still_at(handle, path):
                return False  # destroyed, or rewrapped by someone else, meanwhile
            header = handle.read(HEADER.size)
            if len(header) == HEADER.size and HEADER.unpack(header)[1] == current:
                return False
            data_key, prefix, chunk_size = self.unwrap(blob_id, header)
            plain = stream.decrypt_chunks(
                data_key, prefix, self.aad(header, blob_id), handle, chunk_size
            )
            tmp, _sha256, _size, _version = self._encrypt_to_temp(
                blob_id, cast(BinaryIO, PlainReader(plain))
            )
            try:
                os.replace(tmp, path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            _fsync_dir(path.parent)
        return True

    def read_chunks(self, blob_id: str) -> Iterator[bytes]:
        """Verified plaintext, chunk by chunk. Opening and the data key are checked before the
        first chunk is returned; IntegrityError at the first bad chunk."""
        path = self.path_of(blob_id)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise BlobNotFound(f"no blob {blob_id}") from None
        try:
            header = handle.read(HEADER.size)
            data_key, prefix, chunk_size = self.unwrap(blob_id, header)
            chunks = stream.decrypt_chunks(
                data_key, prefix, self.aad(header, blob_id), handle, chunk_size
            )
            first = next(chunks)
        except BaseException:
            handle.close()
            raise
        return closing(handle, first, chunks)

    def read_bytes(self, blob_id: str) -> bytes:
        return b"".join(self.read_chunks(blob_id))

    def kek_version(self, blob_id: str) -> int:
        with self.path_of(blob_id).open("rb") as handle:
            return int(HEADER.unpack(handle.read(HEADER.size))[1])

    def exists(self, blob_id: str) -> bool:
        return self.path_of(blob_id).exists()

    def destroy(self, blob_id: str) -> None:
        """Overwrite the wrapped data key, then delete the file: the blob is unrecoverable even
        from a copy of the file taken after this point. Waits for a ``rewrap`` of the blob,
        then destroys what it wrote."""
        path = self.path_of(blob_id)
        for _attempt in range(5):
            try:
                handle = path.open("r+b")
            except FileNotFoundError:
                return
            with handle:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
                if not _still_at(handle, path):
                    continue  # rewrapped meanwhile: destroy the new file
                handle.seek(WRAPPED_OFFSET)
                handle.write(b"\x00" * WRAPPED_BYTES)
                handle.flush()
                os.fsync(handle.fileno())
                path.unlink(missing_ok=True)
                return
        raise IntegrityError(f"the blob {blob_id} kept changing while it was being destroyed")

    def unwrap(self, blob_id: str, header: bytes) -> tuple[bytes, bytes, int]:
        if len(header) != HEADER.size:
            raise IntegrityError("the blob header is truncated")
        magic, version, wrapped, prefix, chunk_size = HEADER.unpack(header)
        if magic != MAGIC or not 0 < chunk_size <= 16 * 1024 * 1024:
            raise IntegrityError("the blob header is not recognised")
        try:
            kek = self.keyring.get(version)
        except KeyringError as exc:
            raise IntegrityError(f"the blob needs key version {version}: {exc}") from None
        try:
            data_key = kek.decrypt(wrapped[:12], wrapped[12:], _wrap_aad(blob_id, version))
        except InvalidTag:
            raise IntegrityError(
                "the data key does not unwrap (destroyed, tampered or moved)"
            ) from None
        return data_key, prefix, chunk_size

    @staticmethod
    def aad(header: bytes, blob_id: str) -> bytes:
        return header + blob_id.encode("ascii")


def _still_at(handle: BinaryIO, path: Path) -> bool:
    """Whether the open ``handle`` is still the file at ``path``."""
    try:
        return os.path.samestat(os.fstat(handle.fileno()), path.stat())
    except FileNotFoundError:
        return False


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Sealing:
    """One blob's ciphertext as it is produced: ``pieces()`` yields the header, then the sealed
    chunks; afterwards ``sha256``, ``size`` (of the plaintext) and ``version`` (of the KEK)."""

    def __init__(self, store: BlobStore, blob_id: str, source: BinaryIO) -> None:
        self._store, self._blob_id, self._source = store, blob_id, source
        self.sha256, self.size, self.version = "", 0, 0

    def pieces(self) -> Iterator[bytes]:
        header, data_key, prefix = self._store.new_header(self._blob_id)
        self.version = int(HEADER.unpack(header)[1])
        digest, size = hashlib.sha256(), 0
        yield header
        for plain, sealed in stream.encrypt_chunks(
            data_key,
            prefix,
            self._store.aad(header, self._blob_id),
            self._source,
            self._store.chunk_size,
        ):
            digest.update(plain)
            size += len(plain)
            yield sealed
        self.sha256, self.size = digest.hexdigest(), size


class PlainReader:
    """Plaintext chunks read like a file (what the encrypting side takes)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


def closing(handle: BinaryIO, first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    try:
        yield first
        yield from rest
    finally:
        handle.close()
