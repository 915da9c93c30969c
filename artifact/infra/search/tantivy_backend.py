"""The tantivy backend (Rust, for large catalogs), through the ``tantivy`` Python bindings.

Every search reloads the reader first, so it sees every commit made before it by any process;
each writer is used for one commit and then dropped, releasing tantivy's own lock file. The
caller's scope is one term-set filter on the ``scope`` field (see ``Entry.scope_terms``), so
tantivy counts and aggregates facets only inside it. An index written with an older schema is
emptied on open (it is derived data), as is one of another analysis (``language.FORMAT``); the
application fills it again from the database. Body text is analysed with tantivy's
``en_stem`` (lower case, Porter2/Snowball English stems), and the words of a query with the
same analyser before they become terms."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import Any

import tantivy

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

FACET_SIZE = 100
MAX_SHOULD = 4096  # beyond this many values a group is one term set
WRITER_HEAP = 32_000_000
MAX_SCOPES = 256  # scope filters kept built (a scope names no more than the caller may see)
log = logging.getLogger(__name__)


# What tantivy's built-in en_stem tokenizer does, for the words of a query (they become terms
# without passing through the index's analyser).
_STEMMER = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.remove_long(q.MAX_WORD_CHARS + 1))
    .filter(tantivy.Filter.lowercase())
    .filter(tantivy.Filter.stemmer("english"))
    .build()
)


def stem(word: str) -> str:
    """The term ``en_stem`` indexes for one word of our parser (letters and digits only)."""
    found = _STEMMER.analyze(word)
    return found[0] if len(found) == 1 else word


class WriterBusy(Exception):
    """tantivy's LockBusy (it surfaces as a ValueError with that word in it)."""


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name in ("key", "parent", "part"):
        builder.add_text_field(name, stored=True, tokenizer_name="raw")
    builder.add_text_field("docver", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("current", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("scope", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("attrs", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("type_", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_unsigned_field("page", stored=True, fast=True)
    builder.add_unsigned_field("version", stored=True, fast=True)
    builder.add_text_field("title", stored=True, tokenizer_name="raw", index_option="basic")
    # Counted entries (metadata, whole files) are searched on "text"; pages on "ptext", so a
    # search walks one posting per document, not one per page.
    builder.add_text_field("text", stored=False, tokenizer_name="en_stem")
    builder.add_text_field("ptext", stored=True, tokenizer_name="en_stem")
    builder.add_bytes_field("shown", stored=True)
    # Words as written (case folded, not stemmed): what typo suggestions are drawn from.
    builder.add_text_field("words", stored=False, tokenizer_name="default", index_option="basic")
    for name in FACETS:
        builder.add_text_field(name, stored=True, fast=True, tokenizer_name="raw")
    return builder.build()


def _document(entry: Entry) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("key", entry.key)
    doc.add_text("parent", entry.parent)
    doc.add_text("part", entry.part)
    doc.add_text("docver", entry.docver)
    doc.add_text("current", YES if entry.current else NO)
    doc.add_unsigned("page", entry.page)
    doc.add_unsigned("version", entry.version)
    doc.add_text("title", entry.title)
    if not entry.counted:
        doc.add_text("ptext", entry.text)
        return doc
    for term in entry.scope_terms:
        doc.add_text("scope", term)
    for term in entry.all_attrs:
        doc.add_text("attrs", term)
    doc.add_text("type_", f"{entry.part}/{entry.type}")
    doc.add_text("text", entry.text)
    doc.add_text("words", entry.text)
    doc.add_bytes("shown", (entry.text if entry.part == "meta" else entry.shown).encode())
    for name in FACETS:
        for value in entry.facet_values(name):
            doc.add_text(name, value)
    return doc


YES, NO = "yes", "no"


class TantivyBackend:
    name = "tantivy"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._schema = _schema()
        self.emptied = False
        with writer_lock(directory):
            stale = language.recorded_format(directory) != language.FORMAT
            if stale and any(p.name != LOCK_NAME for p in directory.iterdir()):
                language.empty_directory(directory, self.name)
                self.emptied = True
            self._index = self._open(directory)
            language.record_format(directory)
        self._lock = threading.Lock()
        self._scopes: dict[Scope, Any] = {}
        self._loaded: tuple[int, int, int, int] | None = None  # see _searcher

    def _open(self, directory: Path) -> Any:
        try:
            return tantivy.Index(self._schema, path=str(directory), reuse=True)
        except ValueError as error:
            if "schema does not match" not in str(error):
                raise
        log.warning(
            "the tantivy index in %s has an older schema: emptied; run `flask search "
            "reindex` to fill it again",
            directory,
        )
        for path in directory.iterdir():
            if path.name != LOCK_NAME:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        self.emptied = True
        return tantivy.Index(self._schema, path=str(directory), reuse=True)

    # -- writing ------------------------------------------------------------------------
    def _writer(self, heap: int = WRITER_HEAP) -> Any:
        try:
            return self._index.writer(heap, 1)
        except ValueError as error:
            if "LockBusy" in str(error):
                raise WriterBusy(str(error)) from None
            raise

    def _commit(self, writer: Any) -> None:
        writer.commit()
        writer.wait_merging_threads()  # consumes the writer: its lock file is released

    def replace(
        self, parents: Iterable[str], entries: Iterable[Entry], keys: Iterable[str] = ()
    ) -> None:
        parents, docs, keys = list(parents), [_document(e) for e in entries], list(keys)

        def write() -> None:
            writer = self._writer()
            try:
                for parent in parents:
                    writer.delete_documents_by_term("parent", parent)
                for key in keys:
                    writer.delete_documents_by_term("key", key)
                for doc in docs:
                    writer.add_document(doc)
            except BaseException:
                writer.rollback()
                raise
            self._commit(writer)

        with writer_lock(self.directory):
            retry(write, (WriterBusy,))

    def rebuild(self, entries: Iterable[Entry]) -> int:
        def write() -> int:
            writer = self._writer(256_000_000)
            count = 0
            try:
                writer.delete_all_documents()
                for entry in entries:
                    writer.add_document(_document(entry))
                    count += 1
            except BaseException:
                writer.rollback()
                raise
            self._commit(writer)
            return count

        with writer_lock(self.directory):
            return retry(write, (WriterBusy,))

    # -- reading ------------------------------------------------------------------------
    def _searcher(self) -> Any:
        """A searcher that sees every commit made so far by any process. tantivy's reload
        opens every segment again (and drops the readers' caches), so it runs only when the
        index's ``meta.json`` (replaced, never rewritten in place, by each commit) differs
        from the one last loaded: one ``stat`` per search otherwise."""
        self._reload_if_changed()
        return self._index.searcher()

    def _reload_if_changed(self) -> tuple[int, int, int, int] | None:
        """Reload when ``meta.json`` differs from the one last loaded (or cannot be read);
        returns its mark."""
        mark = self._meta_mark()
        if mark is None or mark != self._loaded:
            self._index.reload()
            self._loaded = mark
        return mark

    def state(self) -> Hashable | None:
        """The index's ``meta.json`` as loaded (each commit replaces it): see _searcher."""
        with self._lock:
            mark = self._reload_if_changed()
            return None if mark is None else ("tantivy", mark)

    def _meta_mark(self) -> tuple[int, int, int, int] | None:
        try:
            found = os.stat(self.directory / "meta.json")
        except OSError:
            return None
        return (found.st_ino, found.st_mtime_ns, found.st_ctime_ns, found.st_size)

    def _scope_filter(self, scope: Scope) -> Any:
        """``_scope_query``, built once per scope (a caller's scope is the same object for as
        long as the policy generation stands: ``search.services.scope``) and reused."""
        found = self._scopes.get(scope)
        if found is None:
            if len(self._scopes) >= MAX_SCOPES:
                self._scopes.clear()
            found = self._scopes[scope] = self._scope_query(scope)
        return found

    def _scope_query(self, scope: Scope) -> Any:
        """The counted entries (one per document, whatever its pages) in ``scope``: kinds and
        records named by terms, and the rules' attribute classes; a constant score (it
        narrows, never ranks). Only disjunctions of term queries, walked lazily and skipped
        through by the intersection with the query's own terms: no term set (a bit set over
        every entry of the index, pages included, built for each search), so its cost is the
        scope's (a few kinds, classes and granted ids), not the index's."""
        if scope.everything:
            found = self._any_of("part", ["doc", "meta"])
            return tantivy.Query.const_score_query(found, 0.0)
        should = tantivy.Occur.Should
        parts = [(should, self._rule(rule)) for rule in scope.rules]
        terms = scope.terms()
        if terms:
            parts.append((should, self._any_of("scope", terms)))
        return tantivy.Query.const_score_query(tantivy.Query.boolean_query(parts), 0.0)

    def _groups(self, groups: tuple[frozenset[str], ...]) -> list[tuple[Any, Any]]:
        """Each group as a disjunction of term queries on the attributes."""
        return [(tantivy.Occur.Must, self._any_of("attrs", sorted(g))) for g in groups]

    def _any_of(self, field: str, values: list[str]) -> Any:
        """Entries holding one of ``values``: a disjunction of term queries (each opened only
        for the documents the intersection asks about); past ``MAX_SHOULD`` values one term
        set (a bit set over the index: its cost grows with the index, not with the values)."""
        if len(values) == 1:
            return tantivy.Query.term_query(self._schema, field, values[0])
        if len(values) > MAX_SHOULD:
            return tantivy.Query.term_set_query(self._schema, field, values)
        should = tantivy.Occur.Should
        return tantivy.Query.boolean_query(
            [(should, tantivy.Query.term_query(self._schema, field, v)) for v in values]
        )

    def _rule(self, rule: Rule) -> Any:
        """The records ``rule.seen`` selects (its groups asked once): their metadata entries
        where no file of theirs is in scope, and their doc entries whose file is."""
        must, must_not, should = tantivy.Occur.Must, tantivy.Occur.MustNot, tantivy.Occur.Should

        def kind(part: str) -> Any:
            return tantivy.Query.term_query(self._schema, "type_", f"{part}/{rule.type}")

        seen = self._groups(rule.seen)
        if rule.files is None:
            return tantivy.Query.boolean_query([(must, kind("meta")), *seen])
        with_file = self._groups((frozenset({HAS_FILE}), *rule.files))
        meta = tantivy.Query.boolean_query([(must, kind("meta")), (must_not, _all(with_file))])
        doc = tantivy.Query.boolean_query([(must, kind("doc")), *self._groups(rule.files)])
        either = tantivy.Query.boolean_query([(should, meta), (should, doc)])
        return tantivy.Query.boolean_query([*seen, (must, either)])

    def _filtered(self, built: Any, scope: Scope, all_versions: bool) -> Any:
        clauses = [(tantivy.Occur.Must, built), (tantivy.Occur.Must, self._scope_filter(scope))]
        if not all_versions:
            current = tantivy.Query.term_query(self._schema, "current", YES)
            clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(current, 0.0)))
        return tantivy.Query.boolean_query(clauses)

    def search(
        self, query: q.Query, scope: Scope, *, offset: int = 0, limit: int = 10, facets: bool = True
    ) -> ResultPage:
        if scope.nothing:
            return ResultPage(0, [], {name: {} for name in FACETS} if facets else {})
        built = self._filtered(build(self._schema, query), scope, query.all_versions)
        with self._lock:
            searcher = self._searcher()
            # With facets, the total is the sum of the type facet (every entry has exactly one
            # type), so the matches are walked once for counting, not twice.
            found = searcher.search(built, limit=limit, count=not facets, offset=offset)
            hits = [self._hit(searcher.doc(address), score) for score, address in found.hits]
            if not facets:
                return ResultPage(int(found.count or 0), hits, {})
            counts = self._facets(searcher, built)
        return ResultPage(sum(counts["type"].values()), hits, counts)

    def pages(
        self, query: q.Query, docvers: list[str], per: int = PAGES_PER_HIT
    ) -> dict[str, list[PageHit]]:
        text = build(self._schema, query, field="ptext", pages=True)
        if text is None or not docvers:
            return {}
        out: dict[str, list[PageHit]] = {}
        with self._lock:
            searcher = self._searcher()
            for docver in docvers:
                one = tantivy.Query.boolean_query(
                    [
                        (tantivy.Occur.Must, text),
                        (
                            tantivy.Occur.Must,
                            tantivy.Query.term_query(self._schema, "docver", docver),
                        ),
                    ]
                )
                found = searcher.search(one, limit=per, count=False).hits
                if not found:
                    continue
                numbers = searcher.fast_field_values("page", [a for _s, a in found])
                best = searcher.doc(found[0][1]).get_first("ptext") or ""
                out[docver] = [
                    PageHit(int(n or 0), best if i == 0 else "", float(score))
                    for i, (n, (score, _a)) in enumerate(zip(numbers, found, strict=True))
                ]
        return out

    def suggest(self, word: str, distance: int, scope: Scope, all_versions: bool) -> list[str]:
        """Words of the index's unstemmed lexicon that start like ``word`` and lie within
        ``distance`` edits, then only those found in an entry inside ``scope``."""
        if scope.nothing:
            return []
        with self._lock:
            searcher = self._searcher()
            lexicon = searcher.terms_with_prefix("words", word[:SUGGEST_PREFIX])
            near = [t for t, _n in lexicon if t != word and within(t, word, distance)]
            found = []
            for term in near:
                one = self._filtered(
                    tantivy.Query.term_query(self._schema, "words", term), scope, all_versions
                )
                count = searcher.search(one, limit=1, count=True).count
                if count:
                    found.append(term)
        return found

    @staticmethod
    def _hit(doc: Any, score: float) -> Hit:
        kind, _sep, record = doc.get_first("parent").partition(":")
        shown = doc.get_first("shown")
        return Hit(
            kind,
            record,
            doc.get_first("part"),
            int(doc.get_first("version") or 0),
            doc.get_first("current") == YES,
            doc.get_first("title"),
            bytes(shown).decode() if shown is not None else "",
            float(score),
        )

    @staticmethod
    def _facets(searcher: Any, built: Any) -> dict[str, dict[str, int]]:
        spec = {name: {"terms": {"field": name, "size": FACET_SIZE}} for name in FACETS}
        result = searcher.aggregate(built, spec)
        return {
            name: {
                bucket["key"]: int(bucket["doc_count"])
                for bucket in result.get(name, {}).get("buckets", [])
            }
            for name in FACETS
        }

    def count(self) -> int:
        with self._lock:
            return int(self._searcher().num_docs)

    def close(self) -> None:
        """Nothing to release: writers are dropped after each commit."""


def _all(musts: list[tuple[Any, Any]]) -> Any:
    """One query for a list of Must clauses (the clause itself when there is one)."""
    return musts[0][1] if len(musts) == 1 else tantivy.Query.boolean_query(musts)


def _clause(schema: Any, clause: q.Term | q.Phrase | q.Prefix | q.Filter, field: str) -> Any:
    if isinstance(clause, q.Term):
        return tantivy.Query.term_query(schema, field, stem(clause.word))
    if isinstance(clause, q.Phrase):
        return tantivy.Query.phrase_query(schema, field, [stem(w) for w in clause.words])
    if isinstance(clause, q.Prefix):
        # The index holds stems: "happ*" finds the stem "happi" as it is, "happy*" by its own
        # stem. A prefix longer than the stem of the word it starts ("encrypti*") finds less.
        # Both hold letters and digits only (the parser saw to it): no regex syntax.
        stems = dict.fromkeys((clause.stem, stem(clause.stem)))
        return tantivy.Query.regex_query(schema, field, "(" + "|".join(stems) + ").*")
    return tantivy.Query.term_query(schema, clause.field, clause.value)


def build(schema: Any, query: q.Query, field: str = "text", pages: bool = False) -> Any:
    """Our tree as a tantivy query (never tantivy's own query parser). ``pages``: the words
    only, on pages (which carry no facets); None when the query has no words."""
    must, must_not = tantivy.Occur.Must, tantivy.Occur.MustNot
    clauses = [
        (must_not, _clause(schema, c.clause, field))
        if isinstance(c, q.Not)
        else (must, _clause(schema, c, field))
        for c in query.clauses
        if not (pages and isinstance(c.clause if isinstance(c, q.Not) else c, q.Filter))
    ]
    if not any(occur == must for occur, _ in clauses):
        if pages:
            return None
        clauses.insert(0, (must, tantivy.Query.all_query()))
    return tantivy.Query.boolean_query(clauses)
