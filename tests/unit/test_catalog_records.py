"""Versions and download receipts are immutable in the database itself (triggers), and a
version's blob follows its row through the owner's commit or rollback."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from artifact.catalog.services import downloads, reports
from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR
from artifact.models import DownloadReceipt, Report, ReportVersion
from artifact.models.base import utcnow
from tests.fixtures_catalog import make_pdf


@pytest.mark.parametrize("change", [{"sha256": "0" * 64}, {"blob_id": "f" * 32}, {"size": 1}])
def test_a_version_cannot_be_rewritten(make_report, change) -> None:
    report = make_report("Public ISO", visibility="public")
    with pytest.raises(DBAPIError, match="immutable"):
        db.session.execute(
            update(ReportVersion).where(ReportVersion.report_id == report.id).values(**change)
        )
    db.session.rollback()


def test_a_version_can_be_marked_purged_once_and_never_deleted(make_report) -> None:
    report = make_report("Public ISO", visibility="public")
    where = ReportVersion.report_id == report.id
    db.session.execute(update(ReportVersion).where(where).values(purged_at=utcnow()))
    db.session.commit()
    with pytest.raises(DBAPIError, match="immutable"):
        db.session.execute(update(ReportVersion).where(where).values(purged_at=None))
    db.session.rollback()
    with pytest.raises(DBAPIError, match="immutable"):
        db.session.execute(delete(ReportVersion).where(where))
    db.session.rollback()


def test_download_receipts_cannot_be_edited_or_deleted(make_report, store) -> None:
    report = make_report("Public ISO", visibility="public")
    receipt = downloads.download(db.session, OPERATOR, store, report.id).receipt
    uow.commit(db.session)
    for statement in (
        update(DownloadReceipt).values(email="someone@else.test"),
        delete(DownloadReceipt),
    ):
        with pytest.raises(DBAPIError, match="immutable"):
            db.session.execute(statement)
        db.session.rollback()
    assert db.session.get(DownloadReceipt, receipt) is not None


def test_an_upload_its_owner_rolls_back_leaves_neither_blob_nor_row(make_report, store) -> None:
    report = make_report("Draft ISO", state="draft")
    version = reports.add_version(
        db.session, OPERATOR, store, report.id, make_pdf(), "iso.pdf", 10**8
    )
    blob_id = version.blob_id
    assert store.exists(blob_id)
    uow.rollback(db.session)  # e.g. a later step of the same request failed
    assert not store.exists(blob_id)
    assert db.session.scalars(select(ReportVersion)).all() == []
    kept = reports.add_version(db.session, OPERATOR, store, report.id, make_pdf(), "iso.pdf", 10**8)
    uow.commit(db.session)
    assert store.exists(kept.blob_id)
    assert db.session.get(ReportVersion, kept.id) is not None


def test_a_purge_destroys_the_key_only_once_committed(make_report, store) -> None:
    report = make_report("Public ISO", visibility="public")
    blob_id = report.versions[0].blob_id
    reports.purge_version(db.session, OPERATOR, store, report.id, 1)
    uow.rollback(db.session)
    assert store.read_bytes(blob_id).startswith(b"%PDF")
    reports.purge_version(db.session, OPERATOR, store, report.id, 1)
    uow.commit(db.session)
    assert not store.exists(blob_id)
    assert db.session.get(Report, report.id).versions[0].purged_at is not None
