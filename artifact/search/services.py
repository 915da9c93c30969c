"""Search: parse the query, compute what the caller may see from the policy, ask the index
within that scope (so totals, facets and snippets only ever count what the caller may see), and
shape the hits. A snippet from inside a file appears only when the caller may download that
file right now (visible and terms accepted); otherwise only metadata entries match."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlalchemy import Select, select

from artifact import policy
from artifact.agreements.services import agreements
from artifact.audit.services import chain as audit
from artifact.infra.search.backend import FACETS, Backend, Scope, parent_key
from artifact.infra.search.highlight import pattern, snippet
from artifact.infra.search.query import Filter, Query, QueryError, facet_value, parse
from artifact.kernel.caller import Caller
from artifact.kernel.errors import PermissionDenied, ValidationFailed
from artifact.models import Evidence, Report, Requirement
from artifact.models.base import DbSession
from artifact.search import indexer

PAGE_SIZE = 10
MAX_PAGE = 100
# Whole kinds of record and the action that lets a caller see every record of that kind.
# Reports and evidence are per record (policy.visible), below.
KIND_ACTIONS = {"agreement": "agreement.view", "requirement": "framework.view"}


@dataclass(frozen=True)
class SearchHit:
    type: str
    id: str
    title: str
    snippet: Markup
    page: int | None
    framework_id: str | None = None  # where a requirement is shown

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "id": self.id, "title": self.title,
                                "snippet": str(self.snippet)}
        if self.page is not None:
            body["page"] = self.page
        return body


@dataclass(frozen=True)
class SearchResults:
    text: str
    query: Query
    total: int
    page: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]]

    @property
    def pages(self) -> int:
        return min(MAX_PAGE, max(1, -(-self.total // PAGE_SIZE)))

    def as_json(self) -> dict[str, Any]:
        return {"total": self.total, "page": self.page, "hits": [h.as_json() for h in self.hits],
                "facets": self.facets}


def scope(db: DbSession, caller: Caller) -> Scope:
    """What ``caller`` may find, from the policy, for this search only (nothing is cached across
    searches, so a revoked grant or an accepted agreement counts at once): whole kinds their role
    sees, the reports and evidence ``policy.visible`` lists (one SQL query), and among those the
    files they may download now. Where ``visible`` filters nothing (staff) a whole kind is in
    scope and only the agreements gating downloads are read (one query, plus the caller's
    acceptances of those)."""
    kinds = {kind for kind, action in KIND_ACTIONS.items() if policy.decide(caller, action)}
    reports = _report_scope(db, caller, kinds)
    evidence = _evidence_scope(db, caller, kinds)
    return Scope(types=frozenset(kinds), meta_types=reports[0] | evidence[0],
                 meta_parents=reports[1] | evidence[1], file_parents=reports[2] | evidence[2])


Parts = tuple[frozenset[str], frozenset[str], frozenset[str]]  # meta kinds, meta, files


def _report_scope(db: DbSession, caller: Caller, kinds: set[str]) -> Parts:
    """Reports: adds "report" to ``kinds`` when the caller sees and may download every one."""
    may_download = bool(policy.decide(caller, "report.download"))
    stmt: Select[Any] = select(Report.id, Report.terms_agreement_id)  # type: ignore[assignment]
    filtered = policy.visible(stmt, caller, Report)
    if filtered is stmt:  # the policy filters nothing: every report's metadata
        gates = db.scalars(select(Report.terms_agreement_id).distinct()
                           .where(Report.terms_agreement_id.is_not(None))).all()
        unmet = _unmet(db, caller, gates) if may_download else set()
        if may_download and not unmet:
            kinds.add("report")
            return frozenset(), frozenset(), frozenset()
        rows = db.execute(stmt).all() if may_download else []
        return (frozenset({"report"}), frozenset(),
                frozenset(parent_key("report", r) for r, t in rows if t not in unmet))
    rows = db.execute(filtered).all()
    unmet = _unmet(db, caller, {t for _r, t in rows if t}) if may_download else set()
    files = (frozenset(parent_key("report", r) for r, t in rows if t not in unmet)
             if may_download else frozenset())
    return frozenset(), frozenset(parent_key("report", r) for r, _t in rows), files


def _unmet(db: DbSession, caller: Caller, agreement_ids: Any) -> set[str]:
    """The agreements among ``agreement_ids`` whose current version ``caller`` has not accepted."""
    return {a for a in agreement_ids if not agreements.terms_status(db, caller, a).satisfied}


def _evidence_scope(db: DbSession, caller: Caller, kinds: set[str]) -> Parts:
    """Evidence (staff only today): every item when ``policy.visible`` filters nothing, else
    the items it lists; files only with evidence.download."""
    if not policy.decide(caller, "evidence.view"):
        return frozenset(), frozenset(), frozenset()
    may_download = bool(policy.decide(caller, "evidence.download"))
    stmt: Select[Any] = select(Evidence.id)
    filtered = policy.visible(stmt, caller, Evidence)
    if filtered is stmt:
        if may_download:
            kinds.add("evidence")
            return frozenset(), frozenset(), frozenset()
        return frozenset({"evidence"}), frozenset(), frozenset()
    ids = frozenset(parent_key("evidence", i) for i in db.scalars(filtered))
    return frozenset(), ids, ids if may_download else frozenset()


def _filters(values: dict[str, Any]) -> tuple[Filter, ...]:
    found = []
    for name in FACETS:
        raw = values.get(name)
        if raw in (None, ""):
            continue
        text = str(raw)
        if len(text) > 200 or any(ord(c) < 32 or ord(c) == 0x7F for c in text):
            raise ValidationFailed(f"The {name} filter is too long or holds control characters.")
        if facet_value(text):
            found.append(Filter(name, facet_value(text)))
    return tuple(found)


def _page(value: Any) -> int:
    if value in (None, ""):
        return 1
    try:
        number = int(str(value))
    except ValueError:
        raise ValidationFailed("The page must be a number.") from None
    if not 1 <= number <= MAX_PAGE:
        raise ValidationFailed(f"The page must be between 1 and {MAX_PAGE}.")
    return number


def search(db: DbSession, caller: Caller, index: Backend, text: str | None,
           filters: dict[str, Any] | None = None, page: Any = None) -> SearchResults:
    """Raises ValidationFailed (a friendly message) for a query we cannot understand."""
    try:
        query = parse(text)
    except QueryError as error:
        raise ValidationFailed(str(error)) from None
    query = Query(query.clauses + _filters(filters or {}))
    number = _page(page)
    allowed = scope(db, caller)
    found = index.search(query, allowed, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    frameworks = _framework_ids(db, [h.id for h in found.hits if h.type == "requirement"])
    marks = pattern(query)
    hits = []
    for hit in found.hits:
        in_file = hit.part == "file"
        if in_file and not _file_allowed(allowed, hit.type, hit.id):
            continue  # defence in depth: the scope already kept such entries out
        hits.append(SearchHit(hit.type, hit.id, hit.title, snippet(hit.text, query, marks),
                              hit.page if in_file else None, frameworks.get(hit.id)))
    return SearchResults(text or "", query, found.total, number, hits, found.facets)


def _file_allowed(allowed: Scope, kind: str, record_id: str) -> bool:
    return kind in allowed.types or parent_key(kind, record_id) in allowed.file_parents


def _framework_ids(db: DbSession, requirement_ids: list[str]) -> dict[str, str]:
    """Where each requirement hit is shown (one query for the page of hits)."""
    if not requirement_ids:
        return {}
    rows = db.execute(select(Requirement.id, Requirement.framework_id)
                      .where(Requirement.id.in_(requirement_ids)))
    return {row[0]: row[1] for row in rows}


def reindex(db: DbSession, caller: Caller, app: Any) -> int:
    """Rebuild the index from the database; returns the number of entries."""
    if not policy.decide(caller, "search.reindex"):
        raise PermissionDenied("not allowed to rebuild the search index")
    count = indexer.rebuild(app, db)
    audit.record(db, caller, "search.reindex", target_type="search", target_id=None,
                 details={"entries": count, "backend": app.config["SEARCH_BACKEND"]})
    db.commit()
    return count
