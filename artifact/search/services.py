"""Search: parse the query, compute what the caller may see (each kind's scope rule, from the
policy), ask the index within that scope (so totals, facets and snippets only ever count what
the caller may see), and shape the hits. A snippet from inside a file appears only when the
caller may download that file right now (visible and terms accepted); otherwise only metadata
entries match."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlalchemy import func, select

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.infra.search.backend import FACETS, Backend, Hit, Scope, parent_key
from artifact.infra.search.highlight import pattern, snippet
from artifact.infra.search.query import Filter, Query, QueryError, facet_value, parse
from artifact.kernel.caller import Caller
from artifact.kernel.errors import PermissionDenied, ValidationFailed
from artifact.models.base import DbSession
from artifact.search import indexer
from artifact.search.kinds import KINDS

PAGE_SIZE = 10
MAX_PAGE = 100
MAX_FILTER_CHARS = 200


@dataclass(frozen=True)
class SearchHit:
    type: str
    id: str
    title: str
    snippet: Markup
    page: int | None
    link_id: str | None = None  # the id its page is named by (a requirement: its framework's)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "id": self.id,
            "title": self.title,
            "snippet": str(self.snippet),
        }
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
        return {
            "total": self.total,
            "page": self.page,
            "hits": [h.as_json() for h in self.hits],
            "facets": self.facets,
        }


def scope(db: DbSession, caller: Caller) -> Scope:
    """What ``caller`` may find, from the policy, for this search only: the union of every
    kind's scope rule (``kinds.KINDS``)."""
    parts = [kind.scope(db, caller) for kind in KINDS.values()]
    return Scope(
        types=frozenset().union(*(p.types for p in parts)),
        meta_types=frozenset().union(*(p.meta_types for p in parts)),
        meta_parents=frozenset().union(*(p.meta_parents for p in parts)),
        file_parents=frozenset().union(*(p.file_parents for p in parts)),
    )


def _filters(values: dict[str, Any]) -> tuple[Filter, ...]:
    found = []
    for name in FACETS:
        raw = values.get(name)
        if raw in (None, ""):
            continue
        text = str(raw)
        if len(text) > MAX_FILTER_CHARS or any(ord(c) < 32 or ord(c) == 0x7F for c in text):
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


def search(
    db: DbSession,
    caller: Caller,
    index: Backend,
    text: str | None,
    filters: dict[str, Any] | None = None,
    page: Any = None,
) -> SearchResults:
    """Raises ValidationFailed (a friendly message) for a query we cannot understand."""
    try:
        query = parse(text)
    except QueryError as error:
        raise ValidationFailed(str(error)) from None
    query = Query(query.clauses + _filters(filters or {}))
    number = _page(page)
    allowed = scope(db, caller)
    found = index.search(query, allowed, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    links = _link_ids(db, found.hits)
    marks = pattern(query)
    hits = []
    for hit in found.hits:
        in_file = hit.part == "file"
        if in_file and not _file_allowed(allowed, hit.type, hit.id):
            continue  # defence in depth: the scope already kept such entries out
        hits.append(
            SearchHit(
                hit.type,
                hit.id,
                hit.title,
                snippet(hit.text, query, marks),
                hit.page if in_file else None,
                links.get((hit.type, hit.id)),
            )
        )
    return SearchResults(text or "", query, found.total, number, hits, found.facets)


def _file_allowed(allowed: Scope, kind: str, record_id: str) -> bool:
    return kind in allowed.types or parent_key(kind, record_id) in allowed.file_parents


def _link_ids(db: DbSession, hits: list[Hit]) -> dict[tuple[str, str], str]:
    """The id each hit's page is named by: its own, or the one its kind locates (a requirement
    is shown in its framework's tree; one query per such kind for the page of hits)."""
    links: dict[tuple[str, str], str] = {}
    for name, kind in KINDS.items():
        ids = list(dict.fromkeys(h.id for h in hits if h.type == name))
        if kind.locate is None:
            links.update(((name, i), i) for i in ids)
        elif ids:
            links.update(((name, i), at) for i, at in kind.locate(db, ids).items())
    return links


def reindex(db: DbSession, caller: Caller, app: Any) -> int:
    """Rebuild the index from the database; returns the number of entries. The rebuild reads in
    a session of its own (it keeps memory flat by itself); the audit record is in ``db``, for
    the owner to commit. Raises PermissionDenied."""
    if not policy.decide(caller, "search.reindex"):
        raise PermissionDenied("not allowed to rebuild the search index")
    count = indexer.rebuild(app, db)
    audit.record(
        db,
        caller,
        "search.reindex",
        target_type="search",
        target_id=None,
        details={"entries": count, "backend": app.config["SEARCH_BACKEND"]},
    )
    return count


@dataclass(frozen=True)
class KindStatus:
    """One kind's records in the database against its metadata entries in the index (one per
    record), and its page entries (file text; nothing to compare them with without reading
    every file)."""

    kind: str
    records: int
    indexed: int
    pages: int

    @property
    def differs(self) -> bool:
        return self.records != self.indexed


def status(db: DbSession, caller: Caller, backend: Backend) -> list[KindStatus]:
    """Counts per kind, database against index (``search status``). Counts only: an index
    that misses one record and holds a stale one of the same kind looks in step. Raises
    PermissionDenied."""
    if not policy.decide(caller, "search.reindex"):
        raise PermissionDenied("not allowed to inspect the search index")
    every = Query()
    meta = backend.search(every, Scope(meta_types=frozenset(KINDS)), limit=1).facets["type"]
    entries = backend.search(every, Scope(types=frozenset(KINDS)), limit=1).facets["type"]
    return [
        KindStatus(
            name,
            int(db.scalar(select(func.count()).select_from(kind.model)) or 0),
            meta.get(name, 0),
            entries.get(name, 0) - meta.get(name, 0),
        )
        for name, kind in KINDS.items()
    ]
