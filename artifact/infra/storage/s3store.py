"""The blob store in an S3-compatible bucket (``ARTIFACT_BLOB_STORE=s3://bucket/prefix``): the
same envelope encryption and object format as the local store (header, then STREAM chunks), so
the bucket only ever holds ciphertext and a local blob copied there verbatim opens the same.

Uploads stream: the ciphertext goes up in multipart parts as it is produced (a small blob in one
PUT), a failed upload is aborted, and a new object is written with ``If-None-Match: *``.
Downloads stream too: the object is read in ranged GETs pinned to its ETag, and each chunk is
authenticated before it is handed on. Objects are keyed ``<prefix><id[:2]>/<id>``."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from botocore.exceptions import ClientError

from artifact.infra.storage import s3, stream
from artifact.infra.storage.blobs import (
    _ID_RE,
    HEADER,
    BlobInfo,
    BlobStore,
    PlainReader,
    Sealing,
    closing,
)
from artifact.infra.storage.errors import BlobNotFound, StorageUnavailable
from artifact.infra.storage.kek import KeyProvider

PART_BYTES = 8 * 1024 * 1024  # S3's smallest part is 5 MiB (but the last)
RANGE_BYTES = 8 * 1024 * 1024


class S3BlobStore(BlobStore):
    def __init__(
        self,
        client: Any,
        location: s3.Location,
        keyring: KeyProvider,
        chunk_size: int = stream.DEFAULT_CHUNK,
        part_bytes: int = PART_BYTES,
        range_bytes: int = RANGE_BYTES,
    ) -> None:
        super().__init__(Path(str(location)), keyring, chunk_size)
        self.client = client
        self.location = location
        self.part_bytes = part_bytes
        self.range_bytes = range_bytes
        # Conditional writes (If-None-Match, If-Match) until the store says it has none; the
        # ids are random (128 bits), so a new object's condition is a second line of defence.
        self.conditional = True

    def describe(self) -> str:
        return str(self.location)

    def key_of(self, blob_id: str) -> str:
        if not _ID_RE.match(blob_id or ""):
            raise BlobNotFound("not a blob id")
        return f"{self.location.prefix}{blob_id[:2]}/{blob_id}"

    def path_of(self, blob_id: str) -> Path:
        raise BlobNotFound("blobs in an object store have no local path")

    # -- writing ---------------------------------------------------------------------------

    def put(self, source: BinaryIO) -> BlobInfo:
        """Encrypt ``source`` into a new object. On any failure nothing is left behind."""
        blob_id = secrets.token_hex(16)
        start = source.tell() if source.seekable() else None
        sealing = Sealing(self, blob_id, source)
        try:
            self._upload(self.key_of(blob_id), sealing.pieces(), if_none_match=True)
        except StorageUnavailable as error:
            if error.code not in s3.NOT_IMPLEMENTED or start is None:
                raise
            source.seek(start)  # once more, without the condition the store does not take
            sealing = Sealing(self, blob_id, source)
            self._upload(self.key_of(blob_id), sealing.pieces())
        return BlobInfo(blob_id, sealing.size, sealing.sha256, sealing.version)

    def put_ciphertext(self, blob_id: str, source: BinaryIO) -> str:
        """Store ``source`` (a whole blob file, as the local store keeps it) under ``blob_id``
        as it is; returns the SHA-256 of the bytes sent (``migrate-store``)."""
        digest = hashlib.sha256()

        def pieces() -> Iterator[bytes]:
            while piece := source.read(1024 * 1024):
                digest.update(piece)
                yield piece

        self._upload(self.key_of(blob_id), pieces())
        return digest.hexdigest()

    def _upload(
        self,
        key: str,
        pieces: Iterable[bytes],
        *,
        if_none_match: bool = False,
        if_match: str | None = None,
    ) -> None:
        """One PUT when everything fits in a part, else a multipart upload (aborted on any
        failure, so no part is left billed or readable)."""
        conditions: dict[str, str] = {}
        if if_none_match:
            conditions["IfNoneMatch"] = "*"
        if if_match:
            conditions["IfMatch"] = if_match
        if conditions and not self.conditional:
            conditions = {}
        try:
            self._send(key, pieces, conditions)
        except StorageUnavailable as error:
            if error.code in s3.NOT_IMPLEMENTED and conditions:
                self.conditional = False  # from now on: look first, then write
            raise

    def _send(self, key: str, pieces: Iterable[bytes], conditions: dict[str, str]) -> None:
        bucket = self.location.bucket
        buffer = bytearray()
        feed = iter(pieces)
        for piece in feed:
            buffer += piece
            if len(buffer) >= self.part_bytes:
                break
        else:
            with s3.answering(bucket):
                self.client.put_object(Bucket=bucket, Key=key, Body=bytes(buffer), **conditions)
            return
        with s3.answering(bucket):
            upload_id = self.client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        try:
            parts: list[dict[str, Any]] = []
            for piece in feed:
                buffer += piece
                while len(buffer) >= 2 * self.part_bytes:
                    parts.append(self._part(key, upload_id, len(parts) + 1, buffer))
            if len(buffer) > self.part_bytes:
                parts.append(self._part(key, upload_id, len(parts) + 1, buffer))
            parts.append(self._part(key, upload_id, len(parts) + 1, buffer, last=True))
            with s3.answering(bucket):
                self.client.complete_multipart_upload(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                    **conditions,
                )
        except BaseException:
            with contextlib.suppress(Exception):  # the first error is the one to see
                self.client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise

    def _part(
        self, key: str, upload_id: str, number: int, buffer: bytearray, last: bool = False
    ) -> dict[str, Any]:
        size = len(buffer) if last else self.part_bytes
        body = bytes(buffer[:size])
        del buffer[:size]
        with s3.answering(self.location.bucket):
            answer = self.client.upload_part(
                Bucket=self.location.bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=body,
            )
        return {"PartNumber": number, "ETag": answer["ETag"]}

    # -- reading ---------------------------------------------------------------------------

    def _head(self, blob_id: str) -> dict[str, Any] | None:
        try:
            with s3.answering(self.location.bucket):
                found: dict[str, Any] = self.client.head_object(
                    Bucket=self.location.bucket, Key=self.key_of(blob_id)
                )
                return found
        except ClientError:
            return None

    def _reader(self, blob_id: str) -> RangedReader:
        head = self._head(blob_id)
        if head is None:
            raise BlobNotFound(f"no blob {blob_id}")
        return RangedReader(self, self.key_of(blob_id), str(head["ETag"]), head["ContentLength"])

    def read_chunks(self, blob_id: str) -> Iterator[bytes]:
        """Verified plaintext, chunk by chunk, read in ranges. The data key is checked before
        the first chunk is returned; IntegrityError at the first bad chunk."""
        reader = self._reader(blob_id)
        header = reader.read(HEADER.size)
        data_key, prefix, chunk_size = self.unwrap(blob_id, header)
        chunks = stream.decrypt_chunks(
            data_key, prefix, self.aad(header, blob_id), cast(BinaryIO, reader), chunk_size
        )
        first = next(chunks)
        return closing(cast(BinaryIO, reader), first, chunks)

    def ciphertext_sha256(self, blob_id: str) -> str:
        """The SHA-256 of the stored object's bytes (``migrate-store`` compares copies)."""
        reader = self._reader(blob_id)
        digest = hashlib.sha256()
        while piece := reader.read(self.range_bytes):
            digest.update(piece)
        return digest.hexdigest()

    def kek_version(self, blob_id: str) -> int:
        header = self._reader(blob_id).read(HEADER.size)
        return int(HEADER.unpack(header)[1])

    def exists(self, blob_id: str) -> bool:
        return self._head(blob_id) is not None

    def blob_ids(self, after: str = "") -> Iterator[str]:
        prefix = self.location.prefix
        start = f"{prefix}{after[:2]}/{after}" if after else ""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.location.bucket, Prefix=prefix, StartAfter=start
        )
        with s3.answering(self.location.bucket):
            for page in pages:
                for item in page.get("Contents", []):
                    name = str(item["Key"]).rsplit("/", 1)[-1]
                    if _ID_RE.match(name) and name > after:
                        yield name

    def has_blobs(self) -> bool:
        with s3.answering(self.location.bucket):
            page = self.client.list_objects_v2(
                Bucket=self.location.bucket, Prefix=self.location.prefix, MaxKeys=1
            )
        return bool(page.get("KeyCount") or page.get("Contents"))

    # -- changing --------------------------------------------------------------------------

    def rewrap(self, blob_id: str) -> bool:
        """Put the blob under the current key version (encrypted again with a fresh data key,
        written over the object only if it is still the one read: ``If-Match`` on its ETag, so
        a blob destroyed meanwhile is not brought back). False when it already is, or is
        gone or changed meanwhile."""
        try:
            reader = self._reader(blob_id)
        except BlobNotFound:
            return False
        header = reader.read(HEADER.size)
        if (
            len(header) == HEADER.size
            and HEADER.unpack(header)[1] == self.keyring.current().version
        ):
            return False
        data_key, prefix, chunk_size = self.unwrap(blob_id, header)
        plain = stream.decrypt_chunks(
            data_key, prefix, self.aad(header, blob_id), cast(BinaryIO, reader), chunk_size
        )
        sealing = Sealing(self, blob_id, cast(BinaryIO, PlainReader(plain)))
        if not self.conditional and self._head(blob_id) is None:
            return False  # (without If-Match: a look just before the write)
        try:
            self._upload(self.key_of(blob_id), sealing.pieces(), if_match=reader.etag)
        except ClientError as error:
            if s3.error_code(error) in s3.PASSED_ON:
                return False
            raise
        except StorageUnavailable as error:
            if error.code in s3.NOT_IMPLEMENTED:
                return self.rewrap(blob_id)  # again, now without the condition
            raise
        return True

    def destroy(self, blob_id: str) -> None:
        """Delete the object. (With versioning on, a lifecycle rule must expire noncurrent
        versions: see README, "Scale-out".)"""
        with s3.answering(self.location.bucket):
            self.client.delete_object(Bucket=self.location.bucket, Key=self.key_of(blob_id))


class RangedReader:
    """An object read like a file, ``range_bytes`` at a time, every range pinned to the ETag
    seen first: an object replaced meanwhile is not read half old, half new."""

    def __init__(self, store: S3BlobStore, key: str, etag: str, size: int) -> None:
        self._store, self._key, self.etag, self._size = store, key, etag, int(size)
        self._position = 0
        self._buffer = b""  # the range fetched last, handed out from _offset on
        self._offset = 0

    def read(self, size: int = -1) -> bytes:
        want = self._size if size < 0 else size
        parts = []
        while want > 0:
            if self._offset >= len(self._buffer):
                if self._position >= self._size:
                    break
                self._buffer, self._offset = self._fetch(), 0
            piece = self._buffer[self._offset : self._offset + want]
            self._offset += len(piece)
            want -= len(piece)
            parts.append(piece)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _fetch(self) -> bytes:
        end = min(self._position + self._store.range_bytes, self._size) - 1
        bucket = self._store.location.bucket
        try:
            with s3.answering(bucket):
                answer = self._store.client.get_object(
                    Bucket=bucket,
                    Key=self._key,
                    Range=f"bytes={self._position}-{end}",
                    IfMatch=self.etag,
                )
                body = answer["Body"].read()
        except ClientError:
            raise StorageUnavailable(
                "the stored object changed or disappeared while it was read; try again"
            ) from None
        self._position += len(body)
        if not body:
            raise StorageUnavailable("the object store returned an empty range")
        return bytes(body)

    def close(self) -> None:
        self._buffer = b""
