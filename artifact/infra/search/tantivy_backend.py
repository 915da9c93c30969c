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
import shutil
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import tantivy

from artifact.infra.search import language
from artifact.infra.search import query as q
from artifact.infra.search.backend import FACETS, Entry, Hit, ResultPage, Scope
from artifact.infra.search.locking import LOCK_NAME, retry, writer_lock

FACET_SIZE = 100
WRITER_HEAP = 32_000_000
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
    builder.add_text_field("scope", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_unsigned_field("page", stored=True)
    builder.add_text_field("title", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("text", stored=True, tokenizer_name="en_stem")
    for name in FACETS:
        builder.add_text_field(name, stored=True, fast=True, tokenizer_name="raw")
    return builder.build()


def _document(entry: Entry) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("key", entry.key)
    doc.add_text("parent", entry.parent)
    doc.add_text("part", entry.part)
    for term in entry.scope_terms:
        doc.add_text("scope", term)
    doc.add_unsigned("page", entry.page)
    doc.add_text("title", entry.title)
    doc.add_text("text", entry.text)
    for name in FACETS:
        for value in entry.facet_values(name):
            doc.add_text(name, value)
    return doc


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
        self._index.reload()
        return self._index.searcher()

    def _scope_query(self, scope: Scope) -> Any:
        """One set-membership filter, scored as a constant (it narrows, never ranks)."""
        return tantivy.Query.const_score_query(
            tantivy.Query.term_set_query(self._schema, "scope", scope.terms()), 0.0
        )

    def search(
        self, query: q.Query, scope: Scope, *, offset: int = 0, limit: int = 10, facets: bool = True
    ) -> ResultPage:
        if scope.nothing:
            return ResultPage(0, [], {name: {} for name in FACETS} if facets else {})
        built = build(self._schema, query)
        if not scope.everything:
            built = tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, built), (tantivy.Occur.Must, self._scope_query(scope))]
            )
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

    @staticmethod
    def _hit(doc: Any, score: float) -> Hit:
        kind, _sep, record = doc.get_first("parent").partition(":")
        return Hit(
            kind,
            record,
            doc.get_first("part"),
            int(doc.get_first("page")),
            doc.get_first("title"),
            doc.get_first("text"),
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


def _clause(schema: Any, clause: q.Term | q.Phrase | q.Prefix | q.Filter) -> Any:
    if isinstance(clause, q.Term):
        return tantivy.Query.term_query(schema, "text", stem(clause.word))
    if isinstance(clause, q.Phrase):
        return tantivy.Query.phrase_query(schema, "text", [stem(w) for w in clause.words])
    if isinstance(clause, q.Prefix):
        # The index holds stems: "happ*" finds the stem "happi" as it is, "happy*" by its own
        # stem. A prefix longer than the stem of the word it starts ("encrypti*") finds less.
        # Both hold letters and digits only (the parser saw to it): no regex syntax.
        stems = dict.fromkeys((clause.stem, stem(clause.stem)))
        return tantivy.Query.regex_query(schema, "text", "(" + "|".join(stems) + ").*")
    return tantivy.Query.term_query(schema, clause.field, clause.value)


def build(schema: Any, query: q.Query) -> Any:
    """Our tree as a tantivy query (never tantivy's own query parser)."""
    must, must_not = tantivy.Occur.Must, tantivy.Occur.MustNot
    clauses = [
        (must_not, _clause(schema, c.clause))
        if isinstance(c, q.Not)
        else (must, _clause(schema, c))
        for c in query.clauses
    ]
    if not any(occur == must for occur, _ in clauses):
        clauses.insert(0, (must, tantivy.Query.all_query()))
    return tantivy.Query.boolean_query(clauses)
