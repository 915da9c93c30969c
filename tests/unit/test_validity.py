"""The validity rules and the status of a report (catalog/services/validity.py): pure functions,
the one place that decides."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import pytest

from artifact.catalog.services.validity import (
    Status,
    add_months,
    default_valid_until,
    status,
    valid_until,
)

TODAY = date(2026, 12, 2)


@dataclass(frozen=True)
class Dated:
    id: str = "r1"
    category: str = "reports"
    series: str = "SOC 2"
    state: str = "published"
    period_end: date | None = None
    issued_on: date | None = None
    valid_until: date | None = None
    bridges_report_id: str | None = None


def ended(months_ago: int, **kw: object) -> Dated:
    return Dated(period_end=add_months(TODAY, -months_ago), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        (ended(3), Status.CURRENT),  # a SOC 2 report read as current for 12 months
        (ended(13), Status.EXPIRED),
        (ended(11), Status.EXPIRING),  # valid for one more month: within 60 days
        (ended(0), Status.CURRENT),
        (ended(1, category="certifications"), Status.EXPIRED),  # a certificate past its expiry
        (Dated(category="certifications", period_end=TODAY + timedelta(30)), Status.EXPIRING),
        (Dated(category="certifications", period_end=TODAY + timedelta(61)), Status.CURRENT),
        (Dated(category="certifications", period_end=TODAY), Status.EXPIRING),  # its last day
        (ended(13, valid_until=TODAY + timedelta(365)), Status.CURRENT),  # staff's date wins
        (ended(3, valid_until=TODAY - timedelta(1)), Status.EXPIRED),
        (ended(60, category="regulations"), Status.CURRENT),  # no default end
        (Dated(period_end=None), Status.CURRENT),
    ],
)
def test_status_by_validity(report: Dated, expected: Status) -> None:
    assert status(report, [], TODAY) is expected


def test_defaults_per_category() -> None:
    end = date(2025, 12, 31)
    assert default_valid_until("certifications", end) == end
    assert default_valid_until("reports", end) == date(2026, 12, 31)
    assert default_valid_until("agreements", end) is None
    assert default_valid_until("reports", None) is None
    assert valid_until(Dated(period_end=end, valid_until=date(2026, 3, 31))) == date(2026, 3, 31)


def test_months_keep_the_last_day() -> None:
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2025, 12, 15), -13) == date(2024, 11, 15)


def test_a_newer_current_report_of_the_series_supersedes() -> None:
    old = ended(13, id="old")
    new = ended(1, id="new", series="soc 2")  # the series compared in any case
    assert status(old, [old, new], TODAY) is Status.SUPERSEDED
    assert status(new, [old, new], TODAY) is Status.CURRENT
    # Superseded wins over expiring, too.
    assert status(ended(11, id="mid"), [new], TODAY) is Status.SUPERSEDED


@pytest.mark.parametrize(
    "successor",
    [
        ended(1, id="new", series="SOC 3"),  # another series
        ended(1, id="new", state="draft"),  # not published
        ended(1, id="new", bridges_report_id="old"),  # a bridge letter supersedes nothing
        ended(1, id="new", category="certifications"),  # itself expired: not current
        ended(14, id="new"),  # older, not newer
    ],
)
def test_what_does_not_supersede(successor: Dated) -> None:
    old = ended(13, id="old")
    assert status(old, [successor], TODAY) is Status.EXPIRED


def test_undated_reports_and_reports_without_series_are_never_superseded() -> None:
    new = ended(1, id="new")
    assert status(Dated(id="undated"), [new], TODAY) is Status.CURRENT
    assert status(replace(ended(13, id="old"), series=""), [new], TODAY) is Status.EXPIRED
    # The issue date counts when there is no period.
    issued = Dated(id="issued", issued_on=date(2024, 1, 1))
    assert status(issued, [new], TODAY) is Status.SUPERSEDED
