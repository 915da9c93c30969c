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
from artifact.models import Report, Requirement
from artifact.models.base import DbSession
from artifact.search import indexer
from artifact.search.backend import FACETS, Backend, Scope, parent_key
from artifact.search.highlight import snippet
from artifact.search.query import Filter, Query, QueryError, facet_value, parse
from artifact.services import agreements, audit
from artifact.services.audit import Actor
from artifact.services.errors import PermissionDenied, ValidationFailed

PAGE_SIZE = 10
MAX_PAGE = 100
# Whole kinds of record and the action that lets a caller see every record of that kind.
KIND_ACTIONS = {"agreement": "agreement.view", "requirement": "framework.view",
                "evidence": "evidence.view"}


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


def scope(db: DbSession, by: Any) -> Scope:
    """What ``by`` may find: whole kinds their role sees, the reports ``policy.visible`` lists,
    and among those the files they may download now (terms accepted)."""
    kinds = frozenset(kind for kind, action in KIND_ACTIONS.items()
                      if action in policy.ALL_ACTIONS and policy.decide(by, action))
    stmt: Select[Any] = select(Report.id, Report.terms_agreement_id)  # type: ignore[assignment]
    rows: list[tuple[str, str | None]] = [
        (row[0], row[1]) for row in db.execute(policy.visible(stmt, by, Report))]
    unmet: set[str] = set()
    if policy.decide(by, "report.download"):
        for agreement_id in {terms for _id, terms in rows if terms}:
            if not agreements.terms_status(db, by, agreement_id).satisfied:
                unmet.add(agreement_id)
        files = frozenset(parent_key("report", rid) for rid, terms in rows if terms not in unmet)
    else:
        files = frozenset()
    return Scope(types=kinds, meta_parents=frozenset(parent_key("report", r) for r, _t in rows),
                 file_parents=files)


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


def search(db: DbSession, by: Any, index: Backend, text: str | None,
           filters: dict[str, Any] | None = None, page: Any = None) -> SearchResults:
    """Raises ValidationFailed (a friendly message) for a query we cannot understand."""
    try:
        query = parse(text)
    except QueryError as error:
        raise ValidationFailed(str(error)) from None
    query = Query(query.clauses + _filters(filters or {}))
    number = _page(page)
    allowed = scope(db, by)
    found = index.search(query, allowed, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    hits = []
    for hit in found.hits:
        in_file = hit.part == "file"
        if in_file and parent_key(hit.type, hit.id) not in allowed.file_parents:
            continue  # defence in depth: the scope already kept such entries out
        requirement = db.get(Requirement, hit.id) if hit.type == "requirement" else None
        hits.append(SearchHit(hit.type, hit.id, hit.title, snippet(hit.text, query),
                              hit.page if in_file else None,
                              requirement.framework_id if requirement is not None else None))
    return SearchResults(text or "", query, found.total, number, hits, found.facets)


def reindex(db: DbSession, by: Any, actor: Actor, app: Any) -> int:
    """Rebuild the index from the database; returns the number of entries."""
    if not policy.decide(by, "search.reindex"):
        raise PermissionDenied("not allowed to rebuild the search index")
    count = indexer.rebuild(app, db)
    audit.record(db, actor, "search.reindex", target_type="search", target_id=None,
                 details={"entries": count, "backend": app.config["SEARCH_BACKEND"]})
    db.commit()
    return count
