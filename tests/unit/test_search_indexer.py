"""The indexer's contract: a service notes what changed; the index follows once the owner of
the transaction commits (never if it rolls back), on both backends."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from sqlalchemy import select

from artifact.extensions import db
from artifact.infra.search import Backend, Scope
from artifact.infra.search.backend import parent_key
from artifact.infra.search.query import parse
from artifact.kernel import uow
from artifact.models import Report
from artifact.search import indexer
from artifact.search.kinds import file_entries
from tests.fixtures_catalog import make_pdf

# Its metadata, its file's version 1 as a whole, and the three pages of that version.
ALL_PAGES = [("doc", 1), ("meta", 0), ("page", 1), ("page", 2), ("page", 3)]


def _entries(index: Backend, record_id: str) -> list[tuple[str, int]]:
    every = parse("version:all")
    found = index.search(every, Scope(everything=True), limit=100, facets=False)
    counted = [h for h in found.hits if h.id == record_id]
    docs = [h.docver for h in counted if h.part == "doc"]
    pages = [p.page for hits in index.pages(parse("tapir"), docs).values() for p in hits]
    return sorted(
        [(h.part, h.version if h.part == "doc" else 0) for h in counted]
        + [("page", n) for n in pages]
    )


@pytest.fixture
def report(search_index: Backend, make_report: Callable[..., Report]) -> Report:
    """A public report with three pages, indexed, then taken out of the index."""
    made = make_report("Indexer Test", visibility="public", pdf=make_pdf(pages=3, marker="tapir"))
    assert _entries(search_index, made.id) == ALL_PAGES
    search_index.replace([parent_key("report", made.id)], [])
    assert _entries(search_index, made.id) == []
    return made


def test_the_index_follows_the_commit_not_the_note(search_index: Backend, report: Report) -> None:
    indexer.note(db.session, "report", report.id)
    assert _entries(search_index, report.id) == []
    uow.commit(db.session)
    assert _entries(search_index, report.id) == ALL_PAGES


def test_a_rolled_back_note_is_forgotten(search_index: Backend, report: Report) -> None:
    indexer.note(db.session, "report", report.id)
    uow.rollback(db.session)
    uow.commit(db.session)
    assert _entries(search_index, report.id) == []
    indexer.note(db.session, "report", report.id)  # a new transaction notes afresh
    uow.commit(db.session)
    assert _entries(search_index, report.id) == ALL_PAGES


def test_a_metadata_note_rewrites_the_record_whole(search_index: Backend, report: Report) -> None:
    # Its file's entries carry its metadata (and title), so they are rewritten too.
    indexer.note(db.session, "report", report.id, full=False)
    uow.commit(db.session)
    assert _entries(search_index, report.id) == ALL_PAGES


def test_a_record_gone_at_the_commit_leaves_the_index(search_index: Backend) -> None:
    search_index.replace(
        [],
        file_entries("report", "gone", "Gone", "ghost", {}, [(1, True, ["tapir ghost"])]),
    )
    assert _entries(search_index, "gone") == [("doc", 1), ("meta", 0), ("page", 1)]
    indexer.note(db.session, "report", "gone")
    uow.commit(db.session)
    assert _entries(search_index, "gone") == []


def test_an_index_failure_is_logged_and_the_data_kept(
    search_index: Backend,
    report: Report,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    # postgres writes in the writing transaction (replace_in), the others after it (replace).
    writer = "replace_in" if search_index.name == "postgres" else "replace"
    monkeypatch.setattr(search_index, writer, broken)
    stored = db.session.get(Report, report.id)
    assert stored is not None
    stored.state = "retired"
    indexer.note(db.session, "report", report.id, full=False)
    with caplog.at_level(logging.ERROR):
        uow.commit(db.session)
    assert "search index update failed for 1 records" in caplog.text
    db.session.expire_all()
    assert db.session.scalar(select(Report.state).where(Report.id == report.id)) == "retired"


def test_an_unknown_kind_is_refused(app: object) -> None:
    with pytest.raises(ValueError, match="unknown search kind 'repport'"):
        indexer.note(db.session, "repport", "x")
