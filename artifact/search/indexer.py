"""Keeps the index in step with the database. A service that changes a searchable record says
so with ``note(session, kind, record_id)``; once the owner of the transaction commits, the
entries of the noted records are rebuilt in a fresh session (PDF text extracted after the
upload has committed). With the PostgreSQL backend the index is rows of the same database:
the entries are written in the writing transaction itself, just before it commits (in a
savepoint: a failure is logged and the change still commits), so every app server sees them at
that commit. Of grants the index holds only who a report grant without an expiry names
(``policy.standing_grantees``; the grant services note the report); everything else the
policy decides (terms, acceptances, expiring grants) filters every search at query time.
``rebuild`` reindexes everything (``search reindex``).

``index`` is the app's index for everyone here: when opening it found an index written with
another analysis (an upgrade that changed ``language.FORMAT``), it was emptied, and the first
use in that process rebuilds it from the database before answering (logged; until then other
processes may see it partly filled). If that rebuild fails, ``search reindex`` repairs it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy.orm import Session

from artifact.infra.pdf.text import MAX_PAGE_CHARS, page_texts
from artifact.infra.search import Backend, index_for
from artifact.infra.search.backend import Entry, parent_key
from artifact.infra.search.postgres_backend import PostgresBackend
from artifact.infra.storage import store_for
from artifact.kernel import uow
from artifact.models import EvidenceVersion, ReportVersion
from artifact.models.base import DbSession
from artifact.search import kinds

NOTED = "artifact_search_noted"
FULL, META = "full", "meta"
# File types whose text is indexed (evidence: PDF pages, UTF-8 text and CSV; images and office
# files by their metadata only), and how many page-sized pieces of a text file at most.
TEXT_TYPES = frozenset({"csv", "text"})
MAX_TEXT_PAGES = 100
_refilling = threading.Lock()


def index(app: Flask, db: DbSession) -> Backend:
    """The app's index, refilled from the database first if opening it emptied it."""
    backend = index_for(app)
    if backend.emptied:
        with _refilling:
            if backend.emptied:
                app.logger.warning("search index of an older format: rebuilding it")
                count = rebuild(app, db)
                app.logger.warning("search index rebuilt: %d entries", count)
    return backend


def note(session: DbSession, kind: str, record_id: str, full: bool = True) -> None:
    """Rewrite the entries of record ``record_id`` of ``kind`` (one of ``kinds.KINDS``) once
    the owner of ``session``'s transaction commits; ``full=False`` says the change left its
    files as they are (today the record is rewritten whole either way: its file entries carry
    its metadata). Nothing happens if it rolls back. Noting a
    record that is gone by then removes its entries."""
    if kind not in kinds.KINDS:
        raise ValueError(f"unknown search kind {kind!r}")
    noted: dict[tuple[str, str], str] | None = session.info.get(NOTED)
    if noted is None:
        noted = session.info[NOTED] = {}
        app = _current_app()
        if app is not None and isinstance(index_for(app), PostgresBackend):
            uow.before_commit(session, lambda: _index_in_transaction(app, session, noted))
        else:
            uow.after_commit(session, lambda: _index_noted(app, session, noted))
        uow.on_rollback(session, lambda: _forget(session, noted))
    if noted.get((kind, record_id)) != FULL:
        noted[(kind, record_id)] = FULL if full else META


def _current_app() -> Flask | None:
    if not has_app_context():
        return None
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def _forget(session: DbSession, noted: dict[tuple[str, str], str]) -> None:
    if session.info.get(NOTED) is noted:
        del session.info[NOTED]


def _index_noted(app: Flask | None, session: DbSession, noted: dict[tuple[str, str], str]) -> None:
    """The after-commit step: the data is durable, so a failure here is only logged (the
    database is the truth; ``search reindex`` repairs the index)."""
    _forget(session, noted)
    if app is None:
        app = _current_app()
    if app is None or not noted:
        return
    try:
        # A session of its own, after the owner's commit: it only reads what is now durable.
        with Session(bind=session.get_bind()) as fresh:
            update(app, fresh, noted)
    except Exception:
        app.logger.exception("search index update failed for %d records", len(noted))


def _index_in_transaction(
    app: Flask, session: DbSession, noted: dict[tuple[str, str], str]
) -> None:
    """The before-commit step of the PostgreSQL backend: the noted records' entries, written
    through the session's own connection (it reads what the transaction wrote)."""
    _forget(session, noted)
    if not noted:
        return
    backend = index_for(app)
    assert isinstance(backend, PostgresBackend)  # noqa: S101 (note() chose this step for it)
    try:
        with session.begin_nested():
            parents, entries = _entries(app, session, noted)
            backend.replace_in(session.connection(), parents, entries)
    except Exception:
        app.logger.exception("search index update failed for %d records", len(noted))


def file_pages(data: bytes, file_type: str) -> list[str]:
    """The text of each page: PDF pages (pdfium), a UTF-8 text or CSV file cut into page-sized
    pieces; nothing for other types. Raises ValueError for a PDF pdfium cannot read."""
    if file_type == "pdf":
        return page_texts(data)
    if file_type in TEXT_TYPES:
        text = " ".join(data.decode("utf-8", errors="replace").split())
        return [
            text[i : i + MAX_PAGE_CHARS]
            for i in range(0, min(len(text), MAX_PAGE_CHARS * MAX_TEXT_PAGES), MAX_PAGE_CHARS)
        ]
    return []


def pages_reader(app: Flask) -> Callable[[Any], list[str]]:
    """The text of each page of a version's file (a report's or an evidence item's), decrypted
    from the blob store here, after the commit, and never kept. A file that cannot be read is
    indexed by its metadata only."""
    store = store_for(app)

    def read(version: ReportVersion | EvidenceVersion | None) -> list[str]:
        if version is None:
            return []
        file_type = getattr(version, "file_type", "pdf")  # reports are always PDF
        if file_type != "pdf" and file_type not in TEXT_TYPES:
            return []
        try:
            return file_pages(store.read_bytes(version.blob_id), file_type)
        except ValueError:
            app.logger.warning(
                "no text extracted from %s version %s", type(version).__name__, version.id
            )
            return []

    return read


def update(app: Flask, db: DbSession, noted: dict[tuple[str, str], str]) -> None:
    """Rewrite the entries of the ``noted`` records, in one index commit."""
    parents, entries = _entries(app, db, noted)
    index(app, db).replace(parents, entries)


def _entries(
    app: Flask, db: DbSession, noted: dict[tuple[str, str], str]
) -> tuple[list[str], list[Entry]]:
    parents: list[str] = []
    entries: list[Entry] = []
    read_pages = pages_reader(app)
    for kind, record_id in noted:
        # Every mode rewrites the record whole: the entries of its files' versions hold its
        # metadata too (the current one) and its title, so a metadata change reaches them.
        parents.append(parent_key(kind, record_id))
        entries.extend(kinds.KINDS[kind].entries(db, record_id, read_pages))
    return parents, entries


@dataclass
class Filled:
    indexed: int = 0  # records indexed in this run
    already: int = 0  # records whose entries were there (an earlier run, or the app)
    removed: int = 0  # entries of records that are gone


def fill(app: Flask, db: DbSession, report: Callable[[str], None] | None = None) -> Filled:
    """Fill the PostgreSQL index record by record, each in a transaction of its own, skipping
    the records it already holds, then drop the entries of records that are gone: resumable
    and idempotent (``flask migrate-store``). ``report`` hears each record indexed."""
    backend = index_for(app)
    if not isinstance(backend, PostgresBackend):
        raise ValueError("fill() is for ARTIFACT_SEARCH_BACKEND=postgres")
    done = backend.indexed_parents()
    read_pages = pages_reader(app)
    result = Filled()
    with Session(bind=db.get_bind()) as fresh:
        for name, kind in kinds.KINDS.items():
            for record_id in list(kind.ids(fresh)):
                parent = parent_key(name, record_id)
                if parent in done:
                    result.already += 1
                    continue
                backend.replace([parent], list(kind.entries(fresh, record_id, read_pages)))
                fresh.expunge_all()
                result.indexed += 1
                if report is not None:
                    report(parent)
        known = [
            parent_key(name, record_id)
            for name, kind in kinds.KINDS.items()
            for record_id in kind.ids(fresh)
        ]
    result.removed = backend.remove_except(known)
    return result


def rebuild(app: Flask, db: DbSession) -> int:
    """Empty the index and load every record; returns the number of entries."""
    read_pages = pages_reader(app)

    def entries(fresh: Session) -> Iterator[Entry]:
        for kind in kinds.KINDS.values():
            for record_id in list(kind.ids(fresh)):
                yield from kind.entries(fresh, record_id, read_pages)
                fresh.expunge_all()  # memory stays flat however large the catalog

    backend = index_for(app)
    with Session(bind=db.get_bind()) as fresh:
        count = backend.rebuild(entries(fresh))
    backend.emptied = False
    return count
