"""How long a report is good for, and its status: the one place that decides (pure functions,
no database).

- A certificate (category ``certifications``) is valid until its period ends (its expiry).
- An attestation report (category ``reports``, e.g. SOC) is read as current for 12 months after
  its period ends.
- A ``valid_until`` set by staff wins; other categories have no validity end unless staff set one.

Status: ``superseded`` when a newer current report exists in the same series, else ``expired``
past ``valid_until``, ``expiring`` within 60 days of it, else ``current``."""

from __future__ import annotations

import calendar
import enum
from collections.abc import Iterable
from datetime import date
from typing import Protocol

CERTIFICATES = "certifications"
ATTESTATION_REPORTS = "reports"
ATTESTATION_MONTHS = 12
EXPIRING_DAYS = 60


class Status(enum.StrEnum):
    CURRENT = "current"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


STATUS_LABELS = {
    Status.CURRENT: "Current",
    Status.EXPIRING: "Expiring soon",
    Status.EXPIRED: "Expired",
    Status.SUPERSEDED: "Superseded",
}


class Dated(Protocol):
    """What the rules read of a report (a ``Report`` or a row selecting these columns)."""

    @property
    def id(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def series(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def period_end(self) -> date | None: ...
    @property
    def issued_on(self) -> date | None: ...
    @property
    def valid_until(self) -> date | None: ...
    @property
    def bridges_report_id(self) -> str | None: ...


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months; a day the month lacks becomes its last (29 Feb + 12
    months is 28 Feb)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def default_valid_until(category: str, period_end: date | None) -> date | None:
    """The validity end a report's category gives it when staff set none."""
    if period_end is None:
        return None
    if category == CERTIFICATES:
        return period_end
    if category == ATTESTATION_REPORTS:
        return add_months(period_end, ATTESTATION_MONTHS)
    return None


def valid_until(report: Dated) -> date | None:
    """Staff's ``valid_until`` if set, else the category's default."""
    return report.valid_until or default_valid_until(report.category, report.period_end)


def dated_status(until: date | None, today: date) -> Status:
    """The status by the validity end alone (no end: current)."""
    if until is None:
        return Status.CURRENT
    if until < today:
        return Status.EXPIRED
    if (until - today).days <= EXPIRING_DAYS:
        return Status.EXPIRING
    return Status.CURRENT


def _recency(report: Dated) -> date | None:
    """What "newer" compares: the end of the period covered, else the issue date."""
    return report.period_end or report.issued_on


def is_successor(candidate: Dated, report: Dated, today: date) -> bool:
    """Does ``candidate`` supersede ``report``: a published, current (or expiring) report of the
    same series (compared case-insensitively) whose period ends later (else issued later)?
    Bridge letters supersede nothing; undated reports are never compared."""
    if candidate.id == report.id or not report.series or candidate.bridges_report_id:
        return False
    if candidate.state != "published" or candidate.series.casefold() != report.series.casefold():
        return False
    mine, theirs = _recency(report), _recency(candidate)
    if mine is None or theirs is None or theirs <= mine:
        return False
    return dated_status(valid_until(candidate), today) is not Status.EXPIRED


def status(report: Dated, peers: Iterable[Dated], today: date) -> Status:
    """The report's status among ``peers`` (the reports its reader may see)."""
    if any(is_successor(peer, report, today) for peer in peers):
        return Status.SUPERSEDED
    return dated_status(valid_until(report), today)
