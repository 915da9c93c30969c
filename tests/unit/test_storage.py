"""The encrypted blob store: round trips, tampering of every kind, rotation, imported keys."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import stat
from pathlib import Path

import pytest

from artifact.infra.storage import BlobNotFound, BlobStore, IntegrityError, Keyring, KeyringError
from artifact.infra.storage.keyring import parse_key_file
from artifact.infra.storage.stream import TAG_BYTES

CHUNK = 1024
MARKER = b"CONFIDENTIAL-MARKER-7f3a"


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    ring = Keyring(tmp_path / "keys" / "keyring.json")
    ring.create()
    return ring


@pytest.fixture
def blob_store(tmp_path: Path, keyring: Keyring) -> BlobStore:
    return BlobStore(tmp_path / "blobs", keyring, chunk_size=CHUNK)


def _payload(size: int) -> bytes:
    body = (MARKER * (size // len(MARKER) + 1))[:size]
    return bytes(b ^ (i % 7) for i, b in enumerate(body[: size // 2])) + body[size // 2 :]


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 10 * CHUNK + 17])
def test_round_trip_bytes_and_sha256(blob_store: BlobStore, size: int) -> None:
    data = _payload(size)
    info = blob_store.put(io.BytesIO(data))
    assert info.size == size
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert blob_store.read_bytes(info.id) == data


def test_nothing_of_the_plaintext_is_on_disk(tmp_path: Path, blob_store: BlobStore) -> None:
    data = MARKER * 5000
    info = blob_store.put(io.BytesIO(data))
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert blob_store.path_of(info.id) in files
    for path in files:
        raw = path.read_bytes()
        assert MARKER not in raw
        assert MARKER[:12] not in raw
    assert stat.S_IMODE(blob_store.path_of(info.id).stat().st_mode) == 0o600
    assert stat.S_IMODE(blob_store.keyring.path.stat().st_mode) == 0o600


def _tamper(path: Path, offset: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0x01
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize(
    "where",
    [
        "header-version",
        "wrapped-key",
        "prefix",
        "chunk-size",
        "first-chunk",
        "middle-chunk",
        "last-tag",
    ],
)
def test_a_flipped_byte_anywhere_fails(blob_store: BlobStore, where: str) -> None:
    info = blob_store.put(io.BytesIO(_payload(4 * CHUNK + 10)))
    path = blob_store.path_of(info.id)
    size = path.stat().st_size
    offset = {
        "header-version": 11,
        "wrapped-key": 40,
        "prefix": 75,
        "chunk-size": 82,
        "first-chunk": 100,
        "middle-chunk": 83 + 2 * (CHUNK + TAG_BYTES) + 5,
        "last-tag": size - 1,
    }[where]
    _tamper(path, offset)
    with pytest.raises(IntegrityError):
        blob_store.read_bytes(info.id)


def _sealed_chunks(path: Path) -> tuple[bytes, list[bytes]]:
    raw = path.read_bytes()
    header, body = raw[:83], raw[83:]
    step = CHUNK + TAG_BYTES
    return header, [body[i : i + step] for i in range(0, len(body), step)]


@pytest.mark.parametrize(
    "change",
    [
        "truncate-at-boundary",
        "truncate-mid-chunk",
        "drop-middle",
        "swap-chunks",
        "append-chunk",
        "append-bytes",
        "empty-body",
    ],
)
def test_truncation_reordering_and_appending_fail(blob_store: BlobStore, change: str) -> None:
    info = blob_store.put(io.BytesIO(_payload(4 * CHUNK + 10)))
    path = blob_store.path_of(info.id)
    header, chunks = _sealed_chunks(path)
    assert len(chunks) == 5
    changed = {
        "truncate-at-boundary": chunks[:3],
        "truncate-mid-chunk": [*chunks[:3], chunks[3][:100]],
        "drop-middle": [chunks[0], *chunks[2:]],
        "swap-chunks": [chunks[1], chunks[0], *chunks[2:]],
        "append-chunk": [*chunks, chunks[1]],
        "append-bytes": [*chunks, b"\x00" * 32],
        "empty-body": [],
    }[change]
    path.write_bytes(header + b"".join(changed))
    with pytest.raises(IntegrityError):
        blob_store.read_bytes(info.id)


def test_a_blob_moved_under_another_id_fails(blob_store: BlobStore) -> None:
    one = blob_store.put(io.BytesIO(b"first file"))
    two = blob_store.put(io.BytesIO(b"second file"))
    blob_store.path_of(two.id).write_bytes(blob_store.path_of(one.id).read_bytes())
    with pytest.raises(IntegrityError):
        blob_store.read_bytes(two.id)


def test_rotation_keeps_old_blobs_readable(blob_store: BlobStore, keyring: Keyring) -> None:
    old = blob_store.put(io.BytesIO(b"before rotation"))
    assert keyring.rotate().version == 2
    new = blob_store.put(io.BytesIO(b"after rotation"))
    assert (blob_store.kek_version(old.id), blob_store.kek_version(new.id)) == (1, 2)
    assert blob_store.read_bytes(old.id) == b"before rotation"
    assert blob_store.read_bytes(new.id) == b"after rotation"
    assert [k.version for k in keyring.versions()] == [1, 2]


def test_imported_key_is_used_and_works(
    tmp_path: Path, blob_store: BlobStore, keyring: Keyring
) -> None:
    key = secrets.token_bytes(32)
    key_file = tmp_path / "byok.hex"
    key_file.write_text(key.hex() + "\n")
    entry = keyring.import_key(parse_key_file(key_file.read_bytes()))
    assert (entry.version, entry.source, entry.key) == (2, "imported", key)
    info = blob_store.put(io.BytesIO(b"under my own key"))
    assert info.kek_version == 2
    # a fresh keyring object (another process) reads the same keys
    other = BlobStore(blob_store.root, Keyring(keyring.path))
    assert other.read_bytes(info.id) == b"under my own key"
    with pytest.raises(KeyringError, match="already"):
        keyring.import_key(key)


@pytest.mark.parametrize("raw", [b"", b"short", b"x" * 31, b"ab" * 33, b"not base64 !!!!"])
def test_bad_key_files_are_refused(raw: bytes) -> None:
    with pytest.raises(KeyringError, match="256 bits"):
        parse_key_file(raw)


def test_key_files_in_three_encodings() -> None:
    import base64

    key = secrets.token_bytes(32)
    assert parse_key_file(key) == key
    assert parse_key_file(key.hex().encode()) == key
    assert parse_key_file(base64.b64encode(key) + b"\n") == key


def test_destroy_makes_the_blob_unrecoverable(blob_store: BlobStore) -> None:
    info = blob_store.put(io.BytesIO(b"to be purged"))
    copy = blob_store.path_of(info.id).read_bytes()
    blob_store.destroy(info.id)
    assert not blob_store.exists(info.id)
    with pytest.raises(BlobNotFound):
        blob_store.read_bytes(info.id)
    # even a copy taken before the purge only helps with the data key, which is gone once the
    # header is overwritten: simulate the copy taken after the overwrite step
    zeroed = copy[:12] + b"\x00" * 60 + copy[72:]
    blob_store.path_of(info.id).parent.mkdir(parents=True, exist_ok=True)
    blob_store.path_of(info.id).write_bytes(zeroed)
    with pytest.raises(IntegrityError):
        blob_store.read_bytes(info.id)


def test_a_failing_source_leaves_no_blob(tmp_path: Path, blob_store: BlobStore) -> None:
    class Broken(io.RawIOBase):
        calls = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 3:
                raise OSError("disk went away")
            return b"x" * size

    with pytest.raises(OSError, match="disk went away"):
        blob_store.put(Broken())  # type: ignore[arg-type]
    assert [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("bad_id", ["../../etc/passwd", "", "A" * 32, "0" * 31, "0" * 32 + "/x"])
def test_blob_ids_are_never_paths(blob_store: BlobStore, bad_id: str) -> None:
    with pytest.raises(BlobNotFound):
        blob_store.read_bytes(bad_id)


def test_keyring_refuses_loose_permissions_and_missing_file(
    tmp_path: Path, keyring: Keyring
) -> None:
    os.chmod(keyring.path, 0o644)
    with pytest.raises(KeyringError, match="chmod 600"):
        Keyring(keyring.path).current()
    with pytest.raises(KeyringError, match="flask --app app init"):
        Keyring(tmp_path / "nowhere.json").current()
    with pytest.raises(KeyringError, match="already exists"):
        keyring.create()


def test_key_material_never_in_repr(keyring: Keyring) -> None:
    entry = keyring.current()
    assert entry.key.hex() not in repr(entry)
    assert entry.fingerprint in repr(entry)
