"""Coverage: what covers each requirement of a framework, and how fresh it is.

Evidence covers the requirements it is linked to (direct) and, through crosswalk mappings,
the requirements those map to (inferred, with the relationship and the mapping's origin).
Reports cover whole frameworks: ``Report.frameworks`` holds names such as "ISO/IEC 27001:2022"
or "SOC 2", matched to framework keys by ``report_names_framework`` (below); a report covers
every requirement of a framework it names, and through mappings (inferred) the requirements
mapped to them. Only current reports count (published, status current or expiring: see
``catalog.services.validity``), listed to the caller by the policy.

Freshness (staff only), the way AWS Config compares recorded with desired state: each
assessable requirement is covered (current approved evidence, direct or inferred), expiring
(covered, but all of it expires within 30 days), stale (only expired or unapproved evidence),
or missing (no evidence at all).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from artifact import policy
from artifact.catalog.services.reports import report_statuses
from artifact.catalog.services.validity import Status
from artifact.frameworks.services import MappedTo, framework_mappings, requirements_of
from artifact.kernel.caller import Caller
from artifact.models import Evidence, EvidenceLink, Framework, Report, Requirement
from artifact.models.base import DbSession
from artifact.models.catalog import State

EXPIRING_DAYS = 30
STATUSES = ("covered", "expiring", "stale", "missing")
_IGNORED_TOKENS = {"iec", "v", "version", "the"}
_ASSESSABLE_KINDS = {"control", "enhancement", "article"}


def name_tokens(name: str) -> list[str]:
    """'ISO/IEC 27001:2022' -> ['iso', '27001', '2022']; 'soc2-tsc-2017' -> ['soc', '2',
    'tsc', '2017']: letters and digits apart, case and punctuation ignored, 'IEC' and a
    version's 'v' dropped."""
    return [t for t in re.findall(r"[a-z]+|\d+", name.casefold()) if t not in _IGNORED_TOKENS]


def report_names_framework(report_name: str, framework: Framework) -> bool:
    """A report's framework name names ``framework`` when its tokens are the whole key, or a
    leading part of the key's or title's tokens: "SOC 2" names ``soc2-tsc-2017``,
    "ISO/IEC 27001:2022" names ``iso27001-2022``, "ISO 27001" names every ISO 27001 version,
    while "ISO/IEC 27017:2015" names neither."""
    wanted = name_tokens(report_name)
    if not wanted:
        return False
    return any(
        tokens[: len(wanted)] == wanted
        for tokens in (name_tokens(framework.key), name_tokens(framework.title))
    )


@dataclass(frozen=True)
class EvidenceHit:
    evidence: Evidence
    inferred: bool = False
    via: str | None = None  # the requirement linked to it, for inferred coverage
    relationship: str | None = None
    origin: str | None = None


@dataclass(frozen=True)
class ReportHit:
    report: Report
    inferred: bool = False
    via: str | None = None
    relationship: str | None = None
    origin: str | None = None


@dataclass
class RequirementCoverage:
    requirement: Requirement
    assessable: bool
    evidence: list[EvidenceHit] = field(default_factory=list)
    reports: list[ReportHit] = field(default_factory=list)
    status: str | None = None  # for staff only


@dataclass
class FrameworkCoverage:
    framework: Framework
    today: date
    show_evidence: bool
    reports: list[Report]
    rows: list[RequirementCoverage]

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(r.status for r in self.rows if r.assessable and r.status)
        return {status: found.get(status, 0) for status in STATUSES}

    def by_id(self) -> dict[str, RequirementCoverage]:
        return {row.requirement.id: row for row in self.rows}


def status_of(hits: list[EvidenceHit], today: date) -> str:
    current = [h.evidence for h in hits if h.evidence.is_current_approved(today)]
    if current:
        horizon = today + timedelta(days=EXPIRING_DAYS)
        lasting = any(e.expires_on is None or e.expires_on > horizon for e in current)
        return "covered" if lasting else "expiring"
    return "stale" if hits else "missing"


def current_reports(db: DbSession, caller: Caller, today: date) -> list[Report]:
    """Reports listed to the caller that are current (published, current or expiring)."""
    stmt = policy.listed(select(Report), caller).where(Report.state == State.PUBLISHED)
    found = list(db.scalars(stmt.order_by(Report.title)))
    statuses = report_statuses(db, caller, found, today)
    return [r for r in found if statuses[r.id] in (Status.CURRENT, Status.EXPIRING)]


def _reports_for(reports: list[Report], framework: Framework) -> list[Report]:
    return [
        r
        for r in reports
        if any(report_names_framework(name, framework) for name in r.frameworks or [])
    ]


def _links_by_requirement(db: DbSession, requirement_ids: set[str]) -> dict[str, list[Evidence]]:
    found: dict[str, list[Evidence]] = defaultdict(list)
    ids = sorted(requirement_ids)
    for start in range(0, len(ids), 500):
        stmt = (
            select(EvidenceLink)
            .where(EvidenceLink.requirement_id.in_(ids[start : start + 500]))
            .options(
                selectinload(EvidenceLink.evidence).selectinload(Evidence.versions),
                selectinload(EvidenceLink.evidence).selectinload(Evidence.approvals),
            )
        )
        for link in db.scalars(stmt):
            found[link.requirement_id].append(link.evidence)
    return found


def framework_coverage(
    db: DbSession,
    caller: Caller,
    framework: Framework,
    today: date,
    requirements: list[Requirement] | None = None,
    mappings: dict[str, list[MappedTo]] | None = None,
) -> FrameworkCoverage:
    """Coverage of every requirement of ``framework`` as ``caller`` may see it: evidence only for
    those who may list evidence (staff), reports filtered by the policy. A page that already
    read the requirements and mappings (with ``caller``) passes them in."""
    if requirements is None:
        requirements = requirements_of(db, caller, framework)
    if mappings is None:
        mappings = framework_mappings(db, caller, framework)
    show_evidence = bool(policy.decide(caller, "evidence.list"))
    parents = {r.parent_id for r in requirements if r.parent_id}
    mapped_ids = {m.requirement_id for items in mappings.values() for m in items}
    links = (
        _links_by_requirement(db, {r.id for r in requirements} | mapped_ids)
        if show_evidence
        else {}
    )
    reports = current_reports(db, caller, today)
    direct_reports = _reports_for(reports, framework)
    other_keys = {m.name.partition(":")[0] for items in mappings.values() for m in items}
    others: list[Framework] = (
        list(db.scalars(select(Framework).where(Framework.key.in_(other_keys))))
        if other_keys
        else []
    )
    reports_by_key = {f.key: _reports_for(reports, f) for f in others}
    rows = []
    for requirement in requirements:
        row = RequirementCoverage(
            requirement,
            assessable=not requirement.withdrawn
            and (requirement.kind in _ASSESSABLE_KINDS or requirement.id not in parents),
        )
        row.evidence = [EvidenceHit(e) for e in links.get(requirement.id, [])]
        row.reports = [ReportHit(r) for r in direct_reports]
        for mapped in mappings.get(requirement.id, []):
            how = (True, mapped.name, mapped.relationship, mapped.origin)
            row.evidence += [EvidenceHit(e, *how) for e in links.get(mapped.requirement_id, [])]
            row.reports += [
                ReportHit(r, *how) for r in reports_by_key.get(mapped.name.partition(":")[0], [])
            ]
        if show_evidence:
            row.status = status_of(row.evidence, today)
        rows.append(row)
    return FrameworkCoverage(framework, today, show_evidence, direct_reports, rows)


def coverage_json(coverage: FrameworkCoverage) -> dict[str, Any]:
    """The API shape: evidence and the freshness status only for staff."""
    items = []
    for row in coverage.rows:
        item: dict[str, Any] = {
            "requirement_id": row.requirement.id,
            "ref": row.requirement.ref,
            "name": f"{coverage.framework.key}:{row.requirement.ref}",
            "title": row.requirement.title,
            "assessable": row.assessable,
            "reports": [
                {
                    "id": h.report.id,
                    "title": h.report.title,
                    "inferred": h.inferred,
                    "via": h.via,
                    "relationship": h.relationship,
                    "origin": h.origin,
                }
                for h in row.reports
                if h.inferred
            ],
        }
        if coverage.show_evidence:
            item["status"] = row.status
            item["evidence"] = [
                {
                    "id": h.evidence.id,
                    "title": h.evidence.title,
                    "state": h.evidence.display_state(coverage.today),
                    "counts": h.evidence.is_current_approved(coverage.today),
                    "expires_on": h.evidence.expires_on.isoformat()
                    if h.evidence.expires_on
                    else None,
                    "inferred": h.inferred,
                    "via": h.via,
                    "relationship": h.relationship,
                    "origin": h.origin,
                }
                for h in row.evidence
            ]
        items.append(item)
    body: dict[str, Any] = {
        "framework": {
            "id": coverage.framework.id,
            "key": coverage.framework.key,
            "title": coverage.framework.title,
        },
        "reports": [{"id": r.id, "title": r.title} for r in coverage.reports],
        "items": items,
        "total": len(items),
    }
    if coverage.show_evidence:
        body["summary"] = coverage.counts
    return body
