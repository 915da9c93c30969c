"""Search: parse the query, compute what the caller may see (each kind's scope rule, from the
policy), ask the index within that scope (so totals, facets and snippets only ever count what
the caller may see), and shape the hits. A snippet from inside a file appears only when the
caller may download that file right now (visible and terms accepted); otherwise only metadata
entries match."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlalchemy import Select, func, select

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.infra.search.backend import FACETS, Backend, Hit, Scope, parent_key
from artifact.infra.search.highlight import pattern, snippet
from artifact.infra.search.query import (
    Filter,
    Phrase,
    Query,
    QueryError,
    Term,
    facet_value,
    parse,
)
from artifact.infra.search.suggest import best as closest
from artifact.infra.search.suggest import max_distance
from artifact.kernel.caller import Caller
from artifact.kernel.errors import PermissionDenied, ValidationFailed
from artifact.models import Report
from artifact.models.base import DbSession
from artifact.search import indexer
from artifact.search.kinds import KINDS, confirm_reports

PAGE_SIZE = 10
MAX_PAGE = 100
MAX_FILTER_CHARS = 200


@dataclass(frozen=True)
class SearchHit:
    """One document: a record, or one version of its file (``version``; an older one when not
    ``current``), with the best matching pages of that file (only for callers who may
    download it now: the scope admits nothing else)."""

    type: str
    id: str
    title: str
    snippet: Markup
    pages: tuple[int, ...] = ()
    version: int | None = None
    current: bool = True
    link_id: str | None = None  # the id its page is named by (a requirement: its framework's)
    locked: bool = False  # a listed report the caller may ask for, found by its metadata only

    def as_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "id": self.id,
            "title": self.title,
            "snippet": str(self.snippet),
            "pages": list(self.pages),
            "version": self.version,
            "current": self.current,
            "locked": self.locked,
        }


@dataclass(frozen=True)
class SearchResults:
    text: str
    query: Query
    total: int
    page: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]]
    suggestion: str | None = None

    @property
    def pages(self) -> int:
        return min(MAX_PAGE, max(1, -(-self.total // PAGE_SIZE)))

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "page": self.page,
            "hits": [h.as_json() for h in self.hits],
            "facets": self.facets,
            "suggestion": self.suggestion,
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
        rules=tuple(r for p in parts for r in p.rules),
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
    *,
    suggest: bool = True,
    public_listing: bool = False,
) -> SearchResults:
    """One hit per document the caller may see, best first, with its best pages; when nothing
    matches, a suggestion built from words of documents in the caller's scope only. Raises
    ValidationFailed (a friendly message) for a query we cannot understand."""
    try:
        query = parse(text)
    except QueryError as error:
        raise ValidationFailed(str(error)) from None
    query = query.with_clauses(_filters(filters or {}))
    number = _page(page)
    allowed = scope(db, caller)  # once per search; its size is what the caller may see
    found = index.search(query, allowed, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    counted = _confirmed(db, caller, allowed, found.hits)
    best = index.pages(query, [h.docver for h in counted if h.part == "doc"])
    links = _link_ids(db, counted)
    marks = pattern(query)
    hits = []
    for hit in counted:
        pages = best.get(hit.docver, []) if hit.part == "doc" else []
        shown = pages[0].text if pages else hit.text
        hits.append(
            SearchHit(
                hit.type,
                hit.id,
                hit.title,
                snippet(shown, query, marks),
                tuple(p.page for p in pages),
                hit.version if hit.part == "doc" else None,
                hit.current,
                links.get((hit.type, hit.id)),
            )
        )
    # Listed reports the caller may ask for but not open: found by their catalog facts only
    # (title, category, series, issuer), never by their text, on the first page, unfiltered.
    locked = (
        _locked_hits(db, caller, text or "", public_listing) if number == 1 and not filters else []
    )
    hits.extend(locked)
    total = found.total + len(locked)
    suggestion = None
    if total == 0 and suggest:
        suggestion = _suggestion(db, caller, index, text or "", query, allowed, filters)
    return SearchResults(text or "", query, total, number, hits, found.facets, suggestion)


_WORD = re.compile(r"[^\W_][\w.()\-]*", re.UNICODE)
_OPERATORS = frozenset({"and", "or", "not"})
MAX_LOCKED_HITS = 10


@dataclass(frozen=True)
class _LockedFacts:
    id: str
    title: str
    series: str | None
    issuer: str | None
    facts: str  # title, category, series and issuer, case folded


@dataclass(frozen=True)
class _Locked:
    reports: list[_LockedFacts]
    joined: str  # every report's facts, one line each


def _locked_facts(db: DbSession, caller: Caller, public_listing: bool) -> _Locked:
    """The catalog facts of every report ``policy.locked`` shows ``caller``, by title, kept
    per policy generation and scope (report rows and grants bump it): a search reads no
    report row."""

    def ask() -> _Locked:
        stmt: Select[Any] = select(  # type: ignore[assignment]
            Report.id, Report.title, Report.category, Report.series, Report.issuer
        )
        rows = db.execute(
            policy.locked(stmt, caller, public_listing=public_listing).order_by(
                Report.title, Report.id
            )
        )
        found = [
            _LockedFacts(
                r.id,
                r.title,
                r.series,
                r.issuer,
                " ".join([r.title, r.category, r.series or "", r.issuer or ""]).casefold(),
            )
            for r in rows
        ]
        return _Locked(found, "\n".join(r.facts for r in found))

    return policy.remember_for(db, f"locked_facts:{int(public_listing)}", caller, ask)


def _locked_hits(db: DbSession, caller: Caller, text: str, public_listing: bool) -> list[SearchHit]:
    """Locked reports whose catalog facts hold every word of the query (case aside); a query
    with a field (``version:all``, ``type:...``) or nothing but operators finds none."""
    if ":" in text:
        return []
    words = [w.casefold() for w in _WORD.findall(text) if w.casefold() not in _OPERATORS]
    if not words:
        return []
    locked = _locked_facts(db, caller, public_listing)
    if not locked.reports or not all(word in locked.joined for word in words):
        return []  # one look at every report's facts at once, the common case
    found = []
    for report in locked.reports:
        if all(word in report.facts for word in words):
            found.append(
                SearchHit(
                    "report",
                    report.id,
                    report.title,
                    Markup.escape(
                        " · ".join(x for x in (report.series, report.issuer) if x)
                        + " · locked: request access to open it"
                    ),
                    locked=True,
                    link_id=report.id,
                )
            )
            if len(found) == MAX_LOCKED_HITS:
                break
    return found


def _suggestion(
    db: DbSession,
    caller: Caller,
    index: Backend,
    text: str,
    query: Query,
    allowed: Scope,
    filters: dict[str, Any] | None,
) -> str | None:
    """``text`` with each word that may be misspelt (4 letters or more) replaced by the
    closest word of the documents in ``allowed``, if the result finds something (with the
    same scope and filters); None otherwise."""
    words = [c.word for c in query.clauses if isinstance(c, Term)]
    words += [w for c in query.clauses if isinstance(c, Phrase) for w in c.words]
    fixed = text
    changed = False
    for word in dict.fromkeys(words):
        limit = max_distance(word)
        if not limit:
            continue
        better = closest(word, index.suggest(word, limit, allowed, query.all_versions))
        if better is not None:
            fixed = re.sub(rf"(?<![^\W_]){re.escape(word)}(?![^\W_])", better, fixed, flags=re.I)
            changed = True
    if not changed:
        return None
    try:
        again = search(db, caller, index, fixed, filters, suggest=False)
    except ValidationFailed:
        return None
    return fixed if again.total else None


def _confirmed(db: DbSession, caller: Caller, allowed: Scope, hits: list[Hit]) -> list[Hit]:
    """Defence in depth for the page of hits: the scope already kept out what the caller may
    not see, and files they may not download; reports are checked against the policy in the
    database once more (their attributes in the index follow each commit), other kinds
    against the scope's names."""
    reports = [h.id for h in hits if h.type == "report"]
    seen, files = confirm_reports(db, caller, reports) if reports else (set(), set())
    kept = []
    for hit in hits:
        if hit.type == "report":
            ok = hit.id in (files if hit.part == "doc" else seen)
        else:
            ok = hit.part == "meta" or _file_allowed(allowed, hit)
        if ok:
            kept.append(hit)
    return kept


def _file_allowed(allowed: Scope, hit: Hit) -> bool:
    return hit.type in allowed.types or parent_key(hit.type, hit.id) in allowed.file_parents


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
    record), and its indexed file versions (``pages``: doc entries, every version)."""

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
    files = Query(all_versions=True)
    entries = backend.search(files, Scope(everything=True), limit=1).facets["type"]
    return [
        KindStatus(
            name,
            int(db.scalar(select(func.count()).select_from(kind.model)) or 0),
            meta.get(name, 0),
            entries.get(name, 0) - meta.get(name, 0),
        )
        for name, kind in KINDS.items()
    ]


# Past this many entries whoosh misses the 50 ms p95 target of bench/search.py (at 10,000 pages
# its phrase and AND queries take hundreds of milliseconds); tantivy meets it.
WHOOSH_ENTRIES_ADVICE = 5_000


def backend_advice(backend: Backend) -> str | None:
    """What ``check-deploy`` says about the search backend: whoosh past
    ``WHOOSH_ENTRIES_ADVICE`` entries is too slow, and how to switch; None otherwise."""
    if backend.name != "whoosh":
        return None
    entries = backend.count()
    if entries <= WHOOSH_ENTRIES_ADVICE:
        return None
    return (
        f"the whoosh search index holds {entries:,} entries: past {WHOOSH_ENTRIES_ADVICE:,} "
        "whoosh misses the 50 ms p95 search target (bench/search.py); tantivy meets it: set "
        "ARTIFACT_SEARCH_BACKEND=tantivy and run `flask --app app search reindex`"
    )
