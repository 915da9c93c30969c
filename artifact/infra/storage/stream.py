"""STREAM-style chunked AES-256-GCM (Hoang, Reyhanitabar, Rogaway, Vizár 2015).

Each chunk's 96-bit nonce is a random 7-byte prefix, the 32-bit chunk index and a one-byte
last-chunk flag, so dropping, reordering, duplicating or appending chunks, or cutting the stream
at a chunk boundary, makes a chunk fail authentication. Every chunk also authenticates the
caller's associated data (the blob header, which binds the blob id)."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from artifact.infra.storage.errors import IntegrityError

PREFIX_BYTES = 7
TAG_BYTES = 16
DEFAULT_CHUNK = 64 * 1024
MAX_CHUNKS = 2**32 - 1


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    if index > MAX_CHUNKS:
        raise ValueError("stream too long for one data key")
    return prefix + struct.pack(">IB", index, 1 if last else 0)


def _read_full(source: BinaryIO, size: int) -> bytes:
    """Read exactly ``size`` bytes unless the source ends first (pipes return short reads)."""
    parts = []
    remaining = size
    while remaining:
        part = source.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def encrypt_chunks(
    key: bytes, prefix: bytes, aad: bytes, source: BinaryIO, chunk_size: int = DEFAULT_CHUNK
) -> Iterator[tuple[bytes, bytes]]:
    """Yield (plaintext chunk, ciphertext chunk); the last chunk is flagged (an empty input is
    one empty, flagged chunk)."""
    aead = AESGCM(key)
    index = 0
    current = _read_full(source, chunk_size)
    while True:
        following = _read_full(source, chunk_size) if len(current) == chunk_size else b""
        last = not following
        yield current, aead.encrypt(_nonce(prefix, index, last), current, aad)
        if last:
            return
        current = following
        index += 1


def decrypt_chunks(
    key: bytes, prefix: bytes, aad: bytes, source: BinaryIO, chunk_size: int = DEFAULT_CHUNK
) -> Iterator[bytes]:
    """Yield verified plaintext chunks; raise IntegrityError at the first bad one (nothing of a
    bad chunk is ever yielded)."""
    aead = AESGCM(key)
    sealed = chunk_size + TAG_BYTES
    index = 0
    current = _read_full(source, sealed)
    if not current:
        raise IntegrityError("the stream is empty (truncated)")
    while True:
        following = _read_full(source, sealed) if len(current) == sealed else b""
        last = not following
        try:
            plain = aead.decrypt(_nonce(prefix, index, last), current, aad)
        except InvalidTag:
            raise IntegrityError(f"chunk {index} failed authentication") from None
        yield plain
        if last:
            return
        current = following
        index += 1
