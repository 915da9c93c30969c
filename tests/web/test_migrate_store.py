"""`flask migrate-store`: every stored file of the data directory copied to the S3 store
(moto's server on loopback) and verified, resumable, and served from there afterwards."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from flask import Flask

from artifact.extensions import db
from artifact.infra.search import Entry, index_for
from artifact.infra.storage import store_for
from artifact.models import ReportVersion
from tests.fixtures_catalog import make_pdf
from tests.fixtures_s3 import objects
from tests.fixtures_search import NOT_POSTGRES, ON_POSTGRES


def _reports(make_report, count: int) -> dict[str, bytes]:
    made = {}
    for n in range(count):
        data = make_pdf(n + 1, marker=f"migrated report {n}")
        report = make_report(f"Migrated {n}", visibility="public", pdf=data)
        made[report.id] = data
    return made


def _s3(make_s3_app, moto_endpoint: str, bucket: str) -> Flask:
    return make_s3_app(BLOB_STORE=f"s3://{bucket}/blobs", S3_ENDPOINT_URL=moto_endpoint)


def _migrate(app: Flask):
    with app.app_context():  # the command runs in this app, not the fixture's
        return app.test_cli_runner().invoke(args=["migrate-store"])


def test_every_file_is_copied_verified_and_served_from_the_bucket(
    app, make_report, make_s3_app, moto_endpoint, s3_bucket, staff, bearer
) -> None:
    made = _reports(make_report, 3)
    scaled = _s3(make_s3_app, moto_endpoint, s3_bucket)
    result = _migrate(scaled)
    assert result.exit_code == 0, result.output
    assert "3 file(s) copied and verified, 0 verified by an earlier run, 0 failed" in result.output

    blob_ids = {v.blob_id for v in db.session.query(ReportVersion)}
    stored = objects(moto_endpoint, s3_bucket, "blobs/")
    assert {key.rsplit("/", 1)[1] for key in stored} == blob_ids
    local = Path(app.config["DATA_DIR"]) / "blobs"
    for blob_id in blob_ids:  # the objects are the local files, byte for byte
        assert (
            stored[f"blobs/{blob_id[:2]}/{blob_id}"] == (local / blob_id[:2] / blob_id).read_bytes()
        )

    client = scaled.test_client()
    for report_id, data in made.items():
        response = client.get(
            f"/api/v1/reports/{report_id}/versions/1/original", headers=bearer(staff)
        )
        assert response.status_code == 200
        assert hashlib.sha256(response.data).hexdigest() == hashlib.sha256(data).hexdigest()

    again = _migrate(scaled)
    assert again.exit_code == 0, again.output
    assert "0 file(s) copied and verified, 3 verified by an earlier run" in again.output


def test_an_interrupted_run_goes_on_where_it_stopped(
    app, make_report, make_s3_app, moto_endpoint, s3_bucket
) -> None:
    _reports(make_report, 3)
    scaled = _s3(make_s3_app, moto_endpoint, s3_bucket)
    assert _migrate(scaled).exit_code == 0
    # as if the first run had stopped after its first file: only that one is recorded, and
    # the bucket has nothing else
    progress = Path(app.config["DATA_DIR"]) / "migrate-store.done"
    first, *rest = progress.read_text().split()
    progress.write_text(f"{first}\n")
    with scaled.app_context():
        store = store_for(scaled)
        for blob_id in rest:
            store.destroy(blob_id)
    result = _migrate(scaled)
    assert result.exit_code == 0, result.output
    assert "2 file(s) copied and verified, 1 verified by an earlier run, 0 failed" in result.output
    assert sorted(progress.read_text().split()) == sorted([first, *rest])
    assert len(objects(moto_endpoint, s3_bucket, "blobs/")) == 3


def test_a_damaged_local_file_is_not_copied_and_the_run_fails(
    app, make_report, make_s3_app, moto_endpoint, s3_bucket
) -> None:
    _reports(make_report, 2)
    damaged = db.session.query(ReportVersion).first()
    path = Path(app.config["DATA_DIR"]) / "blobs" / damaged.blob_id[:2] / damaged.blob_id
    raw = bytearray(path.read_bytes())
    raw[-40] ^= 0x01
    path.write_bytes(bytes(raw))
    result = _migrate(_s3(make_s3_app, moto_endpoint, s3_bucket))
    assert result.exit_code == 1
    assert f"{damaged.blob_id}: the local copy fails its own check" in result.output
    assert "1 file(s) copied and verified, 0 verified by an earlier run, 1 failed" in result.output
    assert not [k for k in objects(moto_endpoint, s3_bucket) if damaged.blob_id in k]


def test_a_local_setting_is_refused_with_what_to_set(app) -> None:
    result = _migrate(app)
    assert result.exit_code == 1
    assert "ARTIFACT_BLOB_STORE is local: set it to the bucket" in result.output
    assert "and/or ARTIFACT_SEARCH_BACKEND=postgres" in result.output


@pytest.mark.skipif(not ON_POSTGRES, reason=NOT_POSTGRES)
def test_the_search_index_is_built_in_postgres_resumably(
    app, make_report, make_s3_app, moto_endpoint, s3_bucket, customer, bearer
) -> None:
    made = _reports(make_report, 3)  # indexed in the data directory (whoosh)
    scaled = make_s3_app(
        BLOB_STORE=f"s3://{s3_bucket}/blobs",
        S3_ENDPOINT_URL=moto_endpoint,
        SEARCH_BACKEND="postgres",
    )
    client = scaled.test_client()

    def found() -> list[tuple[str, list[int]]]:
        response = client.get(
            "/api/v1/search", query_string={"q": "migrated report"}, headers=bearer(customer)
        )
        return sorted((h["id"], h["pages"]) for h in response.get_json()["hits"])

    assert found() == []  # nothing in PostgreSQL yet
    result = _migrate(scaled)
    assert result.exit_code == 0, result.output
    assert "3 file(s) copied and verified" in result.output
    assert "search: 3 record(s) indexed, 0 indexed by an earlier run" in result.output
    expected = found()
    assert [report_id for report_id, _pages in expected] == sorted(made)
    assert all(pages for _id, pages in expected)  # found in the files' text

    # as if the first run had stopped after two records, and a record were gone since
    first = sorted(made)[0]
    with scaled.app_context():
        backend = index_for(scaled)
        gone = Entry("report", "gone", "Gone", "migrated report of a deleted record")
        backend.replace([f"report:{first}"], [gone])
    result = _migrate(scaled)
    assert result.exit_code == 0, result.output
    assert "search: 1 record(s) indexed, 2 indexed by an earlier run, 1 entries" in result.output
    assert found() == expected
    again = _migrate(scaled)
    assert "search: 0 record(s) indexed, 3 indexed by an earlier run, 0 entries" in again.output
    assert found() == expected
