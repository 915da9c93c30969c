"""Keeps the index in step with the database: session events note which records changed, and
once the transaction commits their entries are rebuilt (PDF text extracted after the upload has
committed). Grants and terms are not in the index, so their changes need nothing here: the
policy filters every search at query time. ``rebuild`` reindexes everything (``search reindex``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import chain
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from artifact.models import Agreement, AgreementVersion, Report, ReportVersion, Requirement
from artifact.models.base import DbSession
from artifact.pdf.text import page_texts
from artifact.search import index_for
from artifact.search.backend import Entry, parent_key
from artifact.search.documents import ADAPTERS, all_ids
from artifact.storage import store_for

PENDING = "artifact_search_pending"
# Report columns whose change leaves the page entries as they are (only the metadata entry is
# rewritten): visibility is decided at query time, so state and terms do not touch the pages.
_META_ONLY = {"state", "terms_agreement_id", "visibility"}
FULL, META = "full", "meta"

# What a changed object means for the index: (kind, record id, FULL or META), or None.
Watch = Callable[[Any, bool], tuple[str, str, str] | None]


def _report(obj: Report, new: bool) -> tuple[str, str, str]:
    changed = {a.key for a in inspect(obj).attrs if a.history.has_changes()}
    return "report", obj.id, META if new or changed <= _META_ONLY else FULL


WATCHED: dict[type, Watch] = {
    Report: _report,
    ReportVersion: lambda obj, new: ("report", obj.report_id, FULL),
    Agreement: lambda obj, new: ("agreement", obj.id, FULL),
    AgreementVersion: lambda obj, new: ("agreement", obj.agreement_id, FULL),
    Requirement: lambda obj, new: ("requirement", obj.id, FULL),
}


def _after_flush(session: Session, _context: Any) -> None:
    if not has_app_context():
        return
    pending: dict[tuple[str, str], str] = session.info.setdefault(PENDING, {})
    for obj in chain(session.new, session.dirty, session.deleted):
        watch = WATCHED.get(type(obj))
        noted = watch(obj, obj in session.new) if watch is not None else None
        if noted is not None:
            kind, record_id, mode = noted
            if pending.get((kind, record_id)) != FULL:
                pending[(kind, record_id)] = mode


def _after_commit(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if pending and has_app_context():
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        try:
            with Session(bind=session.get_bind()) as fresh:
                update(app, fresh, pending)
        except Exception:  # the database is the truth; `search reindex` repairs the index
            app.logger.exception("search index update failed for %d records", len(pending))


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)


def install() -> None:
    """Listen on every session (once per process)."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


def pages_reader(app: Flask) -> Callable[[Report], list[str]]:
    """The text of each page of a report's current version, read back from encrypted storage.
    A file pdfium cannot read is indexed by its metadata only."""
    store = store_for(app)

    def read(report: Report) -> list[str]:
        version = report.current_version()
        if version is None:
            return []
        try:
            return page_texts(store.read_bytes(version.blob_id))
        except ValueError:
            app.logger.warning("no text extracted from report %s version %s", report.id,
                               version.number)
            return []

    return read


def update(app: Flask, db: DbSession, pending: dict[tuple[str, str], str]) -> None:
    """Rewrite the entries of the ``pending`` records, in one index commit."""
    parents: list[str] = []
    keys: list[str] = []
    entries: list[Entry] = []
    read_pages = pages_reader(app)
    for (kind, record_id), mode in pending.items():
        _model, load = ADAPTERS[kind]
        if mode == META:
            keys.append(f"{parent_key(kind, record_id)}#0")
            entries.extend(e for e in load(db, record_id, lambda _r: []) if e.page == 0)
        else:
            parents.append(parent_key(kind, record_id))
            entries.extend(load(db, record_id, read_pages))
    index_for(app).replace(parents, entries, keys=keys)


def rebuild(app: Flask, db: DbSession) -> int:
    """Empty the index and load every record; returns the number of entries."""
    read_pages = pages_reader(app)

    def entries(fresh: Session) -> Iterator[Entry]:
        for kind, record_id in list(all_ids(fresh)):
            yield from ADAPTERS[kind][1](fresh, record_id, read_pages)
            fresh.expunge_all()  # memory stays flat however large the catalog

    with Session(bind=db.get_bind()) as fresh:
        return index_for(app).rebuild(entries(fresh))
