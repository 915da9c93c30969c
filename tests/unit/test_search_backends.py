"""The scope each backend applies (whole kinds, kinds' metadata, single records' metadata and
files), and a tantivy index of an older schema on open."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import tantivy

from artifact.infra.search import Backend, open_backend
from artifact.infra.search.backend import PAGES_PER_HIT, Entry, Hit, Scope
from artifact.infra.search.query import parse
from artifact.search.kinds import file_entries
from tests.fixtures_search import BACKEND_PARAMS

Opener = Callable[..., Backend]


def _file(kind: str, record: str, title: str, *pages: str) -> list[Entry]:
    return file_entries(kind, record, title, "alpha words", {}, [(1, True, list(pages))])


ENTRIES = [
    *_file("report", "r1", "One", "alpha page"),
    *_file("report", "r2", "Two", "alpha page"),
    *_file("evidence", "e1", "Ev", "alpha page"),
    Entry("requirement", "q1", "Req", "alpha requirement"),
]
# What each scope admits: a record's file version ("@1", holding its metadata) when its file is
# in scope, else its metadata ("#0"); never both.
SCOPES = [
    (Scope(types=frozenset({"evidence"})), {"evidence:e1@1"}),
    (Scope(types=frozenset({"requirement"})), {"requirement:q1#0"}),
    (Scope(meta_types=frozenset({"requirement"})), {"requirement:q1#0"}),
    (Scope(meta_types=frozenset({"report"})), {"report:r1#0", "report:r2#0"}),
    (
        Scope(
            meta_parents=frozenset({"report:r1", "report:r2"}),
            file_parents=frozenset({"report:r2"}),
        ),
        {"report:r1#0", "report:r2@1"},
    ),
    (Scope(meta_parents=frozenset({"report:r1"})), {"report:r1#0"}),
    (Scope(file_parents=frozenset({"report:r1"})), {"report:r1@1"}),
    (Scope(meta_parents=frozenset({"report:nope"})), set()),
]


def _name(hit: Hit) -> str:
    return f"{hit.type}:{hit.id}#0" if hit.part == "meta" else hit.docver


@pytest.mark.parametrize("name", BACKEND_PARAMS)
@pytest.mark.parametrize(("scope", "expected"), SCOPES, ids=range(len(SCOPES)))
def test_scope_admits_exactly_what_it_names(
    open_index: Opener, name: str, scope: Scope, expected: set[str]
) -> None:
    backend = open_index(name)
    backend.rebuild(ENTRIES)
    for facets in (True, False):
        found = backend.search(parse("alpha"), scope, limit=20, facets=facets)
        assert {_name(h) for h in found.hits} == expected
        assert found.total == len(expected)
        if facets:
            assert sum(found.facets["type"].values()) == len(expected)
    backend.close()


@pytest.mark.parametrize("name", BACKEND_PARAMS)
def test_a_document_counts_once_with_its_best_pages(open_index: Opener, name: str) -> None:
    backend = open_index(name)
    pages = [f"page {n} " + ("encryption at rest" if n <= 30 else "nothing") for n in range(1, 41)]
    backend.rebuild(file_entries("report", "r1", "One", "One", {}, [(1, True, pages)]))
    scope = Scope(file_parents=frozenset({"report:r1"}))
    found = backend.search(parse('"encryption at rest"'), scope)
    assert found.total == 1
    assert [(h.type, h.id, h.part, h.version) for h in found.hits] == [("report", "r1", "doc", 1)]
    best = backend.pages(parse('"encryption at rest"'), [found.hits[0].docver])
    numbers = [p.page for p in best["report:r1@1"]]
    assert len(numbers) == PAGES_PER_HIT
    assert set(numbers) <= set(range(1, 31))
    assert "encryption at rest" in best["report:r1@1"][0].text
    backend.close()


@pytest.mark.parametrize("name", BACKEND_PARAMS)
def test_older_versions_only_with_version_all(open_index: Opener, name: str) -> None:
    backend = open_index(name)
    files = [(1, False, ["the axolotl clause"]), (2, True, ["rewritten"])]
    backend.rebuild(file_entries("report", "r1", "One", "One", {}, files))
    scope = Scope(file_parents=frozenset({"report:r1"}))
    assert backend.search(parse("axolotl"), scope).total == 0
    found = backend.search(parse("axolotl version:all"), scope)
    assert [(h.version, h.current) for h in found.hits] == [(1, False)]
    backend.close()


@pytest.mark.parametrize("name", BACKEND_PARAMS)
def test_a_repeated_search_sees_what_another_writer_committed_in_between(
    open_index: Opener, name: str, tmp_path: Path
) -> None:
    """The answers a backend keeps for a repeated search (whoosh: per searcher) never outlive
    a commit, made here by a second backend on the same index, as another worker's is."""
    reader, writer = open_index(name, tmp_path), open_index(name, tmp_path)
    writer.rebuild(_file("report", "r1", "One", "the otter clause"))
    everything, otter = Scope(everything=True), parse("otter")
    for _ in range(2):  # asked, then kept
        found = reader.search(otter, everything)
        assert [(h.id, h.version) for h in found.hits] == [("r1", 1)]
        assert "otter" in reader.pages(otter, ["report:r1@1"])["report:r1@1"][0].text
    found.hits.clear()  # what a caller does with its copy
    found.facets["type"].clear()
    again = reader.search(otter, everything)
    assert len(again.hits) == 1
    assert sum(again.facets["type"].values()) == 1

    writer.replace(
        ["report:r1"],
        file_entries("report", "r1", "One", "One", {}, [(1, True, ["the beaver clause"])])
        + _file("report", "r2", "Two", "another otter clause"),
    )
    found = reader.search(otter, everything)
    assert [(h.id, h.version) for h in found.hits] == [("r2", 1)]
    assert reader.pages(otter, ["report:r1@1"]) == {}
    assert "beaver" in reader.pages(parse("beaver"), ["report:r1@1"])["report:r1@1"][0].text


@pytest.mark.parametrize("name", BACKEND_PARAMS)
def test_suggestions_come_from_entries_in_scope_only(open_index: Opener, name: str) -> None:
    backend = open_index(name)
    backend.rebuild(
        file_entries("report", "mine", "Mine", "Mine", {}, [(1, True, ["encryption keys"])])
        + file_entries("report", "theirs", "Theirs", "Theirs", {}, [(1, True, ["tokenisation"])])
    )
    mine = Scope(file_parents=frozenset({"report:mine"}))
    assert backend.suggest("encyrption", 2, mine, False) == ["encryption"]
    assert backend.suggest("tokenisaton", 2, mine, False) == []
    assert backend.suggest("tokenisaton", 2, Scope(everything=True), False) == ["tokenisation"]
    # Metadata only: the file's words are out of reach.
    assert (
        backend.suggest("encyrption", 2, Scope(meta_parents=frozenset({"report:mine"})), False)
        == []
    )
    backend.close()


def test_tantivy_index_of_an_older_schema_is_emptied_and_usable(tmp_path: Path) -> None:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("text", stored=True)
    old = tantivy.Index(builder.build(), path=str(tmp_path))
    writer = old.writer(15_000_000, 1)
    writer.add_document(tantivy.Document(text="stale entry"))
    writer.commit()
    writer.wait_merging_threads()
    del old
    backend = open_backend("tantivy", tmp_path)
    assert backend.count() == 0
    backend.rebuild(ENTRIES)
    counted = [e for e in ENTRIES if e.counted]
    assert backend.search(parse("alpha"), Scope(everything=True)).total == len(counted)


@pytest.mark.parametrize("name", BACKEND_PARAMS)
def test_a_phrase_past_a_long_files_positions_is_found(open_index: Opener, name: str) -> None:
    """PostgreSQL keeps positions up to 16,383 in a tsvector: a phrase further into a file is
    found on its page."""
    backend = open_index(name)
    filler = " ".join(f"filler{n % 700}" for n in range(17_000))
    pages = [filler, "the axolotl clause is on the last page"]
    backend.rebuild(file_entries("report", "r1", "One", "One", {}, [(1, True, pages)]))
    scope = Scope(file_parents=frozenset({"report:r1"}))
    found = backend.search(parse('"axolotl clause"'), scope)
    assert [(h.id, h.part) for h in found.hits] == [("r1", "doc")]
    best = backend.pages(parse('"axolotl clause"'), ["report:r1@1"])
    assert [p.page for p in best["report:r1@1"]] == [2]
    assert backend.search(parse('"clause axolotl"'), scope).total == 0
    assert backend.search(parse('filler3 -"axolotl clause"'), scope).total == 0


def test_the_postgres_tables_exist_on_postgresql_only(app: object) -> None:
    """Migration p17a is a no-op on SQLite."""
    from sqlalchemy import inspect

    from artifact.extensions import db

    on_postgres = db.engine.dialect.name == "postgresql"
    assert inspect(db.engine).has_table("search_entry") is on_postgres
    assert inspect(db.engine).has_table("search_word") is on_postgres


@pytest.mark.parametrize("name", [p for p in BACKEND_PARAMS if not isinstance(p, str)])
def test_postgres_folds_accents_where_unaccent_is_installed(open_index: Opener, name: str) -> None:
    """Migration p17a puts unaccent in front of the stemmer when the server offers it (this
    PostgreSQL does): "cafe" finds "café" and the other way round."""
    backend = open_index(name)
    backend.rebuild([Entry("report", "r1", "One", "Résumé of the café controls")])
    everything = Scope(everything=True)
    for text in ("cafe", "café", "resume", "RÉSUMÉ"):
        assert [h.id for h in backend.search(parse(text), everything).hits] == ["r1"], text


@pytest.mark.parametrize("name", [p for p in BACKEND_PARAMS if not isinstance(p, str)])
def test_postgres_ranks_by_a_small_vector_exactly_as_by_the_whole_one(
    open_index: Opener, name: str
) -> None:
    """Migration p17b: each counted entry's ``rank`` (its words, each with as many positions
    as in ``tsv``) is written with it, by a rebuild and by a replace, never for pages; hits come
    in the order and with the scores ``ts_rank`` of the whole vector gives, past the 256
    positions a word keeps too."""
    from sqlalchemy import text

    backend = open_index(name)
    many = ["alpha " * n + "beta " * (300 - n) for n in (3, 280, 40)]
    entries = [
        entry
        for number, body in enumerate(many)
        for entry in file_entries(
            "report", f"r{number}", f"R{number}", "meta", {}, [(1, True, [body, "gamma alpha"])]
        )
    ]
    backend.rebuild(entries[:4])
    backend.replace(["report:r1", "report:r2"], entries[4:])
    with backend.engine.connect() as connection:  # type: ignore[attr-defined]
        rows = connection.execute(
            text(
                "SELECT key, part, rank IS NOT NULL AS ranked, "
                "ts_rank(coalesce(rank, tsv), q) AS small, ts_rank(tsv, q) AS whole "
                "FROM search_entry, (SELECT plainto_tsquery('artifact_english', 'alpha') "
                "|| plainto_tsquery('artifact_english', 'beta') AS q) AS t ORDER BY key"
            )
        ).all()
    assert len(rows) == 12
    assert {(r.part, r.ranked) for r in rows} == {("meta", True), ("doc", True), ("page", False)}
    assert [r.small for r in rows if r.ranked] == [r.whole for r in rows if r.ranked]
    everything = Scope(everything=True)
    # alpha 4, 281 (256 kept) and 41 times; beta 297 (256), 20 and 260 (256) times
    orders = {"alpha": "r1 r2 r0", "alph*": "r1 r2 r0", '"alpha alpha"': "r1 r2 r0"}
    for query, order in {**orders, "alpha beta": "r2 r1 r0"}.items():
        found = backend.search(parse(query), everything)
        assert [h.id for h in found.hits if h.part == "doc"] == order.split(), query
    with backend.engine.connect() as connection:  # type: ignore[attr-defined]
        whole = dict(
            connection.execute(
                text(
                    "SELECT parent, ts_rank(tsv, plainto_tsquery('artifact_english', 'alpha')) "
                    "FROM search_entry WHERE part = 'doc'"
                )
            ).all()
        )
    found = backend.search(parse("alpha"), everything)
    assert {f"report:{h.id}": h.score for h in found.hits if h.part == "doc"} == pytest.approx(
        whole
    )
