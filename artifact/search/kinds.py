"""What the index holds for each kind of record. Every kind is one adapter: a function from a
record id to its entries. Visibility is not here: the policy applies it at query time.

Adding a kind is one ``ADAPTERS`` entry plus a rule in ``services/search.scope``. File text is
read through a ``FileText`` callable (the indexer's, which decrypts the blob after the commit):
it takes a report or evidence version and returns the text of each page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from sqlalchemy import select

from artifact.infra.search.backend import Entry
from artifact.models import Agreement, Evidence, Report, Requirement
from artifact.models.base import DbSession

# A version (ReportVersion or EvidenceVersion, or None) -> the text of each page of its file.
FileText = Callable[[Any], list[str]]


def _years(start: date | None, end: date | None) -> tuple[str, ...]:
    if start is None and end is None:
        return ()
    first, last = (start or end), (end or start)
    assert first is not None
    assert last is not None
    return tuple(str(y) for y in range(first.year, min(last.year, first.year + 10) + 1))


def report_entries(report: Report, pages: list[str] | None) -> list[Entry]:
    """The metadata entry and (when ``pages`` is given) one entry per page of the current
    version's file."""
    facets: dict[str, Any] = {"category": (report.category,), "series": (report.series,),
                              "framework": tuple(report.frameworks or ()),
                              "year": _years(report.period_start, report.period_end)}
    meta_text = " \n".join(x for x in (report.title, report.series, report.issuer,
                                       report.product, " ".join(report.frameworks or ()),
                                       report.description) if x)
    entries = [Entry("report", report.id, report.title, meta_text, **facets)]
    for number, text in enumerate(pages or [], start=1):
        if text.strip():
            entries.append(Entry("report", report.id, report.title, text, part="file",
                                 page=number, **facets))
    return entries


def agreement_entries(agreement: Agreement) -> list[Entry]:
    if not agreement.versions:
        return []
    current = agreement.current
    return [Entry("agreement", agreement.id, agreement.title,
                  f"{agreement.title}\n{current.text}", category=("agreements",),
                  series=(agreement.kind,), year=(str(current.created_at.year),))]


def requirement_entries(requirement: Requirement) -> list[Entry]:
    framework = requirement.framework
    title = f"{framework.key}:{requirement.ref} {requirement.title}".strip()
    text = f"{requirement.ref}\n{requirement.title}\n{requirement.text}"
    return [Entry("requirement", requirement.id, title, text, category=(framework.category,),
                  framework=(framework.key,))]


def evidence_entries(evidence: Evidence, pages: list[str] | None) -> list[Entry]:
    """Staff-only: the metadata (title, description, owner, the requirements it addresses as
    ``framework:ref``) and one entry per page of the current version's text (PDF pages; a text
    or CSV file in page-sized pieces)."""
    names = sorted(link.requirement.name for link in evidence.links)
    facets: dict[str, Any] = {
        "category": ("evidence",),
        "framework": tuple(sorted({link.requirement.framework.key for link in evidence.links})),
        "year": (str(evidence.effective_date.year),)}
    owner = evidence.owner
    meta_text = " \n".join(x for x in (evidence.title, evidence.description,
                                       owner.name if owner else "", owner.email if owner else "",
                                       " ".join(names)) if x)
    entries = [Entry("evidence", evidence.id, evidence.title, meta_text, **facets)]
    for number, text in enumerate(pages or [], start=1):
        if text.strip():
            entries.append(Entry("evidence", evidence.id, evidence.title, text, part="file",
                                 page=number, **facets))
    return entries


def _load_report(db: DbSession, record_id: str, pages: FileText) -> list[Entry]:
    report = db.get(Report, record_id)
    if report is None:
        return []
    return report_entries(report, pages(report.current_version()))


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
    return evidence_entries(evidence, pages(evidence.current_version()))


Adapter = Callable[[DbSession, str, FileText], list[Entry]]
# kind -> (model, loader): the indexer's whole knowledge of what is searchable.
ADAPTERS: dict[str, tuple[type, Adapter]] = {
    "report": (Report, _load_report),
    "agreement": (Agreement, _load_agreement),
    "requirement": (Requirement, _load_requirement),
    "evidence": (Evidence, _load_evidence),
}


def all_ids(db: DbSession) -> Iterator[tuple[str, str]]:
    """Every (kind, id) the index should hold, for a rebuild."""
    for kind, (model, _loader) in ADAPTERS.items():
        for record_id in db.scalars(select(model.id)):  # type: ignore[attr-defined]
            yield kind, record_id
