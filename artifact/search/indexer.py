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

from artifact.infra.pdf.text import MAX_PAGE_CHARS, page_texts
from artifact.infra.search import index_for
from artifact.infra.search.backend import Entry, parent_key
from artifact.infra.storage import store_for
from artifact.models import (
    Agreement,
    AgreementVersion,
    Evidence,
    EvidenceLink,
    EvidenceVersion,
    Report,
    ReportVersion,
    Requirement,
)
from artifact.models.base import DbSession
from artifact.search.kinds import ADAPTERS, all_ids

PENDING = "artifact_search_pending"
# Report columns whose change leaves the page entries as they are (only the metadata entry is
# rewritten): visibility is decided at query time, so state and terms do not touch the pages.
_META_ONLY = {"state", "terms_agreement_id", "visibility"}
FULL, META = "full", "meta"
# File types whose text is indexed (evidence: PDF pages, UTF-8 text and CSV; images and office
# files by their metadata only), and how many page-sized pieces of a text file at most.
TEXT_TYPES = frozenset({"csv", "text"})
MAX_TEXT_PAGES = 100

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
    # Evidence columns (title, description, owner, state, dates) are all metadata; a new
    # version rewrites the file's pages, and so do links (every entry carries the framework
    # facet).
    Evidence: lambda obj, new: ("evidence", obj.id, META),
    EvidenceVersion: lambda obj, new: ("evidence", obj.evidence_id, FULL),
    EvidenceLink: lambda obj, new: ("evidence", obj.evidence_id, FULL)
    if obj.evidence_id else None,
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


def file_pages(data: bytes, file_type: str) -> list[str]:
    """The text of each page: PDF pages (pdfium), a UTF-8 text or CSV file cut into page-sized
    pieces; nothing for other types. Raises ValueError for a PDF pdfium cannot read."""
    if file_type == "pdf":
        return page_texts(data)
    if file_type in TEXT_TYPES:
        text = " ".join(data.decode("utf-8", errors="replace").split())
        return [text[i:i + MAX_PAGE_CHARS]
                for i in range(0, min(len(text), MAX_PAGE_CHARS * MAX_TEXT_PAGES), MAX_PAGE_CHARS)]
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
            app.logger.warning("no text extracted from %s version %s",
                               type(version).__name__, version.id)
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
