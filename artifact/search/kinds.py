"""Every searchable kind of record, declared once (``KINDS``): what the index holds for it, what
of it a caller may find (its scope rule, from the policy, at query time: visibility is never
in the index), and the page a hit links to. The indexer, the search service and the search
page know nothing kind-specific beyond this registry; adding a kind is one ``Kind`` here.

File text is read through a ``FileText`` callable (the indexer's, which decrypts the blob after
the commit): it takes a report or evidence version and returns the text of each page."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select

from artifact import policy
from artifact.infra.search.backend import Entry, Scope, parent_key
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
) -> list[Entry]:
    """The metadata entry, and for each version of the file (number, current, text of each
    page): one doc entry (the whole file; the current one also holds the metadata) and one
    entry per page."""
    entries = [Entry(kind, record_id, title, meta_text, has_file=bool(files), **facets)]
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


def report_entries(report: Report, files: list[tuple[int, bool, list[str]]]) -> list[Entry]:
    """The metadata entry, and the entries of every live version of its file
    (``file_entries``)."""
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
    return file_entries("report", report.id, report.title, meta_text, facets, files)


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
    return report_entries(report, _files(live, report.current_version(), pages))


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
    """The reports ``policy.listed`` lists (one SQL query: visible, and not hidden from lists
    unless the caller is staff), and among those the files the caller may download now.
    Where it filters nothing (staff) the whole kind is in scope and only the agreements gating
    downloads are read (one query, plus the caller's acceptances of those). Which files:
    ``policy.may_download``, as for the download itself."""
    met = _terms_met(db, caller)
    stmt: Select[Any] = select(Report.id, Report.terms_agreement_id)  # type: ignore[assignment]
    filtered = policy.listed(stmt, caller)
    if filtered is stmt:  # the policy filters nothing: every report's metadata
        gates = db.execute(select(Report.terms_agreement_id).distinct()).all()
        if all(policy.may_download(caller, gate, met, known_visible=True) for gate in gates):
            return Scope(types=frozenset({"report"}))
        rows = db.execute(stmt).all()
        return Scope(
            meta_parents=frozenset(parent_key("report", r) for r, _t in rows),
            file_parents=_downloadable(caller, rows, met),
        )
    rows = db.execute(filtered).all()
    return Scope(
        meta_parents=frozenset(parent_key("report", r) for r, _t in rows),
        file_parents=_downloadable(caller, rows, met),
    )


def _downloadable(caller: Caller, rows: Iterable[Any], met: policy.TermsMet) -> frozenset[str]:
    """The reports among ``rows`` (visible ones: id, terms_agreement_id) whose file ``caller``
    may download now."""
    return frozenset(
        parent_key("report", row.id)
        for row in rows
        if policy.may_download(caller, row, met, known_visible=True)
    )


def _terms_met(db: DbSession, caller: Caller) -> policy.TermsMet:
    """Has ``caller`` accepted the current version of an agreement? One look-up per agreement
    for this search."""

    @functools.cache
    def met(agreement_id: str) -> bool:
        return policy.terms_met(db, caller, agreement_id)

    return met


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
