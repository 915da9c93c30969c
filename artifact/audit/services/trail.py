"""Reading the audit trail: filtered lists, CSV, verification, checkpoints and exports."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, inspect, or_, select

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.audit.services import signing as audit_signing
from artifact.audit.services import verifier as audit_verifier
from artifact.infra.witness import WitnessError
from artifact.infra.witness import read_file as read_witness_file
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.kernel.errors import ValidationFailed
from artifact.models import AuditCheckpoint, AuditEvent
from artifact.models.base import DbSession

CSV_COLUMNS = (
    "seq",
    "occurred_at",
    "actor_email",
    "actor_id",
    "ip_address",
    "session_ref",
    "action",
    "target_type",
    "target_id",
    "outcome",
    "details",
    "hash",
)
# A spreadsheet treats a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "|", "%")
MAX_PAGE = 500
MAX_OFFSET = 2**31 - 1  # what every database takes as an OFFSET


@dataclass(frozen=True)
class EventFilter:
    actor: str | None = None
    action: str | None = None
    target: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        if self.actor:
            stmt = stmt.where(
                or_(
                    AuditEvent.actor_id == self.actor,
                    func.lower(AuditEvent.actor_email) == self.actor.lower(),
                )
            )
        if self.action:
            stmt = stmt.where(
                or_(
                    AuditEvent.action == self.action,
                    AuditEvent.action.startswith(self.action.rstrip(".") + ".", autoescape=True),
                )
            )
        if self.target:
            stmt = stmt.where(
                or_(AuditEvent.target_id == self.target, AuditEvent.target_type == self.target)
            )
        if self.outcome:
            stmt = stmt.where(AuditEvent.outcome == self.outcome)
        if self.since:
            stmt = stmt.where(AuditEvent.occurred_at >= self.since)
        if self.until:
            stmt = stmt.where(AuditEvent.occurred_at < self.until)
        return stmt


def list_events(
    db: DbSession, caller: Caller, flt: EventFilter, *, limit: int = 100, offset: int = 0
) -> tuple[list[AuditEvent], int]:
    """Newest first. Raises PermissionDenied, ValidationFailed."""
    policy.require(caller, "audit.view")
    if not 1 <= limit <= MAX_PAGE or not 0 <= offset <= MAX_OFFSET:
        raise ValidationFailed(f"limit must be 1 to {MAX_PAGE} and offset 0 to {MAX_OFFSET}")
    total = db.scalar(flt.apply(select(func.count()).select_from(AuditEvent))) or 0
    rows = db.scalars(
        flt.apply(select(AuditEvent)).order_by(AuditEvent.seq.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total


def csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_csv(db: DbSession, caller: Caller, flt: EventFilter) -> Iterator[str]:
    """CSV of the filtered trail (oldest first), safe to open in a spreadsheet; the export is
    itself an audit event, a durable one (kept even if the owner rolls back: the rows may be
    out by then). Raises PermissionDenied."""
    policy.require(caller, "audit.export")
    details = {"filter": _filter_json(flt)}
    uow.durable(
        db, lambda session: audit.record(session, caller, "audit.export_csv", details=details)
    )
    stmt = flt.apply(select(AuditEvent)).order_by(AuditEvent.seq).execution_options(yield_per=1000)

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for event in db.scalars(stmt):
            fields = audit.event_fields(event)
            writer.writerow([csv_cell(fields[name]) for name in CSV_COLUMNS])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        if buffer.getvalue():
            yield buffer.getvalue()

    return rows()


def _filter_json(flt: EventFilter) -> dict[str, str]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in vars(flt).items() if v}


def _stream_events(db: DbSession) -> Generator[dict[str, Any], None, None]:
    stmt = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=1000)
    result = db.scalars(stmt)
    try:
        for event in result:
            yield audit.event_fields(event)
    finally:
        result.close()  # a server-side cursor on PostgreSQL, when verification stops early


def _checkpoints(db: DbSession) -> list[dict[str, Any]]:
    rows = db.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.number)).all()
    return [audit_signing.checkpoint_fields(cp) for cp in rows]


def verify(
    db: DbSession,
    caller: Caller,
    data_dir: str | Path,
    witness: str | None = None,
    witness_copy: Path | None = None,
) -> audit_verifier.Result:
    """Walk the chain and the checkpoints with the key from the data directory, and compare
    them with the witness outside the database: ``witness_copy`` (an exported file) or else
    the ``witness`` setting (default: ``<data dir>/audit-witness``); a witness that cannot be
    read fails the verification. Raises PermissionDenied, ValidationFailed (no trail in this
    database)."""
    policy.require(caller, "audit.verify")
    if not inspect(db.get_bind()).has_table(AuditEvent.__tablename__):
        raise ValidationFailed(
            "this database has no audit trail: it is not initialised (run `flask init`)"
        )
    try:
        witnessed, note = _witnessed(db, data_dir, witness, witness_copy)
    except ValidationFailed as error:  # a witness that cannot be read cannot vouch for the trail
        return audit_verifier.Result(False, 0, 0, None, error.message)
    events = _stream_events(db)
    try:
        result = audit_verifier.verify(
            events, _checkpoints(db), audit_signing.public_key(data_dir), witnessed
        )
    finally:
        events.close()
    return replace(result, message=f"{result.message}{note}") if result.ok else result


def _witnessed(
    db: DbSession, data_dir: str | Path, setting: str | None, copy: Path | None
) -> tuple[list[dict[str, Any]] | None, str]:
    """The witness's records (None when it cannot be read back) and what to say about it."""
    try:
        if copy is not None:
            return read_witness_file(copy), ""
        found = audit_signing.witness_of(setting or audit_signing.witness_setting(db, data_dir), db)
        records = found.read()
    except WitnessError as error:
        raise ValidationFailed(str(error)) from error
    if records is None:
        return None, (
            f"; the witness, {found.describe()}, cannot be read back: compare with a copy "
            "(flask audit verify --witness FILE)"
        )
    return records, ""


def checkpoint(db: DbSession, caller: Caller, data_dir: str | Path) -> AuditCheckpoint | None:
    """Sign the head now (None when nothing is new). Raises PermissionDenied."""
    policy.require(caller, "audit.checkpoint")
    audit.lock_head(db)
    return audit_signing.sign_head(db, data_dir)


def export(
    db: DbSession,
    caller: Caller,
    data_dir: str | Path,
    directory: Path,
    witness: str | None = None,
) -> int:
    """Write the trail, its checkpoints, the public key, a copy of the witness (when it can be
    read back) and the standalone verifier to ``directory`` (new or empty). Signs the head
    first, so the export has no unsigned tail (that checkpoint is witnessed once the export's
    unit of work commits, so the copy does not hold it yet).
    Returns the number of events. The export is itself an audit event, a durable one (kept
    even if the owner rolls back: files may be written by then). Raises PermissionDenied,
    ValidationFailed."""
    policy.require(caller, "audit.export")
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ValidationFailed(f"{directory} exists and is not an empty directory")
    witnessed, _note = _witnessed(db, data_dir, witness, None)
    details = {"directory": directory.name}
    uow.durable(db, lambda session: audit.record(session, caller, "audit.export", details=details))
    return write_trail(db, data_dir, directory, witnessed)


def witness_records(
    db: DbSession, data_dir: str | Path, witness: str | None = None
) -> list[dict[str, Any]] | None:
    """The witness's checkpoints as an export copies them (None when it cannot be read back,
    a syslog witness). Raises ValidationFailed when the witness cannot be read."""
    return _witnessed(db, data_dir, witness, None)[0]


def write_trail(
    db: DbSession,
    data_dir: str | Path,
    directory: Path,
    witnessed: list[dict[str, Any]] | None,
) -> int:
    """The files of an export (the whole chain: the verifier walks it from seq 1) written to
    ``directory``, after signing the head; the number of events. The caller checks the policy
    and records its own event first (``export`` here; an engagement package)."""
    audit_signing.sign_head(db, data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    with (directory / "events.jsonl").open("w", encoding="utf-8") as handle:
        for fields in _stream_events(db):
            handle.write(json.dumps(fields, sort_keys=True) + "\n")
            count += 1
    with (directory / "checkpoints.jsonl").open("w", encoding="utf-8") as handle:
        for cp in _checkpoints(db):
            handle.write(json.dumps(cp, sort_keys=True) + "\n")
    if witnessed is not None:
        with (directory / "witness.jsonl").open("w", encoding="utf-8") as handle:
            for record in witnessed:
                handle.write(json.dumps(record, sort_keys=True) + "\n")
    (directory / "public_key.pem").write_bytes(audit_signing.public_pem(data_dir))
    shutil.copyfile(audit_verifier.__file__, directory / "verify.py")
    (directory / "README.txt").write_text(
        "Artifact audit trail export.\n\n"
        "  events.jsonl       one event per line, ascending seq, with prev_hash and hash\n"
        "  checkpoints.jsonl  Ed25519-signed checkpoints of the chain head\n"
        "  witness.jsonl      the checkpoints as the witness outside the database kept them\n"
        "                     (absent when the witness is syslog: add your syslog copy)\n"
        "  public_key.pem     the key that signed them (compare its fingerprint out of band)\n"
        "  verify.py          the verifier: python3 verify.py THIS_DIRECTORY\n"
        "                     (needs only Python 3.11+ and the 'cryptography' package)\n",
        encoding="utf-8",
    )
    return count
