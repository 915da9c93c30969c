"""The audit witness in an S3 bucket (moto's server on loopback): one object per checkpoint,
never replaced through us, read back by `audit verify`."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask

from artifact.audit.services import signing as audit_signing
from artifact.extensions import db
from artifact.infra.storage import s3
from artifact.infra.witness import S3Witness, WitnessError
from tests.fixtures_s3 import objects
from tests.unit.test_audit_trail import _raw
from tests.unit.test_audit_witness import _trail, _verify


@pytest.fixture
def app(make_s3_app, moto_endpoint: str, s3_bucket: str) -> Iterator[Flask]:
    app = make_s3_app(AUDIT_WITNESS=f"s3://{s3_bucket}/trail", S3_ENDPOINT_URL=moto_endpoint)
    with app.app_context():
        # the test's own unit of work signs as a request or command would
        audit_signing.configure(db.session, audit_signing.CheckpointPolicy.from_config(app.config))
        yield app


def _witnessed(moto_endpoint: str, bucket: str) -> dict[str, dict[str, object]]:
    return {key: json.loads(body) for key, body in objects(moto_endpoint, bucket, "trail/").items()}


def test_each_checkpoint_is_one_object_and_verify_reads_them_back(
    app: Flask, moto_endpoint: str, s3_bucket: str
) -> None:
    _trail(app)
    found = _witnessed(moto_endpoint, s3_bucket)
    assert list(found) == [
        "trail/checkpoint-00000000000000000001.json",
        "trail/checkpoint-00000000000000000002.json",
    ]
    assert [record["event_seq"] for record in found.values()] == [5, 8]
    result = _verify(app)
    assert result.ok, result.message
    assert "witnessed up to checkpoint #2" in result.message
    command = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert command.exit_code == 0, command.output
    assert command.output.startswith("ok ")


def test_checkpoints_deleted_from_the_database_are_found_through_the_bucket(app: Flask) -> None:
    _trail(app)
    _raw("DELETE FROM audit_checkpoint")
    result = _verify(app)
    assert not result.ok
    assert "checkpoint #1 (signing seq 5) is in the witness but missing from the database" in (
        result.message
    )


def test_a_witnessed_checkpoint_is_not_replaced(
    app: Flask, moto_endpoint: str, s3_bucket: str
) -> None:
    _trail(app)
    witness = S3Witness(s3.client(moto_endpoint), s3.parse(f"s3://{s3_bucket}/trail"))
    before = _witnessed(moto_endpoint, s3_bucket)
    first = next(iter(before.values()))
    witness.append(dict(first))  # the same record again (a retry): fine
    with pytest.raises(WitnessError, match="already in the witness"):
        witness.append({**first, "event_hash": "0" * 64})
    assert _witnessed(moto_endpoint, s3_bucket) == before


def test_an_unreachable_bucket_fails_the_verification_with_a_reason(
    make_s3_app, s3_bucket: str
) -> None:
    from tests.fixtures_s3 import free_port

    app = make_s3_app(
        AUDIT_WITNESS=f"s3://{s3_bucket}/trail",
        S3_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",
    )
    with app.app_context():
        audit_signing.configure(db.session, audit_signing.CheckpointPolicy.from_config(app.config))
        result = _verify(app)
    assert not result.ok
    assert "cannot read the audit witness s3://" in result.message
