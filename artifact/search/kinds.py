"""Every searchable kind of record, declared once (``KINDS``): what the index holds for it, what
of it a caller may find (its scope rule, from the policy, at query time: acceptances are never
in the index, and of grants only the grantees of those without an expiry, on the report), and
the page a hit links to. The indexer, the search service and the search page know nothing
kind-specific beyond this registry; adding a kind is one ``Kind`` here.

File text is read through a ``FileText`` callable (the indexer's, which decrypts the blob after
the commit): it takes a report or evidence version and returns the text of each page."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select

from artifact import policy
from artifact.infra.search.backend import Entry, Rule, Scope, parent_key
from artifact.kernel.caller import Caller
from artifact.models import Agreement, Evidence, Report, Requirement
from artifact.models.base import DbSession, IdMixin

# A version (ReportVersion or EvidenceVersion, or None) -> the text of each page of its file.
FileText = Callable[[Any], list[str]]
# (db, record id, file text) -> the record's entries; none when the record is gone.
Entries = Callable[[DbSession, str, FileText], list[Entry]]
# (db, caller) -> what of this kind the caller may find now.
ScopeRule = Callable[[DbSession, Caller], Scope]
# (db, record ids) -> the id of the record whose page shows each of them.
Locate = Callable[[DbSession, list[str]], dict[str, str]]


@dataclass(frozen=True)
class Kind:
    """One searchable kind: ``entries`` of a record, the caller's ``scope``, and the page a hit
    links to (``endpoint`` with ``url_arg`` = the record's id, or with the id ``locate`` finds
    when the record is shown on another record's page)."""

    name: str
    model: type[IdMixin]
    entries: Entries
    scope: ScopeRule
    endpoint: str
    url_arg: str
    locate: Locate | None = None
    download: str | None = None  # the endpoint of its file's (stamped) copy, by ``url_arg``

    def ids(self, db: DbSession) -> Iterator[str]:
        """Every record of this kind (what a rebuild indexes)."""
        yield from db.scalars(select(self.model.id))


# What the index holds ------------------------------------------------------------------------


def _years(start: date | None, end: date | None) -> tuple[str, ...]:
    if start is None and end is None:
        return ()
    first, last = (start or end), (end or start)
    assert first is not None
    assert last is not None
    return tuple(str(y) for y in range(first.year, min(last.year, first.year + 10) + 1))


def file_entries(
    kind: str,
    record_id: str,
    title: str,
    meta_text: str,
    facets: dict[str, Any],
    files: list[tuple[int, bool, list[str]]],
    attrs: tuple[str, ...] = (),
) -> list[Entry]:
    """The metadata entry, and for each version of the file (number, current, text of each
    page): one doc entry (the whole file; the current one also holds the metadata) and one
    entry per page."""
    entries = [
        Entry(kind, record_id, title, meta_text, has_file=bool(files), attrs=attrs, **facets)
    ]
    for number, current, pages in files:
        body = [meta_text] if current else []
        body += [text for text in pages if text.strip()]
        entries.append(
            Entry(
                kind,
                record_id,
                title,
                " \n".join(body),
                part="doc",
                version=number,
                current=current,
                shown=meta_text,
                attrs=attrs,
                **facets,
            )
        )
        entries.extend(
            Entry(
                kind,
                record_id,
                title,
                text,
                part="page",
                page=page,
                version=number,
                current=current,
            )
            for page, text in enumerate(pages, start=1)
            if text.strip()
        )
    return entries


def report_entries(
    report: Report, files: list[tuple[int, bool, list[str]]], grantees: tuple[str, ...] = ()
) -> list[Entry]:
    """The metadata entry, and the entries of every live version of its file
    (``file_entries``); ``grantees``: ``policy.standing_grantees`` of the report."""
    facets: dict[str, Any] = {
        "category": (report.category,),
        "series": (report.series,),
        "framework": tuple(report.frameworks or ()),
        "year": _years(report.period_start, report.period_end),
    }
    meta_text = " \n".join(
        x
        for x in (
            report.title,
            report.series,
            report.issuer,
            report.product,
            " ".join(report.frameworks or ()),
            report.description,
        )
        if x
    )
    return file_entries(
        "report", report.id, report.title, meta_text, facets, files, report_attrs(report, grantees)
    )


def report_attrs(report: Report, grantees: tuple[str, ...] = ()) -> tuple[str, ...]:
    """What ``report_rule`` selects a report by (``policy.ReportReach``'s classes)."""
    return (
        *(f"to/{g}" for g in grantees),
        f"state/{report.state}",
        f"visibility/{report.visibility}",
        f"listing/{report.listing}",
        f"series/{report.series}",
        f"category/{report.category}",
        f"gate/{report.terms_agreement_id or '-'}",
        f"id/{report.id}",
    )


def agreement_entries(agreement: Agreement) -> list[Entry]:
    if not agreement.versions:
        return []
    current = agreement.current
    return [
        Entry(
            "agreement",
            agreement.id,
            agreement.title,
            f"{agreement.title}\n{current.text}",
            category=("agreements",),
            series=(agreement.kind,),
            year=(str(current.created_at.year),),
        )
    ]


def requirement_entries(requirement: Requirement) -> list[Entry]:
    framework = requirement.framework
    title = f"{framework.key}:{requirement.ref} {requirement.title}".strip()
    text = f"{requirement.ref}\n{requirement.title}\n{requirement.text}"
    return [
        Entry(
            "requirement",
            requirement.id,
            title,
            text,
            category=(framework.category,),
            framework=(framework.key,),
        )
    ]


def evidence_entries(evidence: Evidence, files: list[tuple[int, bool, list[str]]]) -> list[Entry]:
    """Staff-only: the metadata (title, description, owner, the requirements it addresses as
    ``framework:ref``) and the entries of every version's text (PDF pages; a text or CSV file
    in page-sized pieces; ``file_entries``)."""
    names = sorted(link.requirement.name for link in evidence.links)
    facets: dict[str, Any] = {
        "category": ("evidence",),
        "framework": tuple(sorted({link.requirement.framework.key for link in evidence.links})),
        "year": (str(evidence.effective_date.year),),
    }
    owner = evidence.owner
    meta_text = " \n".join(
        x
        for x in (
            evidence.title,
            evidence.description,
            owner.name if owner else "",
            owner.email if owner else "",
            " ".join(names),
        )
        if x
    )
    return file_entries("evidence", evidence.id, evidence.title, meta_text, facets, files)


def _files(versions: list[Any], current: Any, pages: FileText) -> list[tuple[int, bool, list[str]]]:
    """Every version's number, whether it is the current one, and the text of its pages."""
    return [(v.number, v is current, pages(v)) for v in versions]


def _load_report(db: DbSession, record_id: str, pages: FileText) -> list[Entry]:
    report = db.get(Report, record_id)
    if report is None:
        return []
    live = [v for v in report.versions if v.purged_at is None]
    files = _files(live, report.current_version(), pages)
    return report_entries(report, files, policy.standing_grantees(db, report.id))


def _load_agreement(db: DbSession, record_id: str, pages: FileText) -> list[Entry]:
    agreement = db.get(Agreement, record_id)
    return agreement_entries(agreement) if agreement is not None else []


def _load_requirement(db: DbSession, record_id: str, pages: FileText) -> list[Entry]:
    requirement = db.get(Requirement, record_id)
    return requirement_entries(requirement) if requirement is not None else []


def _load_evidence(db: DbSession, record_id: str, pages: FileText) -> list[Entry]:
    evidence = db.get(Evidence, record_id)
    if evidence is None:
        return []
    return evidence_entries(
        evidence, _files(list(evidence.versions), evidence.current_version(), pages)
    )


# What a caller may find ----------------------------------------------------------------------
# Computed for each search (nothing is cached across searches, so a revoked grant or an
# accepted agreement counts at once).


def _whole_kind(kind: str, action: str) -> ScopeRule:
    """Every record of ``kind`` (and its files) for a caller ``action`` allows, else nothing."""

    def rule(db: DbSession, caller: Caller) -> Scope:
        return Scope(types=frozenset({kind})) if policy.decide(caller, action) else Scope()

    return rule


def _report_scope(db: DbSession, caller: Caller) -> Scope:
    """The reports ``policy.listed`` lists and among those the files the caller may download
    now (``policy.may_download``), as ``policy.report_reach`` states them: classes of report
    attributes and the handful of grants and agreements the caller holds, never a list of
    reports (kept per policy generation: no query once kept, a few small ones otherwise,
    whatever the size of the catalog)."""
    return report_rule(policy.kept_report_reach(db, caller))


@functools.lru_cache(maxsize=256)
def report_rule(reach: policy.ReportReach) -> Scope:
    """The scope of ``reach`` (kept per reach: a kept ``ReportReach`` yields the same scope,
    whose filter the backend keeps built)."""
    if reach.everything:
        if reach.files and reach.gates_met is None:
            return Scope(types=frozenset({"report"}))
        return Scope(rules=(Rule("report", (), _file_groups(reach)),))
    if not reach.states:
        return Scope()
    seen = (
        frozenset(f"state/{s}" for s in reach.states),
        frozenset({"listing/listed"}),
        frozenset(
            [f"visibility/{v}" for v in reach.open]
            + [f"to/{g}" for g in reach.grantees]
            + [f"id/{i}" for i in reach.granted_ids]
            + [f"series/{s}" for s in reach.granted_series]
            + [f"category/{c}" for c in reach.granted_categories]
        ),
    )
    return Scope(rules=(Rule("report", seen, _file_groups(reach)),))


def _file_groups(reach: policy.ReportReach) -> tuple[frozenset[str], ...] | None:
    if not reach.files:
        return None
    if reach.gates_met is None:
        return ()
    return (frozenset({"gate/-"} | {f"gate/{a}" for a in reach.gates_met}),)


def confirm_reports(db: DbSession, caller: Caller, ids: list[str]) -> tuple[set[str], set[str]]:
    """Of the reports ``ids`` (a page of hits), those ``policy.listed`` shows ``caller`` and
    those whose file they may download now (``policy.may_download``), from the policy's answers
    kept per generation (``listed_report_gates``, ``kept_report_reach``; worked out from the
    database when the generation moved): the index's attributes are written after each commit,
    so a hit it returns is checked against the committed policy before it is shown."""
    if not ids:
        return set(), set()
    gates = policy.listed_report_gates(db, caller)
    rows = [_Gated(i, gates[i]) for i in dict.fromkeys(ids) if i in gates]
    # When the terms gate applies and the caller may download, ``gates_met`` names every
    # gating agreement they have met (``may_download`` asks nothing otherwise).
    met = policy.kept_report_reach(db, caller).gates_met or frozenset()
    files = {
        r.id for r in rows if policy.may_download(caller, r, met.__contains__, known_visible=True)
    }
    return {r.id for r in rows}, files


@dataclass(frozen=True)
class _Gated:
    id: str
    terms_agreement_id: str | None


def _evidence_scope(db: DbSession, caller: Caller) -> Scope:
    """Evidence (staff only today): every item when ``policy.visible`` filters nothing, else
    the items it lists; files only with evidence.download."""
    if not policy.decide(caller, "evidence.view"):
        return Scope()
    may_download = bool(policy.decide(caller, "evidence.download"))
    stmt: Select[Any] = select(Evidence.id)
    filtered = policy.visible(stmt, caller, Evidence)
    if filtered is stmt:
        if may_download:
            return Scope(types=frozenset({"evidence"}))
        return Scope(meta_types=frozenset({"evidence"}))
    ids = frozenset(parent_key("evidence", i) for i in db.scalars(filtered))
    return Scope(meta_parents=ids, file_parents=ids if may_download else frozenset())


# Where a hit is shown ------------------------------------------------------------------------


def _frameworks_of(db: DbSession, requirement_ids: list[str]) -> dict[str, str]:
    """A requirement is shown in its framework's tree (one query for the page of hits)."""
    if not requirement_ids:
        return {}
    rows = db.execute(
        select(Requirement.id, Requirement.framework_id).where(Requirement.id.in_(requirement_ids))
    )
    return {row[0]: row[1] for row in rows}


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "report",
            Report,
            _load_report,
            _report_scope,
            "catalog.detail",
            "report_id",
            download="catalog.download",
        ),
        Kind(
            "agreement",
            Agreement,
            _load_agreement,
            _whole_kind("agreement", "agreement.view"),
            "agreements.show",
            "agreement_id",
        ),
        Kind(
            "requirement",
            Requirement,
            _load_requirement,
            _whole_kind("requirement", "framework.view"),
            "frameworks.detail",
            "framework_id",
            locate=_frameworks_of,
        ),
        Kind(
            "evidence",
            Evidence,
            _load_evidence,
            _evidence_scope,
            "evidence.detail",
            "evidence_id",
            download="evidence.download",
        ),
    )
}
