"""The scope each backend applies (whole kinds, kinds' metadata, single records' metadata and
files), and a tantivy index of an older schema on open."""

from __future__ import annotations

from pathlib import Path

import pytest
import tantivy

from artifact.infra.search import BACKENDS, open_backend
from artifact.infra.search.backend import Entry, Scope
from artifact.infra.search.query import parse

ENTRIES = [
    Entry("report", "r1", "One", "alpha words"),
    Entry("report", "r1", "One", "alpha page", part="file", page=1),
    Entry("report", "r2", "Two", "alpha words"),
    Entry("report", "r2", "Two", "alpha page", part="file", page=1),
    Entry("evidence", "e1", "Ev", "alpha words"),
    Entry("evidence", "e1", "Ev", "alpha page", part="file", page=1),
]
SCOPES = [
    (Scope(types=frozenset({"evidence"})), {"evidence:e1#0", "evidence:e1#1"}),
    (Scope(meta_types=frozenset({"report"})), {"report:r1#0", "report:r2#0"}),
    (
        Scope(meta_types=frozenset({"report"}), file_parents=frozenset({"report:r2"})),
        {"report:r1#0", "report:r2#0", "report:r2#1"},
    ),
    (Scope(meta_parents=frozenset({"report:r1"})), {"report:r1#0"}),
    (Scope(file_parents=frozenset({"report:r1"})), {"report:r1#1"}),
    (Scope(meta_parents=frozenset({"report:nope"})), set()),
]


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize(("scope", "expected"), SCOPES, ids=range(len(SCOPES)))
def test_scope_admits_exactly_what_it_names(
    tmp_path: Path, name: str, scope: Scope, expected: set[str]
) -> None:
    backend = open_backend(name, tmp_path)
    backend.rebuild(ENTRIES)
    for facets in (True, False):
        found = backend.search(parse("alpha"), scope, limit=20, facets=facets)
        assert {f"{h.type}:{h.id}#{h.page}" for h in found.hits} == expected
        assert found.total == len(expected)
        if facets:
            assert sum(found.facets["type"].values()) == len(expected)
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
    assert backend.search(parse("alpha"), Scope(everything=True)).total == len(ENTRIES)
