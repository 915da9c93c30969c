"""Versions and download receipts are immutable in the database itself (triggers)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from artifact.catalog.services import downloads
from artifact.extensions import db
from artifact.kernel.caller import OPERATOR
from artifact.models import DownloadReceipt, ReportVersion
from artifact.models.base import utcnow


@pytest.mark.parametrize("change", [{"sha256": "0" * 64}, {"blob_id": "f" * 32}, {"size": 1}])
def test_a_version_cannot_be_rewritten(make_report, change) -> None:
    report = make_report("Public ISO", visibility="public")
    with pytest.raises(DBAPIError, match="immutable"):
        db.session.execute(update(ReportVersion).where(
            ReportVersion.report_id == report.id).values(**change))
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
    for statement in (update(DownloadReceipt).values(email="someone@else.test"),
                      delete(DownloadReceipt)):
        with pytest.raises(DBAPIError, match="immutable"):
            db.session.execute(statement)
        db.session.rollback()
    assert db.session.get(DownloadReceipt, receipt) is not None
