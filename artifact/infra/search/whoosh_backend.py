"""The embedded default: whoosh-reloaded.

A fresh searcher is opened whenever the index changed (never ``Searcher.refresh()``, which
returned duplicate documents after a segment merge in whoosh-reloaded 2.7.5). Sets of document
numbers per facet value and per record are computed once per searcher and reused, and so are
the answers to searches (a query, a scope and a page: what the next search asking the same of
the same index gets, as Elasticsearch's shard request cache does until its next refresh)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.index import LockError
from whoosh.lang.porter2 import stem
from whoosh.writing import CLEAR

from artifact.infra.search import language
from artifact.infra.search import query as q
from artifact.infra.search.backend import (
    FACETS,
    HAS_FILE,
    PAGES_PER_HIT,
    Entry,
    Hit,
    PageHit,
    ResultPage,
    Rule,
    Scope,
)
from artifact.infra.search.locking import LOCK_NAME, retry, writer_lock
from artifact.infra.search.suggest import SUGGEST_PREFIX, within

ANALYZER = (
    RegexTokenizer(r"[^\W_]+")
    | LowercaseFilter()
    | StopFilter(stoplist=frozenset(), minsize=1, maxsize=q.MAX_WORD_CHARS)
    | StemFilter(stemfn=stem)  # Porter2, as tantivy's en_stem; no stop words (see language)
)


# Words as written (case folded, not stemmed): what typo suggestions are drawn from.
WORDS = (
    RegexTokenizer(r"[^\W_]+")
    | LowercaseFilter()
    | StopFilter(stoplist=frozenset(), minsize=1, maxsize=q.MAX_WORD_CHARS)
)
YES, NO = "yes", "no"
# Answers kept per searcher (each a page of hits with its facets, or a few pages' text).
MAX_ANSWERS = 512
_SNAPSHOTS = itertools.count(1)
T = TypeVar("T")


def _schema() -> Schema:
    facet = {name: KEYWORD(commas=True, scorable=False) for name in FACETS if name != "type"}
    return Schema(
        key=ID(unique=True, stored=True),
        parent=ID(stored=True),
        type=ID(stored=True),
        part=ID(stored=True),
        docver=ID(),
        current=ID(stored=True),
        scope=KEYWORD(commas=True, scorable=False),
        attrs=KEYWORD(commas=True, scorable=False),
        type_=ID(),
        page=STORED(),
        version=STORED(),
        title=STORED(),
        shown=STORED(),
        # Counted entries (metadata, whole files) are searched on "text"; pages on "ptext".
        text=TEXT(analyzer=ANALYZER, stored=False, phrase=True),
        ptext=TEXT(analyzer=ANALYZER, stored=True, phrase=True),
        words=TEXT(analyzer=WORDS, stored=False, phrase=False),
        **facet,
    )


def _fields(entry: Entry) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "key": entry.key,
        "parent": entry.parent,
        "type": entry.type,
        "part": entry.part,
        "docver": entry.docver,
        "current": YES if entry.current else NO,
        "page": entry.page,
        "version": entry.version,
        "title": entry.title,
    }
    if not entry.counted:
        fields["ptext"] = entry.text
        return fields
    fields["scope"] = ",".join(entry.scope_terms)
    fields["attrs"] = ",".join(entry.all_attrs)
    fields["type_"] = f"{entry.part}/{entry.type}"
    fields["text"] = entry.text
    fields["words"] = entry.text
    fields["shown"] = entry.text if entry.part == "meta" else entry.shown
    for name in FACETS:
        if name != "type":
            fields[name] = ",".join(entry.facet_values(name))
    return fields


class _Snapshot:
    """One searcher and the document sets derived from it."""

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.number = next(_SNAPSHOTS)  # never reused in this process: see state()
        self._sets: dict[tuple[str, str], frozenset[int]] = {}
        self._values: dict[str, list[str]] = {}
        self._answers: dict[Hashable, Any] = {}

    def answer(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, once per ``key`` for this searcher (at most ``MAX_ANSWERS`` kept)."""
        if key in self._answers:
            return self._answers[key]  # type: ignore[no-any-return]
        value = compute()
        if len(self._answers) >= MAX_ANSWERS:
            self._answers.pop(next(iter(self._answers)))
        self._answers[key] = value
        return value

    def docs(self, field: str, value: str) -> frozenset[int]:
        found = self._sets.get((field, value))
        if found is None:
            found = frozenset(self.searcher.docs_for_query(wq.Term(field, value)))
            self._sets[(field, value)] = found
        return found

    def values(self, field: str) -> list[str]:
        if field not in self._values:
            self._values[field] = [
                v.decode() if isinstance(v, bytes) else v for v in self.searcher.lexicon(field)
            ]
        return self._values[field]

    def allowed(self, scope: Scope, all_versions: bool) -> set[int]:
        """The counted entries in ``scope``: one cached set per scope term (a set per kind,
        or a record's one or few entries), so the cost is what the caller may see."""
        if scope.everything:
            allowed = set(self.docs("part", "meta") | self.docs("part", "doc"))
        else:
            allowed = set()
            for term in scope.terms():
                allowed |= self.docs("scope", term)
            for rule in scope.rules:
                allowed |= self._rule(rule)
        if not all_versions:
            allowed &= self.docs("current", YES)
        return allowed

    def _groups(self, base: frozenset[int], groups: tuple[frozenset[str], ...]) -> frozenset[int]:
        for group in groups:
            if not base:
                break
            base = base & frozenset().union(*(self.docs("attrs", a) for a in group))
        return base

    def _rule(self, rule: Rule) -> frozenset[int]:
        meta = self._groups(self.docs("type_", f"meta/{rule.type}"), rule.seen)
        if rule.files is None:
            return meta
        with_file = self._groups(self.docs("attrs", HAS_FILE), rule.files)
        doc = self._groups(self.docs("type_", f"doc/{rule.type}"), rule.seen + rule.files)
        return (meta - with_file) | doc


class WhooshBackend:
    name = "whoosh"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.emptied = False
        with writer_lock(directory):
            current = language.recorded_format(directory) == language.FORMAT
            if whoosh_index.exists_in(str(directory)) and current:
                self._ix = whoosh_index.open_dir(str(directory))
            else:
                if not current and any(p.name != LOCK_NAME for p in directory.iterdir()):
                    language.empty_directory(directory, self.name)
                    self.emptied = True
                self._ix = whoosh_index.create_in(str(directory), _schema())
                language.record_format(directory)
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()

    # -- writing ------------------------------------------------------------------------
    def replace(
        self, parents: Iterable[str], entries: Iterable[Entry], keys: Iterable[str] = ()
    ) -> None:
        parents, entries, keys = list(parents), list(entries), list(keys)

        def write() -> None:
            writer = self._ix.writer()
            try:
                for parent in parents:
                    writer.delete_by_term("parent", parent)
                for key in keys:
                    writer.delete_by_term("key", key)
                for entry in entries:
                    writer.add_document(**_fields(entry))
            except BaseException:
                writer.cancel()
                raise
            writer.commit()

        with writer_lock(self.directory):
            retry(write, (LockError,))

    def rebuild(self, entries: Iterable[Entry]) -> int:
        def write() -> int:
            writer = self._ix.writer(limitmb=256)
            count = 0
            try:
                for entry in entries:
                    writer.add_document(**_fields(entry))
                    count += 1
            except BaseException:
                writer.cancel()
                raise
            writer.commit(mergetype=CLEAR)
            return count

        with writer_lock(self.directory):
            return retry(write, (LockError,))

    # -- reading ------------------------------------------------------------------------
    def _fresh(self) -> _Snapshot:
        snap = self._snapshot
        if snap is None or not snap.searcher.up_to_date():
            if snap is not None:
                snap.searcher.close()
            snap = self._snapshot = _Snapshot(self._ix.searcher())
        return snap

    def state(self) -> Hashable:
        """The searcher's number: a new searcher opens whenever the index changed."""
        with self._lock:
            return ("whoosh", self._fresh().number)

    def search(
        self, query: q.Query, scope: Scope, *, offset: int = 0, limit: int = 10, facets: bool = True
    ) -> ResultPage:
        if scope.nothing:
            return ResultPage(0, [], {name: {} for name in FACETS} if facets else {})
        with self._lock:
            snap = self._fresh()
            kept = snap.answer(
                ("search", query, scope, offset, limit, facets),
                lambda: self._search(snap, query, scope, offset, limit, facets),
            )
        # A copy: the caller may change what it is given, never what the next one gets.
        return ResultPage(kept.total, list(kept.hits), {k: dict(v) for k, v in kept.facets.items()})

    def _search(
        self, snap: _Snapshot, query: q.Query, scope: Scope, offset: int, limit: int, facets: bool
    ) -> ResultPage:
        built = build(query)
        allowed = snap.allowed(scope, query.all_versions)
        if not allowed:
            return ResultPage(0, [], self._facets(snap, set()) if facets else {})
        # One walk of the matches inside the scope, scoring them all (a phrase's positions
        # are read once, not once to count and again to rank).
        results = snap.searcher.search(built, filter=allowed, limit=None)
        matched = set(results.docs())
        counts = self._facets(snap, matched) if facets else {}
        hits = [self._hit(results[i]) for i in range(offset, min(len(matched), offset + limit))]
        return ResultPage(len(matched), hits, counts)

    @staticmethod
    def _hit(hit: Any) -> Hit:
        kind, _sep, record = hit["parent"].partition(":")
        return Hit(
            kind,
            record,
            hit["part"],
            hit.get("version", 0),
            hit.get("current") == YES,
            hit["title"],
            hit.get("shown", ""),
            float(hit.score or 0.0),
        )

    def pages(
        self, query: q.Query, docvers: list[str], per: int = PAGES_PER_HIT
    ) -> dict[str, list[PageHit]]:
        if not docvers:
            return {}
        with self._lock:
            snap = self._fresh()
            kept = snap.answer(
                ("pages", query, tuple(docvers), per),
                lambda: self._pages(snap, query, docvers, per),
            )
        return {docver: list(found) for docver, found in kept.items()}

    @staticmethod
    def _pages(
        snap: _Snapshot, query: q.Query, docvers: list[str], per: int
    ) -> dict[str, list[PageHit]]:
        text = build(query, field="ptext", pages=True)
        if text is None:
            return {}
        out: dict[str, list[PageHit]] = {}
        for docver in docvers:
            # The document's own term drives the intersection (a filter would still walk
            # every page of the index that matches the words).
            one = wq.And([wq.Term("docver", docver), text])
            found = list(snap.searcher.search(one, limit=per))
            if found:
                out[docver] = [
                    PageHit(h["page"], h["ptext"] if i == 0 else "", float(h.score or 0.0))
                    for i, h in enumerate(found)
                ]
        return out

    def suggest(self, word: str, distance: int, scope: Scope, all_versions: bool) -> list[str]:
        """Words of the unstemmed lexicon within ``distance`` edits (sharing the first
        letter), then only those found in an entry inside ``scope``."""
        if scope.nothing:
            return []
        with self._lock:
            snap = self._fresh()
            reader = snap.searcher.reader()
            near = [
                t
                for t in reader.terms_within("words", word, distance, prefix=SUGGEST_PREFIX)
                if t != word and within(t, word, distance)
            ]
            if not near:
                return []
            allowed = snap.allowed(scope, all_versions)
            return [t for t in near if snap.docs("words", t) & allowed]

    @staticmethod
    def _facets(snap: _Snapshot, matched: set[int]) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for name in FACETS:
            per_value = {
                value: len(snap.docs(name, value) & matched) for value in snap.values(name)
            }
            counts[name] = {v: n for v, n in per_value.items() if n}
        return counts

    def count(self) -> int:
        with self._lock:
            return int(self._fresh().searcher.doc_count())

    def close(self) -> None:
        with self._lock:
            if self._snapshot is not None:
                self._snapshot.searcher.close()
                self._snapshot = None
            self._ix.close()


def _clause(clause: q.Term | q.Phrase | q.Prefix | q.Filter, field: str) -> wq.Query:
    if isinstance(clause, q.Term):
        return wq.Term(field, stem(clause.word))
    if isinstance(clause, q.Phrase):
        return wq.Phrase(field, [stem(w) for w in clause.words])
    if isinstance(clause, q.Prefix):
        # The index holds stems: "happ*" finds the stem "happi" as it is, "happy*" by its own
        # stem. A prefix longer than the stem of the word it starts ("encrypti*") finds less.
        stems = dict.fromkeys((clause.stem, stem(clause.stem)))
        if len(stems) == 1:
            return wq.Prefix(field, clause.stem)
        return wq.Or([wq.Prefix(field, s) for s in stems])
    return wq.Term(clause.field, clause.value)


def build(query: q.Query, field: str = "text", pages: bool = False) -> Any:
    """Our tree as a whoosh query (never whoosh's own parser). ``pages``: the words only, on
    pages (which carry no facets); None when the query has no words."""

    def keep(c: q.Clause) -> bool:
        return not (pages and isinstance(c.clause if isinstance(c, q.Not) else c, q.Filter))

    positive = [_clause(c, field) for c in query.clauses if not isinstance(c, q.Not) and keep(c)]
    negative = [_clause(c.clause, field) for c in query.clauses if isinstance(c, q.Not) and keep(c)]
    if pages and not positive:
        return None
    base: wq.Query = wq.And(positive) if positive else wq.Every()
    return wq.AndNot(base, wq.Or(negative)) if negative else base
