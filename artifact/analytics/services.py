"""Downloads and acceptances counted by report, organisation or week, over a date range.

What is counted: a download is a download receipt (one per copy handed out; HEAD requests make
no copy and are not counted); an acceptance is an acceptance record (terminated ones included:
the acceptance happened). By report, a report's acceptances are those of the agreement its
downloads need (its terms), so an NDA accepted once counts for every report it gates. By
organisation, a download counts for the organisation recorded on its receipt (the one named
in the watermark), an acceptance for the organisation recorded with it."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, func, select

from artifact import policy
from artifact.agreements.services.records import csv_safe
from artifact.audit.services import chain as audit
from artifact.kernel.caller import Caller
from artifact.kernel.errors import ValidationFailed
from artifact.models import Acceptance, DownloadReceipt, Organization, Report
from artifact.models.base import DbSession

GROUPS = ("report", "organization", "week")
GROUP_TITLES = {"report": "Report", "organization": "Organisation", "week": "Week"}
NO_ORGANIZATION = "none"
# A week axis longer than this (about ten years) is refused rather than drawn.
MAX_WEEKS = 530
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    downloads: int
    acceptances: int


@dataclass(frozen=True)
class Period:
    start: date | None
    end: date | None

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """[start 00:00 UTC, the day after end 00:00 UTC)."""
        low = datetime.combine(self.start, time(), UTC) if self.start else None
        high = datetime.combine(self.end + timedelta(days=1), time(), UTC) if self.end else None
        return low, high


def parse_day(value: str | None, name: str) -> date | None:
    """``YYYY-MM-DD`` or empty. Raises ValidationFailed naming ``name``."""
    if value is None or value == "":
        return None
    if not _DAY.fullmatch(value):
        raise ValidationFailed(f"{name!r} must be a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise ValidationFailed(f"{name!r} is not a real date: {value}") from error


def parse_period(start: str | None, end: str | None) -> Period:
    """The range from the ``from`` and ``to`` arguments (both days included).
    Raises ValidationFailed for a malformed date or a start after the end."""
    period = Period(parse_day(start, "from"), parse_day(end, "to"))
    if period.start and period.end and period.start > period.end:
        raise ValidationFailed("'from' is after 'to'")
    if period.end and period.end == date.max:
        raise ValidationFailed("'to' is too far in the future")
    return period


def parse_group(value: str | None) -> str:
    """``report`` when absent. Raises ValidationFailed for anything but the known groups."""
    group = "report" if value is None else value
    if group not in GROUPS:
        raise ValidationFailed(f"unknown group {group!r}; choose one of {', '.join(GROUPS)}")
    return group


_S = TypeVar("_S", bound=Select[*tuple[Any, ...]])


def _within(stmt: _S, column: Any, period: Period) -> _S:
    low, high = period.bounds()
    if low is not None:
        stmt = stmt.where(column >= low)
    if high is not None:
        stmt = stmt.where(column < high)
    return stmt


def _by_report(db: DbSession, period: Period) -> list[Row]:
    downloads = dict(
        db.execute(
            _within(
                select(DownloadReceipt.report_id, func.count()).group_by(DownloadReceipt.report_id),
                DownloadReceipt.created_at,
                period,
            )
        ).all()
    )
    per_agreement = dict(
        db.execute(
            _within(
                select(Acceptance.agreement_id, func.count()).group_by(Acceptance.agreement_id),
                Acceptance.accepted_at,
                period,
            )
        ).all()
    )
    rows = []
    reports = db.execute(select(Report.id, Report.title, Report.terms_agreement_id)).all()
    for report_id, title, agreement_id in reports:
        accepted = per_agreement.get(agreement_id, 0) if agreement_id else 0
        taken = downloads.get(report_id, 0)
        if taken or accepted:
            rows.append(Row(report_id, title, int(taken), int(accepted)))
    return rows


def _by_organization(db: DbSession, period: Period) -> list[Row]:
    names: dict[str, str] = {
        name: org_id for name, org_id in db.execute(select(Organization.name, Organization.id))
    }
    labels = {org_id: name for name, org_id in names.items()}
    downloads: Counter[str] = Counter()
    stmt = select(DownloadReceipt.organization, func.count()).group_by(DownloadReceipt.organization)
    for name, count in db.execute(_within(stmt, DownloadReceipt.created_at, period)).all():
        if not name:
            key = NO_ORGANIZATION
        else:
            # An organisation renamed since keeps its old name on older receipts.
            key = names.get(name) or f"name:{name}"
            labels.setdefault(key, name)
        downloads[key] += int(count)
    accepted: Counter[str] = Counter()
    stmt = select(Acceptance.organization_id, func.count()).group_by(Acceptance.organization_id)
    for org_id, count in db.execute(_within(stmt, Acceptance.accepted_at, period)).all():
        accepted[org_id or NO_ORGANIZATION] += int(count)
    labels[NO_ORGANIZATION] = "No organisation (visitors and individual accounts)"
    return [
        Row(key, labels.get(key, key), downloads[key], accepted[key])
        for key in set(downloads) | set(accepted)
    ]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weeks(moments: Iterable[datetime]) -> Counter[date]:
    return Counter(_monday(moment.astimezone(UTC).date()) for moment in moments)


def _by_week(db: DbSession, period: Period) -> list[Row]:
    downloads = _weeks(
        db.scalars(_within(select(DownloadReceipt.created_at), DownloadReceipt.created_at, period))
    )
    accepted = _weeks(
        db.scalars(_within(select(Acceptance.accepted_at), Acceptance.accepted_at, period))
    )
    seen = set(downloads) | set(accepted)
    first = _monday(period.start) if period.start else min(seen, default=None)
    last = _monday(period.end) if period.end else max(seen, default=None)
    if first is None or last is None:
        return []
    if (last - first).days // 7 >= MAX_WEEKS:
        raise ValidationFailed(f"the range spans more than {MAX_WEEKS} weeks; choose a shorter one")
    rows, week = [], first
    while week <= last:  # every week of the range, quiet ones included
        year, number, _day = week.isocalendar()
        rows.append(
            Row(
                f"{year}-W{number:02d}",
                f"Week of {week.isoformat()}",
                downloads[week],
                accepted[week],
            )
        )
        week += timedelta(days=7)
    return rows


def downloads_by(db: DbSession, caller: Caller, period: Period, group: str) -> list[Row]:
    """The counts per ``group`` in ``period``: reports and organisations most downloaded first,
    weeks in order. Raises PermissionDenied (staff only), ValidationFailed."""
    policy.require(caller, "analytics.view")
    group = parse_group(group)
    if group == "week":
        return _by_week(db, period)
    rows = _by_report(db, period) if group == "report" else _by_organization(db, period)
    return sorted(rows, key=lambda row: (-row.downloads, -row.acceptances, row.label.casefold()))


def export_csv(db: DbSession, caller: Caller, period: Period, group: str) -> tuple[str, str]:
    """The counts as CSV (cells a spreadsheet would run as formulas are neutralised) and a file
    name; the export is audited."""
    rows = downloads_by(db, caller, period, group)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([group, "key", "downloads", "acceptances"])
    for row in rows:
        writer.writerow([csv_safe(row.label), csv_safe(row.key), row.downloads, row.acceptances])
    audit.record(
        db,
        caller,
        "analytics.export",
        target_type="analytics",
        target_id=group,
        details={
            "group": group,
            "from": period.start.isoformat() if period.start else None,
            "to": period.end.isoformat() if period.end else None,
            "rows": len(rows),
        },
    )
    span = "-".join(d.isoformat() for d in (period.start, period.end) if d) or "all"
    return out.getvalue(), f"downloads-by-{group}-{span}.csv"
