"""Who holds access to a report (grants, approved requests, acceptances of its terms) and who
downloaded it lately, by name and organisation: what staff see on the report's page and at
``GET /api/v1/reports/{id}/access``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import selectinload

from artifact import policy
from artifact.catalog.services.reports import get_report
from artifact.kernel.caller import Caller
from artifact.models import Acceptance, AccessRequest, DownloadReceipt, Grant, Report, User
from artifact.models.base import DbSession, utcnow
from artifact.models.catalog import RequestState

RECENT_DOWNLOADS = 25


@dataclass(frozen=True)
class Holders:
    report: Report
    grants: list[Grant]
    approved_requests: list[AccessRequest]
    acceptances: list[Acceptance]


@dataclass(frozen=True)
class RecentDownload:
    at: datetime
    name: str
    email: str
    organization: str
    version: int
    receipt: str


def _covering(model: type[Grant] | type[AccessRequest], report: Report) -> ColumnElement[bool]:
    """Scopes that include ``report``: the report itself, its series or its category (as the
    policy's grant rule matches them)."""
    scopes = [model.report_id == report.id, model.category == report.category]
    if report.series:
        scopes.append(model.series == report.series)
    return or_(*scopes)


def access_holders(db: DbSession, caller: Caller, report_id: str) -> Holders:
    """Live grants (with their expiry) covering the report, approved requests for it, and the
    active acceptances of the agreement its downloads need. Raises NotFound,
    PermissionDenied."""
    report = get_report(db, caller, report_id, "report.access")
    grants = db.scalars(
        select(Grant)
        .where(
            _covering(Grant, report),
            Grant.revoked_at.is_(None),
            or_(Grant.expires_at.is_(None), Grant.expires_at > utcnow()),
        )
        .options(selectinload(Grant.user), selectinload(Grant.organization))
        .order_by(Grant.created_at.desc())
    )
    requests = db.scalars(
        select(AccessRequest)
        .where(_covering(AccessRequest, report), AccessRequest.state == RequestState.APPROVED)
        .options(selectinload(AccessRequest.user))
        .order_by(AccessRequest.decided_at.desc())
    )
    acceptances: list[Acceptance] = []
    if report.terms_agreement_id:
        acceptances = list(
            db.scalars(
                policy.active_acceptances(
                    select(Acceptance).where(Acceptance.agreement_id == report.terms_agreement_id)
                )
                .options(selectinload(Acceptance.user), selectinload(Acceptance.organization))
                .order_by(Acceptance.accepted_at.desc())
            )
        )
    return Holders(report, list(grants), list(requests), acceptances)


def recent_downloads(
    db: DbSession, caller: Caller, report_id: str, limit: int = RECENT_DOWNLOADS
) -> list[RecentDownload]:
    """The latest downloads of the report, newest first, with the downloader's name and
    organisation as recorded. Raises NotFound, PermissionDenied."""
    report = get_report(db, caller, report_id, "report.access")
    rows = db.execute(
        select(DownloadReceipt, User.name)
        .outerjoin(User, User.id == DownloadReceipt.user_id)
        .where(DownloadReceipt.report_id == report.id)
        .options(selectinload(DownloadReceipt.version))
        .order_by(DownloadReceipt.created_at.desc())
        .limit(limit)
    ).all()
    return [
        RecentDownload(
            at=receipt.created_at,
            name=name or "",
            email=receipt.email or "",
            organization=receipt.organization or "",
            version=receipt.version.number,
            receipt=receipt.id,
        )
        for receipt, name in rows
    ]


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def holders_json(holders: Holders) -> dict[str, Any]:
    return {
        "grants": [
            {
                "id": g.id,
                "scope": "report" if g.report_id else ("series" if g.series else "category"),
                "user": g.user.email if g.user else None,
                "name": g.user.name if g.user else None,
                "organization": g.organization.name if g.organization else None,
                "expires_at": _when(g.expires_at),
                "created_at": _when(g.created_at),
            }
            for g in holders.grants
        ],
        "approved_requests": [
            {
                "id": r.id,
                "scope": "report" if r.report_id else ("series" if r.series else "category"),
                "user": r.user.email,
                "name": r.user.name,
                "decided_at": _when(r.decided_at),
                "expires_at": _when(r.expires_at),
                "grant_id": r.grant_id,
            }
            for r in holders.approved_requests
        ],
        "acceptances": [
            {
                "id": a.id,
                "scope": a.scope,
                "user": a.user.email,
                "name": a.user.name,
                "organization": a.organization.name if a.organization else None,
                "version": a.version_number,
                "accepted_at": _when(a.accepted_at),
            }
            for a in holders.acceptances
        ],
    }


def download_json(download: RecentDownload) -> dict[str, Any]:
    return {
        "at": download.at.isoformat(),
        "name": download.name,
        "email": download.email,
        "organization": download.organization,
        "version": download.version,
        "receipt": download.receipt,
    }
