"""Language-aware matching on both backends: English stems and folded case meet, phrases keep
their order, control ids are found as written, and an index of another analysis is emptied on
open rather than answering wrongly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from artifact.infra.search import EMBEDDED, open_backend
from artifact.infra.search.backend import Backend, Entry, Scope
from artifact.infra.search.highlight import snippet
from artifact.infra.search.language import FORMAT_NAME
from artifact.infra.search.query import parse
from tests.fixtures_search import BACKEND_PARAMS

ENTRIES = [
    Entry("report", "noun", "Noun", "Data ENCRYPTION at rest for every volume"),
    Entry("report", "verb", "Verb", "Backups are encrypting keys; archives were Encrypted"),
    Entry("report", "order", "Order", "At rest the data needs encryption"),
    Entry("requirement", "cc61", "CC6.1", "CC6.1 Logical and physical access controls"),
    Entry("requirement", "cc62", "CC6.2", "CC6.2 Registration of users"),
    Entry("requirement", "a824", "A.8.24", "A.8.24 Use of cryptography"),
    Entry("requirement", "a825", "A.8.25", "A.8.25 Secure development life cycle"),
    Entry("requirement", "hipaa", "164.312(a)(1)", "164.312(a)(1) Access control"),
    Entry("requirement", "ac21", "AC-2(1)", "AC-2(1) Automated system account management"),
    Entry("requirement", "ac22", "AC-2(2)", "AC-2(2) Automated temporary accounts"),
]
EVERYTHING = Scope(everything=True)


@pytest.fixture(params=BACKEND_PARAMS)
def backend(request: pytest.FixtureRequest, open_index: Callable[..., Backend]) -> Backend:
    opened = open_index(request.param)
    opened.rebuild(ENTRIES)
    return opened


def found(backend: Backend, text: str) -> set[str]:
    page = backend.search(parse(text), EVERYTHING, limit=50)
    assert page.total == len(page.hits)
    return {hit.id for hit in page.hits}


@pytest.mark.parametrize("word", ["encrypted", "encrypting", "encryption", "ENCRYPTS"])
def test_forms_of_a_word_meet(backend: Backend, word: str) -> None:
    assert found(backend, word) == {"noun", "verb", "order"}


def test_a_phrase_still_needs_its_order(backend: Backend) -> None:
    assert found(backend, '"encrypted at rest"') == {"noun"}
    assert found(backend, '"rest data encryption"') == set()
    assert found(backend, "encrypted rest") == {"noun", "order"}


def test_a_prefix_finds_stems(backend: Backend) -> None:
    assert found(backend, "encrypt*") == {"noun", "verb", "order"}
    assert found(backend, "backup*") == {"verb"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CC6.1", {"cc61"}),
        ("cc6.1", {"cc61"}),
        ("A.8.24", {"a824"}),
        ("164.312(a)(1)", {"hipaa"}),
        ("AC-2(1)", {"ac21"}),
        ('"AC-2(2)"', {"ac22"}),
    ],
)
def test_control_ids_are_found_as_written(backend: Backend, text: str, expected: set[str]) -> None:
    assert found(backend, text) == expected


def test_an_index_of_another_analysis_is_emptied_on_open(tmp_path: Path) -> None:
    for name in EMBEDDED:  # (postgres: the index is rows of the database, never a format)
        directory = tmp_path / name
        backend = open_backend(name, directory)
        backend.rebuild(ENTRIES)
        assert not backend.emptied
        backend.close()
        (directory / FORMAT_NAME).unlink()  # as an index written before formats were recorded
        reopened = open_backend(name, directory)
        assert reopened.emptied
        assert reopened.count() == 0
        reopened.rebuild(ENTRIES)
        reopened.close()
        again = open_backend(name, directory)
        assert not again.emptied
        assert again.count() == len(ENTRIES)
        again.close()


def test_the_snippet_marks_other_forms_of_the_word() -> None:
    text = "Keys: data encryption at rest, encrypted backups, as assessed"
    marked = str(snippet(text, parse("encrypted as")))
    assert "<mark>encryption</mark>" in marked
    assert "<mark>encrypted</mark>" in marked
    assert "<mark>as</mark>" in marked
    assert "<mark>assessed" not in marked
