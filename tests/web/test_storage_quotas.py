"""Storage quotas (issue 16, Files): a total and a per-uploader limit, in bytes and in files,
over report versions and evidence, that parallel uploads cannot slip past (on SQLite and on
PostgreSQL: run the suite with ARTIFACT_DATABASE_URL for the second)."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from artifact.catalog.services import upload_guard
from artifact.evidence import services as evidence
from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.errors import QuotaExceeded
from artifact.models import Evidence, EvidenceVersion, ReportVersion
from tests.callers import as_caller
from tests.fixtures_catalog import make_pdf, upload_version
from tests.fixtures_evidence import blob_files

KB = 1024


def _text(size: int, mark: str = "x") -> bytes:
    return (mark * size).encode()[: size - 1] + b"\n"


def _post_evidence(client, headers, data: bytes, title: str = "Firewall rules"):
    form = {"file": (io.BytesIO(data), "notes.txt"), "title": title, "effective_date": "2025-01-01"}
    return client.post(
        "/api/v1/evidence", data=form, headers=headers, content_type="multipart/form-data"
    )


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_per_uploader_quota_refuses_with_413_and_stores_nothing(
    app, client, bearer, staff, reviewer, store
) -> None:
    app.config["QUOTA_USER_BYTES"] = 10 * KB
    mine = bearer(staff)
    assert _post_evidence(client, mine, _text(6 * KB)).status_code == 201
    before = (_count(EvidenceVersion), blob_files(store))
    refused = _post_evidence(client, mine, _text(6 * KB))
    assert refused.status_code == 413
    error = refused.get_json()["error"]
    assert error["code"] == "quota_exceeded"
    assert error["message"].startswith(
        "the storage quota for your uploads is 10 kB: 6 kB is stored and this file needs 6 kB"
    )
    assert (_count(EvidenceVersion), blob_files(store)) == before
    # another uploader has a quota of their own
    assert _post_evidence(client, bearer(reviewer), _text(6 * KB)).status_code == 201


def test_the_total_quota_counts_reports_and_evidence_of_everyone(
    app, client, bearer, staff, reviewer, store, make_report
) -> None:
    report = make_report("Quota", state="draft")
    pdf = make_pdf(1)
    app.config["QUOTA_TOTAL_BYTES"] = len(pdf) + 500  # room for 500 bytes more
    assert upload_version(client, bearer(staff), report.id, pdf).status_code == 201
    before = (_count(ReportVersion), _count(EvidenceVersion), blob_files(store))
    refused = _post_evidence(client, bearer(reviewer), _text(501))
    assert refused.status_code == 413
    assert "storage quota for all uploads together" in refused.get_json()["error"]["message"]
    again = upload_version(client, bearer(staff), report.id, pdf)
    assert again.status_code == 413
    assert (_count(ReportVersion), _count(EvidenceVersion), blob_files(store)) == before
    assert _post_evidence(client, bearer(reviewer), _text(500)).status_code == 201


def test_the_file_count_quotas(app, client, bearer, staff, reviewer) -> None:
    app.config["QUOTA_USER_FILES"] = 1
    assert _post_evidence(client, bearer(staff), b"one\n").status_code == 201
    refused = _post_evidence(client, bearer(staff), b"two\n")
    assert refused.status_code == 413
    assert "quota for your uploads is 1 files" in refused.get_json()["error"]["message"]
    app.config.update(QUOTA_USER_FILES=0, QUOTA_TOTAL_FILES=2)
    assert _post_evidence(client, bearer(reviewer), b"three\n").status_code == 201
    assert _post_evidence(client, bearer(reviewer), b"four\n").status_code == 413


def test_the_evidence_page_says_the_quota_is_full(app, client, login_as, staff, store) -> None:
    from tests.conftest import csrf_token

    app.config["QUOTA_TOTAL_BYTES"] = KB
    login_as(staff)
    page = client.post(
        "/evidence/new",
        data={
            "csrf_token": csrf_token(client, "/evidence/new"),
            "file": (io.BytesIO(_text(2 * KB)), "fw.txt"),
            "title": "Firewall rules",
            "effective_date": "2025-01-01",
        },
        content_type="multipart/form-data",
    )
    assert "The evidence was not stored: the storage quota for all uploads together" in (
        page.get_data(as_text=True)
    )
    assert (_count(Evidence), blob_files(store)) == (0, [])


@pytest.mark.parametrize("scope", ["total", "user"])
def test_parallel_uploads_cannot_slip_past_a_quota(app, staff, store, scope: str) -> None:
    """Eight uploads start together past the early check (nothing is stored yet); three fit.
    Each thread has its own app context, so its own session and connection."""
    size, uploads, fit = 4 * KB, 8, 3
    quota = upload_guard.Quota(
        total_bytes=fit * size + size // 2 if scope == "total" else 0,
        user_bytes=fit * size + size // 2 if scope == "user" else 0,
    )
    limits = evidence.UploadLimits(guard=upload_guard.UploadGuard(quota=quota))
    caller = as_caller(staff)
    start = threading.Barrier(uploads)
    outcomes: list[str] = []

    def upload(number: int) -> None:
        with app.app_context():
            uow.begin()
            values: dict[str, Any] = {"title": f"Parallel {number}", "effective_date": "2025-01-01"}
            start.wait(timeout=30)
            try:
                evidence.create_evidence(
                    db.session, caller, store, values, _text(size, str(number)), "n.txt", limits
                )
                uow.commit(db.session)
                outcomes.append("stored")
            except QuotaExceeded:
                uow.rollback(db.session)
                outcomes.append("refused")
            except Exception as error:  # noqa: BLE001  (reported below, not swallowed)
                uow.rollback(db.session)
                outcomes.append(f"error: {type(error).__name__}: {error}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(uploads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["refused"] * (uploads - fit) + ["stored"] * fit
    db.session.expire_all()
    assert _count(EvidenceVersion) == fit
    assert upload_guard.usage(db.session) == (fit * size, fit)
    assert len(blob_files(store)) == fit
