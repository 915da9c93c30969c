"""The unit of work: one transaction per request or command, committed once by its owner.

Services never commit. They write through the session they are given and declare what has to
happen around the commit:

- ``before_commit(session, step)``: work that belongs in the same transaction but is done
  once, just before it commits (the PostgreSQL search index writes the entries of the
  records it changed);
- ``after_commit(session, step)``: work that must only happen once the data is durable
  (search indexing, mail, webhooks): the owner runs it after the commit;
- ``on_rollback(session, step)``: compensation for effects outside the database (a stored blob
  whose row will never exist is destroyed);
- ``durable(session, write)``: a record that must survive the failure of the operation it
  belongs to (a refused sign-in, a failed integrity check, a wrong TOTP code): written now, and
  written again by the owner after a rollback, then committed.

A domain error raised during the unit of work marks it failed (``DomainError`` calls
``mark_failed``): its owner rolls it back even when a view turned the error into a redirect or a
page, so a refused operation never leaves half of its writes behind.

The owners are ``artifact.web.transaction`` (a request: commit when the response succeeds and
no domain error was raised, roll back otherwise) and ``artifact.cli.common.unit_of_work`` (a
command).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, scoped_session

log = logging.getLogger(__name__)

Step = Callable[[], None]
DbSession = Session | scoped_session[Any]
Write = Callable[[DbSession], object]

_BEFORE_COMMIT = "artifact_uow_before_commit"
_AFTER_COMMIT = "artifact_uow_after_commit"
_ON_ROLLBACK = "artifact_uow_on_rollback"
_DURABLE = "artifact_uow_durable"
_failed: ContextVar[bool] = ContextVar("artifact_uow_failed", default=False)


def begin() -> None:
    """A new unit of work starts (the owner calls this first): nothing has failed yet."""
    _failed.set(False)


def mark_failed() -> None:
    """An operation of the current unit of work was refused: the owner must roll back."""
    _failed.set(True)


def failed() -> bool:
    return _failed.get()


def before_commit(session: DbSession, step: Step) -> None:
    """Run ``step`` inside the transaction, when the owner is about to commit it."""
    session.info.setdefault(_BEFORE_COMMIT, []).append(step)


def after_commit(session: DbSession, step: Step) -> None:
    """Run ``step`` once the owner has committed (never if it rolls back)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(step)


def on_rollback(session: DbSession, step: Step) -> None:
    """Run ``step`` if the owner rolls back (never if it commits)."""
    session.info.setdefault(_ON_ROLLBACK, []).append(step)


def durable(session: DbSession, write: Write) -> None:
    """Write now with the rest of the transaction; if the owner rolls it back, write again on
    its own and commit, so the record survives the failure it describes."""
    write(session)
    session.info.setdefault(_DURABLE, []).append(write)


_WROTE = "artifact_uow_wrote"
_READS = ("SELECT", "PRAGMA", "SHOW", "EXPLAIN")


def _note_statement(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if not conn.info.get(_WROTE) and not statement.lstrip()[:7].upper().startswith(_READS):
        conn.info[_WROTE] = True


def _forget_writes(conn: Any, *_args: Any) -> None:
    conn.info.pop(_WROTE, None)


# The connections the session's current transaction holds (noted as it takes each one), so
# ``has_work`` can read them without making the session take one.
_CONNECTIONS = "artifact_uow_connections"


def _note_connection(session: Session, _transaction: Any, conn: Any) -> None:
    session.info.setdefault(_CONNECTIONS, []).append(conn)


def _forget_connections(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_CONNECTIONS, None)


_tracking = False


def track_writes() -> None:
    """Note on each connection whether its transaction ran anything but a read (idempotent):
    what ``has_work`` reads."""
    global _tracking
    if _tracking:
        return
    _tracking = True
    event.listen(Engine, "before_cursor_execute", _note_statement)
    for name in ("begin", "commit", "rollback"):
        event.listen(Engine, name, _forget_writes)
    event.listen(Session, "after_begin", _note_connection)
    event.listen(Session, "after_transaction_end", _forget_connections)


def has_work(session: DbSession) -> bool:
    """Whether committing ``session`` would make anything durable or run anything: a pending
    change (new, dirty or deleted objects), a statement of its transaction other than a read
    (flushed changes, ORM or Core writes: ``track_writes``), or steps around the commit. False
    means a COMMIT would change nothing."""
    if session.new or session.dirty or session.deleted:
        return True
    if any(session.info.get(k) for k in (_AFTER_COMMIT, _ON_ROLLBACK, _DURABLE)):
        return True
    if not _tracking:
        return True  # nothing noted: assume the worst
    real = session() if isinstance(session, scoped_session) else session
    if not real.in_transaction():
        return False
    return any(conn.info.get(_WROTE) for conn in real.info.get(_CONNECTIONS, ()))


def commit(session: DbSession) -> None:
    """Commit the unit of work, then run its after-commit steps. If the commit itself fails,
    the transaction is rolled back (compensations and durable records included) and the error
    propagates."""
    try:
        for step in session.info.pop(_BEFORE_COMMIT, []):
            step()
        session.commit()
    except Exception:
        rollback(session)
        raise
    session.info.pop(_ON_ROLLBACK, None)
    session.info.pop(_DURABLE, None)
    _run(session.info.pop(_AFTER_COMMIT, []), "after-commit")


def rollback(session: DbSession) -> None:
    """Discard the unit of work: undo effects outside the database, then keep what must be
    kept (durable records) in a transaction of their own."""
    session.rollback()
    session.info.pop(_BEFORE_COMMIT, None)
    session.info.pop(_AFTER_COMMIT, None)
    _run(session.info.pop(_ON_ROLLBACK, []), "rollback")
    writes: list[Write] = session.info.pop(_DURABLE, [])
    if not writes:
        return
    try:
        for write in writes:
            write(session)
        session.commit()
    except Exception:
        session.rollback()
        log.exception("could not keep %d record(s) of a failed operation", len(writes))
    session.info.pop(_BEFORE_COMMIT, None)
    session.info.pop(_AFTER_COMMIT, None)
    session.info.pop(_ON_ROLLBACK, None)
    session.info.pop(_DURABLE, None)


def _run(steps: list[Step], what: str) -> None:
    for step in steps:
        try:
            step()
        except Exception:  # the database is the truth; each step has its own repair path
            log.exception("%s step failed", what)
