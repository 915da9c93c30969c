"""The public catalog's changes as feed entries (``/feed.atom``): new reports, new versions and
status changes of the reports a visitor may see and find (``policy.listed`` for an anonymous
caller: public, published, listed). Restricted and customers-only reports, drafts, retired and
hidden reports never appear, nor does anything they ever were.

Entries are derived on every read from what is stored: a report's publication (the audit
trail's ``report.state`` event that published it, else its creation), each version uploaded
after that, and its status changes by date (``validity``): expiring 60 days before its validity
ends, expired the day after, superseded when its successor was published."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from artifact import policy
from artifact.catalog.services import validity
from artifact.kernel.caller import Caller
from artifact.models import AuditEvent, Report
from artifact.models.base import DbSession, utcnow
from artifact.models.catalog import State, Visibility

FEED_MAX = 50


@dataclass(frozen=True)
class Entry:
    key: str  # stable: report id and what happened (the feed's entry id is built from it)
    report_id: str
    title: str
    summary: str
    updated: datetime
    category: str
    series: str


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def public_reports(db: DbSession) -> list[Report]:
    stmt = select(Report).where(Report.visibility == Visibility.PUBLIC)
    return list(db.scalars(policy.listed(stmt, Caller.anonymous()).order_by(Report.id)))


def _published_at(db: DbSession, reports: list[Report]) -> dict[str, datetime]:
    """When each report was (first) published, from the audit trail."""
    found: dict[str, datetime] = {}
    if not reports:
        return found
    events = db.execute(
        select(AuditEvent.target_id, AuditEvent.details, AuditEvent.occurred_at)
        .where(
            AuditEvent.action == "report.state",
            AuditEvent.target_type == "report",
            AuditEvent.target_id.in_([r.id for r in reports]),
            AuditEvent.outcome == "success",
        )
        .order_by(AuditEvent.seq)
    ).all()
    for target_id, details, occurred_at in events:
        if json.loads(details or "{}").get("to") == State.PUBLISHED and target_id:
            found.setdefault(target_id, occurred_at)
    return found


def entries(db: DbSession, now: datetime | None = None, limit: int = FEED_MAX) -> list[Entry]:
    """The newest ``limit`` entries, newest first."""
    now = now or utcnow()
    reports = public_reports(db)
    published = _published_at(db, reports)
    found: list[Entry] = []
    for report in reports:
        since = published.get(report.id, report.created_at)
        found.extend(_report_entries(report, since, reports, published, now))
    found = [e for e in found if e.updated <= now]
    found.sort(key=lambda e: (e.updated, e.key), reverse=True)
    return found[:limit]


def _entry(report: Report, key: str, summary: str, at: datetime, title: str) -> Entry:
    return Entry(
        key=f"{report.id}/{key}",
        report_id=report.id,
        title=title,
        summary=summary,
        updated=at,
        category=report.category_label,
        series=report.series_label,
    )


def _report_entries(
    report: Report,
    since: datetime,
    peers: list[Report],
    published: dict[str, datetime],
    now: datetime,
) -> list[Entry]:
    found = [_entry(report, "published", _described(report), since, f"New report: {report.title}")]
    for version in report.versions:
        if version.purged_at is None and version.created_at > since:
            notes = f" What changed: {version.release_notes}" if version.release_notes else ""
            found.append(
                _entry(
                    report,
                    f"version/{version.number}",
                    f"Version {version.number} of {report.title} was published.{notes}",
                    version.created_at,
                    f"New version {version.number}: {report.title}",
                )
            )
    found.extend(_status_entries(report, since, peers, published, now))
    return found


def _status_entries(
    report: Report,
    since: datetime,
    peers: list[Report],
    published: dict[str, datetime],
    now: datetime,
) -> list[Entry]:
    found: list[Entry] = []
    until = validity.valid_until(report)
    if until is not None:
        expiring = _midnight(until - timedelta(days=validity.EXPIRING_DAYS))
        expired = _midnight(until + timedelta(days=1))
        if since < expiring:
            found.append(
                _entry(
                    report,
                    f"status/expiring/{until.isoformat()}",
                    f"{report.title} is valid until {until.isoformat()}.",
                    expiring,
                    f"Expiring soon: {report.title}",
                )
            )
        found.append(
            _entry(
                report,
                f"status/expired/{until.isoformat()}",
                f"{report.title} was valid until {until.isoformat()}.",
                max(expired, since),
                f"Expired: {report.title}",
            )
        )
    successors = [p for p in peers if validity.is_successor(p, report, now.date())]
    for successor in successors:
        at = published.get(successor.id, successor.created_at)
        found.append(
            _entry(
                report,
                f"status/superseded/{successor.id}",
                f"{report.title} is superseded by {successor.title}.",
                max(at, since),
                f"Superseded: {report.title}",
            )
        )
    return found


def _described(report: Report) -> str:
    parts: list[Any] = [report.category_label]
    if report.series:
        parts.append(f"series {report.series_label}")
    if report.issuer:
        parts.append(f"issued by {report.issuer}")
    if report.period_start and report.period_end:
        parts.append(f"covering {report.period_start} to {report.period_end}")
    text = ", ".join(str(p) for p in parts)
    return f"{report.title} ({text})." + (f" {report.description}" if report.description else "")
