"""Signed checkpoints of the audit trail, with an Ed25519 key kept in the data directory.

The key never enters the database: whoever can rewrite the database still cannot sign a new
head. Each checkpoint signs (number, head seq, head hash, time, previous signature, key id), so
checkpoints form a chain of their own and one cannot be dropped or reordered unnoticed.

Checkpoints are written by ``flask audit checkpoint`` (run it from cron or a systemd timer) and by
the app itself, in the transaction of the event that makes one due: after
``AUDIT_CHECKPOINT_EVERY`` events or ``AUDIT_CHECKPOINT_MINUTES`` after the last checkpoint,
whichever comes first. That bounds the unsigned tail, the only part a database writer could cut
off unnoticed, by count on a busy system and by time on a quiet one.

The owner of a unit of work (a request, a command) says how with ``configure(session,
CheckpointPolicy.from_config(app.config))``; a session without a policy signs nothing by itself.

Every checkpoint is also written to the witness (``artifact.infra.witness``, outside the
database) once its transaction has committed: a checkpoint that was rolled back is never
witnessed, and one witnessed is in the database. A crash between the two leaves a checkpoint
not yet witnessed, which verification reports but does not count as tampering (it is signed).
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from artifact.audit.services import verifier as audit_verifier
from artifact.infra.witness import Witness, WitnessError, witness_for
from artifact.kernel.errors import ValidationFailed
from artifact.models import AuditCheckpoint, AuditEvent
from artifact.models.base import DbSession, utcnow

KEY_FILE = "audit-signing-key.pem"
_POLICY = "artifact_audit_checkpoint_policy"
_TO_WITNESS = "artifact_audit_to_witness"
WITNESS_DIR = "audit-witness"
log = logging.getLogger(__name__)
_cache: dict[str, tuple[float, Ed25519PrivateKey]] = {}


@dataclass(frozen=True)
class CheckpointPolicy:
    """When appending an event signs the head by itself, and where the signing key lives."""

    data_dir: Path
    every: int  # events between checkpoints; 0 or less: never by itself
    interval: timedelta  # longest time between checkpoints (while events are appended)
    witness: str = ""  # ARTIFACT_AUDIT_WITNESS; empty: <data dir>/audit-witness
    s3_endpoint: str | None = None  # ARTIFACT_S3_ENDPOINT_URL, for an s3:// witness

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CheckpointPolicy:
        """From ``DATA_DIR``, ``AUDIT_CHECKPOINT_EVERY``, ``AUDIT_CHECKPOINT_MINUTES`` and
        ``AUDIT_WITNESS``."""
        minutes = int(config.get("AUDIT_CHECKPOINT_MINUTES") or 0) or 10**6
        return cls(
            data_dir=Path(config["DATA_DIR"]),
            every=int(config.get("AUDIT_CHECKPOINT_EVERY") or 0),
            interval=timedelta(minutes=minutes),
            witness=str(config.get("AUDIT_WITNESS") or ""),
            s3_endpoint=config.get("S3_ENDPOINT_URL") or None,
        )


def configure(session: DbSession, policy: CheckpointPolicy) -> None:
    """Have the events appended through ``session`` sign checkpoints under ``policy`` (the
    owner of the unit of work calls it before any service runs)."""
    session.info[_POLICY] = policy


def configured(session: DbSession) -> CheckpointPolicy | None:
    policy: CheckpointPolicy | None = session.info.get(_POLICY)
    return policy


def witness_setting(db: DbSession, data_dir: str | Path) -> str:
    """The witness of this unit of work: its policy's, else the default directory."""
    policy = configured(db)
    return (policy.witness if policy else "") or str(Path(data_dir) / WITNESS_DIR)


def witness_of(setting: str, db: DbSession | None = None) -> Witness:
    """Raises ValidationFailed for a setting that names no witness. (``db``: the unit of work
    whose policy names the S3 endpoint.)"""
    policy = configured(db) if db is not None else None
    try:
        return witness_for(setting, policy.s3_endpoint if policy else None)
    except WitnessError as error:
        raise ValidationFailed(str(error)) from error


def _witness_after_commit(session: Session) -> None:
    for setting, endpoint, record in session.info.pop(_TO_WITNESS, []):
        try:
            witness_for(setting, endpoint).append(record)
        except (OSError, WitnessError):
            # The checkpoint is committed and signed: verification reports it as not yet
            # witnessed; the next one is witnessed again as soon as the witness is back.
            log.exception("could not write checkpoint #%s to the audit witness", record["number"])


def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_TO_WITNESS, None)


def _witness_when_committed(db: DbSession, setting: str, cp: AuditCheckpoint) -> None:
    if not event.contains(Session, "after_commit", _witness_after_commit):
        event.listen(Session, "after_commit", _witness_after_commit)
        event.listen(Session, "after_rollback", _forget_after_rollback)
    policy = configured(db)
    endpoint = policy.s3_endpoint if policy else None
    db.info.setdefault(_TO_WITNESS, []).append((setting, endpoint, checkpoint_fields(cp)))


def key_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / KEY_FILE


def load_or_create_key(data_dir: str | Path) -> Ed25519PrivateKey:
    """The signing key, created (mode 0600) on first use."""
    path = key_path(data_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first; use theirs
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
    return _load(path)


def _load(path: Path) -> Ed25519PrivateKey:
    mtime = path.stat().st_mtime
    cached = _cache.get(str(path))
    if cached and cached[0] == mtime:
        return cached[1]
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    _cache[str(path)] = (mtime, key)
    return key


def public_key(data_dir: str | Path) -> Ed25519PublicKey:
    return load_or_create_key(data_dir).public_key()


def public_pem(data_dir: str | Path) -> bytes:
    return public_key(data_dir).public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def checkpoint_fields(cp: AuditCheckpoint) -> dict[str, object]:
    return {
        "number": cp.number,
        "event_seq": cp.event_seq,
        "event_hash": cp.event_hash,
        "created_at": cp.created_at.isoformat(timespec="microseconds"),
        "prev_signature": cp.prev_signature,
        "key_id": cp.key_id,
        "signature": cp.signature,
    }


def last_checkpoint(db: DbSession) -> AuditCheckpoint | None:
    return db.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.number.desc()).limit(1))


def sign_head(db: DbSession, data_dir: str | Path) -> AuditCheckpoint | None:
    """Sign the current head; None when there is nothing new to sign. Written in the caller's
    unit of work (the caller must hold the append lock, ``audit.lock_head``, so the head cannot
    move meanwhile), and to the witness once that commits."""
    head = db.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
    previous = last_checkpoint(db)
    if head is None or (previous is not None and previous.event_seq >= head.seq):
        return None
    key = load_or_create_key(data_dir)
    raw_public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    cp = AuditCheckpoint(
        number=(previous.number + 1) if previous else 1,
        event_seq=head.seq,
        event_hash=head.hash,
        created_at=utcnow(),
        prev_signature=previous.signature if previous else "",
        key_id=audit_verifier.key_id(raw_public),
        signature="",
    )
    message = audit_verifier.checkpoint_message(checkpoint_fields(cp))
    cp.signature = base64.b64encode(key.sign(message)).decode("ascii")
    db.add(cp)
    db.flush()
    _witness_when_committed(db, witness_setting(db, data_dir), cp)
    return cp


def _due(db: DbSession, event: AuditEvent, every: int, interval: timedelta) -> bool:
    previous = last_checkpoint(db)
    if previous is not None:
        return (
            event.seq - previous.event_seq >= every
            or event.occurred_at - previous.created_at >= interval
        )
    if event.seq >= every:
        return True
    first = db.scalar(select(AuditEvent.occurred_at).where(AuditEvent.seq == 1))
    return first is not None and event.occurred_at - first >= interval


def after_append(db: DbSession, event: AuditEvent) -> None:
    """Sign the head in the appending transaction when a checkpoint is due under the session's
    policy (``configure``); nothing without one."""
    policy = configured(db)
    if policy is None or policy.every <= 0:
        return
    if _due(db, event, policy.every, policy.interval):
        sign_head(db, policy.data_dir)
