"""The policy generation: one number in the database that every change to what the access
policy reads (grants, report state, visibility, listing and terms, agreements and their
acceptances, roles, organisations and memberships), and to the frameworks a regulation's page
shows, bumps in the same transaction.

Answers worked out from the policy and kept across requests (``artifact.policy``'s cache)
carry the generation they were computed at; a worker reads the current number once per unit of
work and ignores anything older, so no cached answer outlives a change, whichever worker
made it. The bump is installed on every session (``track_policy_changes``), so a write path
cannot forget it: flushed objects and ORM ``insert``/``update``/``delete`` statements all count."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Integer, String, event, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from artifact.models.accounts import Organization, User
from artifact.models.agreements import Acceptance, Agreement, AgreementVersion, Termination
from artifact.models.base import Base, DbSession, new_id, read_row
from artifact.models.catalog import (
    AccessRequest,
    Grant,
    Report,
    ReportCategory,
    ReportSeries,
    ReportVersion,
)
from artifact.models.engagements import Engagement, EngagementAuditor, EngagementRequirement
from artifact.models.evidence import Evidence, EvidenceApproval, EvidenceLink, EvidenceVersion
from artifact.models.frameworks import Framework, Mapping, Requirement


class PolicyGeneration(Base):
    __tablename__ = "policy_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1: one row
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    # Random, drawn again at every bump: the number alone repeats in a copy of the database (a
    # restored backup, a test's copy of a template) that then changes differently; the pair
    # never names two different states.
    epoch: Mapped[str] = mapped_column(String(32), default=new_id)


ROW_ID = 1
# Every change to these rows changes what someone may see or do (or what a cached listing of
# reports shows: titles, dates and series live on the same rows as state and visibility).
_TRACKED: tuple[type, ...] = (
    Report,
    # A report's versions (an upload, a purge): what its page shows readers (kept rendered).
    ReportVersion,
    Grant,
    # Requests for access: how many wait is in every staff page's header (kept); customers
    # make a few a day.
    AccessRequest,
    ReportCategory,
    ReportSeries,
    Agreement,
    AgreementVersion,
    Acceptance,
    Termination,
    Organization,
    # Every column of a user: workers keep a snapshot of the signed-in user per generation, and
    # its password hash and verification date must be as current as its role.
    User,
    # Frameworks, their requirements and crosswalk mappings: what a regulation's page shows
    # (kept rendered per generation); they change only by an import or a mapping edit.
    Framework,
    Requirement,
    Mapping,
    # Who may read an engagement's evidence (nothing cached depends on it today; counted so
    # that anything kept later cannot outlive a closure).
    Engagement,
    EngagementAuditor,
    EngagementRequirement,
    # Evidence, its versions, approvals and links: what a framework's coverage shows staff
    # (kept rendered per generation and day); staff change them a few times a day.
    Evidence,
    EvidenceVersion,
    EvidenceApproval,
    EvidenceLink,
)
_BUMPED = "artifact_policy_generation_bumped"
_READ = "artifact_policy_generation"
_PENDING = "artifact_policy_generation_pending"


COLUMNS = (PolicyGeneration.epoch, PolicyGeneration.value)
ROW = PolicyGeneration.id == ROW_ID
_QUERY = select(*COLUMNS).where(ROW)


def prime(db: DbSession, epoch: str | None, value: int | None) -> None:
    """Remember the generation a query of this transaction read along with its own rows (the
    session check does), so ``read`` needs no query of its own."""
    if db.info.get(_READ) is None:
        db.info[_READ] = (str(epoch or ""), int(value or 0))


def read(db: DbSession) -> tuple[str, int]:
    """The current generation (the database's epoch and the number), read once per
    transaction (then remembered until it ends). Read it before working out an answer from
    the data, so an answer is never filed under a newer generation than its data. Read before
    the transaction has begun (a visitor's page), it is read outside one (``read_row``): the
    data the request reads afterwards is at least as new, so the rule holds."""
    value: tuple[str, int] | None = db.info.get(_READ)
    if value is None:
        row = read_row(db, _QUERY)
        value = (str(row[0]), int(row[1])) if row is not None else ("", 0)
        db.info[_READ] = value
    return value


def changed_here(db: DbSession) -> bool:
    """Whether this transaction changed what the policy reads (flushing what is pending first):
    its answers hold for it alone, and must be neither kept nor taken from what is kept."""
    db.flush()
    return bool(db.info.get(_BUMPED))


def bump(session: Session) -> None:
    """Count one policy change in the session's transaction (once per transaction is enough:
    readers see the new number when, and only when, the change is committed)."""
    if session.info.get(_BUMPED):
        return
    session.info[_BUMPED] = True
    done = session.execute(
        update(PolicyGeneration)
        .where(PolicyGeneration.id == ROW_ID)
        .values(value=PolicyGeneration.value + 1, epoch=new_id())
        .execution_options(synchronize_session=False)
    )
    if not getattr(done, "rowcount", 1):  # a schema made without the migration's row
        session.execute(insert(PolicyGeneration).values(id=ROW_ID, value=1, epoch=new_id()))


def _policy_relevant(session: Session, obj: Any, changed: bool) -> bool:
    if isinstance(obj, _TRACKED):
        return not changed or session.is_modified(obj, include_collections=False)
    return False


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    # The history of dirty objects is gone after the flush: decide now, bump after it.
    if session.info.get(_BUMPED):
        return
    if any(_policy_relevant(session, o, True) for o in session.dirty) or any(
        _policy_relevant(session, o, False) for o in (*session.new, *session.deleted)
    ):
        session.info[_PENDING] = True


def _after_flush_postexec(session: Session, _context: Any) -> None:
    if session.info.pop(_PENDING, False):
        bump(session)


def _do_orm_execute(state: Any) -> None:
    # ORM-enabled inserts too: a framework import writes its requirements and mappings in bulk.
    if not (state.is_update or state.is_delete or state.is_insert) or state.session.info.get(
        _BUMPED
    ):
        return
    mapper = state.bind_mapper
    cls = mapper.class_ if mapper is not None else None
    if cls is not None and cls is not PolicyGeneration and issubclass(cls, _TRACKED):
        bump(state.session)


def _forget(session: Session) -> None:
    """The transaction ended; a savepoint's end (commit or rollback) leaves the transaction
    open, and what it bumped counting as changed until it ends (conservative)."""
    if not session.in_nested_transaction():
        session.info.pop(_BUMPED, None)
    session.info.pop(_READ, None)
    session.info.pop(_PENDING, None)


def _forget_after_soft_rollback(session: Session, previous: Any) -> None:
    if not previous.nested:
        _forget(session)


_installed = False


def track_policy_changes() -> None:
    """Install the bump on every SQLAlchemy session (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush_postexec", _after_flush_postexec)
    event.listen(Session, "do_orm_execute", _do_orm_execute)
    event.listen(Session, "after_commit", _forget)
    event.listen(Session, "after_rollback", _forget)
    event.listen(Session, "after_soft_rollback", _forget_after_soft_rollback)
