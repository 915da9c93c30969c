"""Append events to the hash-chained audit trail, inside the caller's transaction.

Each row's hash is SHA-256 over the previous row's hash and a canonical JSON of the row, so an
edited, deleted or reordered row breaks every hash after it. Signed checkpoints
(``audit_signing``) pin the head, so a rewritten chain or a cut-off tail shows too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from artifact.audit.services import verifier as audit_verifier
from artifact.kernel.caller import Caller
from artifact.models import AuditEvent
from artifact.models.base import DbSession, utcnow

GENESIS_HASH = audit_verifier.GENESIS_HASH
# Serialises appends across processes on PostgreSQL.
_PG_ADVISORY_KEY = 0x4172746966616374  # "Artifact"
# On SQLite, a write that touches no row still takes the database's write lock for the rest of
# the transaction, so the head read next cannot go stale before our insert commits.
_SQLITE_WRITE_LOCK = text("UPDATE audit_event SET seq = seq WHERE seq < 0")


def event_fields(event: AuditEvent) -> dict[str, Any]:
    """The row as the chain and the export see it."""
    return {
        "seq": event.seq,
        "occurred_at": event.occurred_at.isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_email": event.actor_email,
        "ip_address": event.ip_address,
        "session_ref": event.session_ref,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "outcome": event.outcome,
        "details": event.details,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    return audit_verifier.event_hash(prev_hash, event_fields(event))


def lock_head(session: DbSession) -> None:
    """Hold the trail's append lock until the caller's transaction ends."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_ADVISORY_KEY})
    elif dialect == "sqlite":
        session.execute(_SQLITE_WRITE_LOCK)


def record(
    session: DbSession,
    caller: Caller,
    action: str,
    *,
    target_type: str | None = None,
    target_id: str | None = None,
    outcome: str = "success",
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event; it commits (or rolls back) with the caller's transaction."""
    lock_head(session)
    head = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    event = AuditEvent(
        seq=seq,
        occurred_at=(at or utcnow()).astimezone(UTC),
        actor_id=caller.user_id,
        actor_email=caller.email,
        ip_address=caller.ip_address,
        session_ref=caller.session_ref,
        action=action,
        target_type=target_type,
        target_id=target_id,
        outcome=outcome,
        details=json.dumps(details or {}, sort_keys=True, separators=(",", ":")),
        prev_hash=prev_hash,
    )
    event.hash = chain_hash(prev_hash, event)
    session.add(event)
    session.flush()
    from artifact.audit.services import signing as audit_signing

    audit_signing.after_append(session, event)
    return event
