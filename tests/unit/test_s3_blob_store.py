"""The S3 blob store against moto's server: multipart round trips, listing, rewrap under a new
key version (and not over an object changed meanwhile), destroy, the same bytes as a local blob."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from artifact.infra.storage import BlobNotFound, BlobStore, IntegrityError, Keyring, s3
from artifact.infra.storage.s3store import S3BlobStore
from tests.fixtures_s3 import objects

MIB = 1024 * 1024


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    ring = Keyring(tmp_path / "keys" / "keyring.json")
    ring.create()
    return ring


@pytest.fixture
def bucket_store(moto_endpoint: str, s3_bucket: str, keyring: Keyring) -> S3BlobStore:
    return S3BlobStore(
        s3.client(moto_endpoint),
        s3.parse(f"s3://{s3_bucket}/tenant/blobs"),
        keyring,
        chunk_size=4096,
        part_bytes=5 * MIB,  # S3's smallest part: a 12 MiB blob goes up in three
        range_bytes=1 * MIB,
    )


@pytest.mark.parametrize("size", [0, 1, 4096, 5 * MIB - 1, 12 * MIB + 17])
def test_round_trip_through_single_and_multipart_uploads(
    bucket_store: S3BlobStore, moto_endpoint: str, s3_bucket: str, size: int
) -> None:
    data = os.urandom(size)
    info = bucket_store.put(io.BytesIO(data))
    assert info.size == size
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert bucket_store.read_bytes(info.id) == data
    stored = objects(moto_endpoint, s3_bucket, "tenant/blobs/")
    assert list(stored) == [f"tenant/blobs/{info.id[:2]}/{info.id}"]
    assert s3.client(moto_endpoint).list_multipart_uploads(Bucket=s3_bucket).get("Uploads") is None


def test_listing_existence_and_destroy(bucket_store: S3BlobStore) -> None:
    ids = sorted(bucket_store.put(io.BytesIO(b"x" * n)).id for n in range(5))
    assert list(bucket_store.blob_ids()) == ids
    assert list(bucket_store.blob_ids(ids[1])) == ids[2:]
    assert bucket_store.has_blobs()
    bucket_store.destroy(ids[0])
    assert not bucket_store.exists(ids[0])
    with pytest.raises(BlobNotFound):
        bucket_store.read_bytes(ids[0])
    with pytest.raises(BlobNotFound):
        bucket_store.read_bytes("../../etc/passwd")


def test_rewrap_moves_a_blob_to_the_current_key_version(
    bucket_store: S3BlobStore, keyring: Keyring
) -> None:
    data = os.urandom(3 * MIB)
    info = bucket_store.put(io.BytesIO(data))
    assert bucket_store.rewrap(info.id) is False  # already current
    keyring.rotate()
    assert bucket_store.kek_version(info.id) == 1
    assert bucket_store.rewrap(info.id) is True
    assert bucket_store.kek_version(info.id) == 2
    assert bucket_store.read_bytes(info.id) == data
    bucket_store.destroy(info.id)
    assert bucket_store.rewrap(info.id) is False  # gone: not brought back
    assert not bucket_store.exists(info.id)


def test_a_local_blob_copied_verbatim_opens_from_the_bucket(
    tmp_path: Path, bucket_store: S3BlobStore, keyring: Keyring
) -> None:
    local = BlobStore(tmp_path / "blobs", keyring, chunk_size=4096)
    data = os.urandom(200_000)
    info = local.put(io.BytesIO(data))
    with local.path_of(info.id).open("rb") as handle:
        sent = bucket_store.put_ciphertext(info.id, handle)
    assert sent == hashlib.sha256(local.path_of(info.id).read_bytes()).hexdigest()
    assert bucket_store.ciphertext_sha256(info.id) == sent
    assert bucket_store.read_bytes(info.id) == data


def test_an_object_moved_to_another_id_does_not_open(
    bucket_store: S3BlobStore, moto_endpoint: str, s3_bucket: str
) -> None:
    info = bucket_store.put(io.BytesIO(b"bound to its id" * 1000))
    client = s3.client(moto_endpoint)
    other = "f" * 32
    client.copy_object(
        Bucket=s3_bucket,
        Key=bucket_store.key_of(other),
        CopySource={"Bucket": s3_bucket, "Key": bucket_store.key_of(info.id)},
    )
    with pytest.raises(IntegrityError):
        bucket_store.read_bytes(other)


def test_a_policy_narrowed_by_a_condition_is_not_public(moto_endpoint: str, s3_bucket: str) -> None:
    import json

    client = s3.client(moto_endpoint)
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{s3_bucket}/*",
        "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
    }
    client.put_bucket_policy(
        Bucket=s3_bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )
    assert s3.privacy_problems(client, s3_bucket) == []
    del statement["Condition"]
    client.put_bucket_policy(
        Bucket=s3_bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )
    assert [p for p in s3.privacy_problems(client, s3_bucket) if "allows everyone" in p]
