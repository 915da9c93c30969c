"""The blob store in an S3-compatible bucket (moto's server on loopback): a real corpus PDF
through the API and back, ciphertext only in the bucket, tampering caught, a store that does
not answer gives a 503, and check-deploy flags a bucket that is not private."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from flask import Flask

from artifact.extensions import db
from artifact.infra.storage import IntegrityError, StorageUnavailable, s3, store_for
from artifact.models import AuditEvent, ReportVersion
from tests.conftest import corpus_path
from tests.fixtures_catalog import make_pdf, upload_version
from tests.fixtures_s3 import free_port, objects

CORPUS_PDF = (
    "files",
    "fedramp-public-domain",
    "pdf",
    "CSP_Continuous_Monitoring_Strategy_Guide.pdf",
)


@pytest.fixture
def app(s3_app: Flask) -> Flask:
    return s3_app


def _publish_with_upload(client, staff, bearer, make_report, data: bytes) -> tuple[str, int]:
    report = make_report("Monitoring strategy", state="draft", visibility="public")
    response = upload_version(client, bearer(staff), report.id, data, name="strategy.pdf")
    assert response.status_code == 201, response.get_json()
    number = response.get_json()["number"]
    published = client.post(
        f"/api/v1/reports/{report.id}/state", headers=bearer(staff), json={"state": "published"}
    )
    assert published.status_code == 200, published.get_json()
    return report.id, number


def test_a_corpus_pdf_goes_through_the_bucket_and_back(
    app, client, staff, customer, bearer, make_report, moto_endpoint, s3_bucket
) -> None:
    data = corpus_path(*CORPUS_PDF).read_bytes()
    report_id, number = _publish_with_upload(client, staff, bearer, make_report, data)

    original = client.get(
        f"/api/v1/reports/{report_id}/versions/{number}/original", headers=bearer(staff)
    )
    assert original.status_code == 200
    assert hashlib.sha256(original.data).hexdigest() == hashlib.sha256(data).hexdigest()
    stamped = client.get(f"/api/v1/reports/{report_id}/download", headers=bearer(customer))
    assert stamped.status_code == 200
    assert stamped.data.startswith(b"%PDF")

    version = db.session.query(ReportVersion).filter_by(report_id=report_id).one()
    stored = objects(moto_endpoint, s3_bucket)
    key = f"blobs/{version.blob_id[:2]}/{version.blob_id}"
    assert key in stored
    assert all(k.startswith("blobs/") for k in stored)
    for body in stored.values():  # the bucket only ever sees ciphertext
        assert b"%PDF" not in body
        assert data[1000:1032] not in body
    assert not (Path(app.config["DATA_DIR"]) / "blobs").exists()


def test_a_tampered_object_is_caught_and_nothing_is_served(
    app, client, staff, bearer, make_report, moto_endpoint, s3_bucket
) -> None:
    data = corpus_path(*CORPUS_PDF).read_bytes()
    report_id, number = _publish_with_upload(client, staff, bearer, make_report, data)
    version = db.session.query(ReportVersion).filter_by(report_id=report_id).one()
    key = f"blobs/{version.blob_id[:2]}/{version.blob_id}"
    client_s3 = s3.client(moto_endpoint)
    body = bytearray(client_s3.get_object(Bucket=s3_bucket, Key=key)["Body"].read())
    body[len(body) // 2] ^= 0x01
    client_s3.put_object(Bucket=s3_bucket, Key=key, Body=bytes(body))

    response = client.get(
        f"/api/v1/reports/{report_id}/versions/{number}/original", headers=bearer(staff)
    )
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "integrity_failed"
    assert b"%PDF" not in response.data
    failure = (
        db.session.query(AuditEvent).filter_by(action="report.original", outcome="failure").one()
    )
    assert json.loads(failure.details)["error"] == "integrity"
    with pytest.raises(IntegrityError):
        store_for(app).read_bytes(version.blob_id)


@pytest.fixture
def unreachable(make_s3_app, s3_bucket) -> Flask:
    """The same database, keys and bucket name, but an S3 endpoint where nothing listens."""
    return make_s3_app(
        BLOB_STORE=f"s3://{s3_bucket}/blobs", S3_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}"
    )


def test_an_upload_while_the_store_does_not_answer_is_a_clear_503(
    unreachable, staff, bearer, make_report
) -> None:
    report = make_report("Store down", state="draft")
    response = upload_version(unreachable.test_client(), bearer(staff), report.id, make_pdf(1))
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["error"]["code"] == "unavailable"
    assert "file store is not reachable" in response.get_json()["error"]["message"]
    assert response.headers["Retry-After"] == "30"
    assert db.session.query(ReportVersion).filter_by(report_id=report.id).count() == 0


def test_a_download_while_the_store_does_not_answer_is_a_clear_503(
    unreachable, staff, customer, bearer, make_report
) -> None:
    report = make_report("Stored while up", visibility="public")
    client = unreachable.test_client()
    response = client.get(f"/api/v1/reports/{report.id}/download", headers=bearer(customer))
    assert response.status_code == 503
    assert "file store is not reachable" in response.get_json()["error"]["message"]
    original = client.get(f"/api/v1/reports/{report.id}/versions/1/original", headers=bearer(staff))
    assert original.status_code == 503
    # not mistaken for tampering: no integrity failure is recorded
    assert db.session.query(AuditEvent).filter_by(outcome="failure").count() == 0
    with unreachable.app_context(), pytest.raises(StorageUnavailable):
        store_for(unreachable).read_bytes("0" * 32)


def _deploy_lines(app: Flask) -> list[str]:
    result = app.test_cli_runner().invoke(args=["check-deploy"])
    return [line for line in result.output.splitlines() if line.startswith("FAIL")]


def test_check_deploy_asks_the_bucket_whether_it_is_private(app, moto_endpoint, s3_bucket) -> None:
    assert not [line for line in _deploy_lines(app) if "bucket" in line]

    client = s3.client(moto_endpoint)
    client.delete_public_access_block(Bucket=s3_bucket)
    client.put_bucket_acl(Bucket=s3_bucket, ACL="public-read")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{s3_bucket}/*",
            }
        ],
    }
    client.put_bucket_policy(Bucket=s3_bucket, Policy=json.dumps(policy))
    lines = _deploy_lines(app)
    assert any("ACL grants READ to everyone" in line for line in lines), lines
    assert any("policy allows everyone" in line for line in lines), lines
    assert any("Block Public Access is not set" in line for line in lines), lines

    client.put_public_access_block(
        Bucket=s3_bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    assert any("IgnorePublicAcls off" in line for line in _deploy_lines(app))
