"""The audit trail: append-only in the database, hash chain + signed checkpoints, verification
that names the first bad event, exports that verify with the standalone script alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from artifact.audit.services import chain as audit
from artifact.audit.services import signing as audit_signing
from artifact.audit.services import trail as audit_trail
from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR, Caller
from artifact.models import AuditCheckpoint, AuditEvent


def _append(n: int, prefix: str = "test.event") -> None:
    for i in range(n):
        audit.record(
            db.session,
            Caller.operator("t@x.test", ip_address="192.0.2.1"),
            prefix,
            target_type="thing",
            target_id=str(i),
            details={"i": i},
        )
        db.session.commit()


def _verify(app: Flask) -> audit_trail.audit_verifier.Result:
    db.session.expire_all()
    return audit_trail.verify(db.session, OPERATOR, app.config["DATA_DIR"])


def _raw(sql: str, **params: object) -> None:
    """Tamper as an attacker with database access would: triggers dropped first."""
    db.session.close()  # DDL on PostgreSQL waits for the test's own open transaction
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event"))
            conn.execute(
                text("DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_checkpoint")
            )
        else:
            for name in (
                "audit_event_no_update",
                "audit_event_no_delete",
                "audit_checkpoint_no_update",
                "audit_checkpoint_no_delete",
            ):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        conn.execute(text(sql), params)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_event SET outcome = 'failure' WHERE seq = 1",
        "DELETE FROM audit_event WHERE seq = 1",
    ],
)
def test_the_database_refuses_to_edit_or_delete_events(app: Flask, sql: str) -> None:
    _append(2)
    db.session.close()
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text(sql))
    assert _verify(app).ok


def test_checkpoints_are_refused_edits_too(app: Flask) -> None:
    _append(1)
    assert audit_trail.checkpoint(db.session, OPERATOR, app.config["DATA_DIR"]) is not None
    uow.commit(db.session)
    db.session.close()
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_checkpoint"))


def test_a_clean_trail_verifies(app: Flask) -> None:
    _append(5)
    result = _verify(app)
    assert result.ok, result.message
    assert result.events == 5
    assert result.line().startswith("ok 5 events")


def test_the_signing_key_is_private_and_outside_the_database(app: Flask) -> None:
    _append(1)
    cp = audit_trail.checkpoint(db.session, OPERATOR, app.config["DATA_DIR"])
    assert cp is not None
    assert cp.number == 1
    assert cp.event_seq == 1
    key = Path(app.config["DATA_DIR"]) / "audit-signing-key.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    assert b"PRIVATE KEY" in key.read_bytes()
    assert audit_trail.checkpoint(db.session, OPERATOR, app.config["DATA_DIR"]) is None


def test_checkpoints_chain_their_signatures(app: Flask) -> None:
    _append(2)
    first = audit_trail.checkpoint(db.session, OPERATOR, app.config["DATA_DIR"])
    _append(1)
    second = audit_trail.checkpoint(db.session, OPERATOR, app.config["DATA_DIR"])
    assert first is not None
    assert second is not None
    assert first.prev_signature == ""
    assert second.prev_signature == first.signature


def test_the_app_signs_checkpoints_every_n_events(app: Flask) -> None:
    app.config["AUDIT_CHECKPOINT_EVERY"] = 10
    # as the owner of a request or a command does
    audit_signing.configure(db.session, audit_signing.CheckpointPolicy.from_config(app.config))
    _append(25)
    seqs = db.session.scalars(
        select(AuditCheckpoint.event_seq).order_by(AuditCheckpoint.number)
    ).all()
    assert seqs == [10, 20]
    assert _verify(app).ok


def test_a_session_without_a_checkpoint_policy_signs_nothing_by_itself(app: Flask) -> None:
    app.config["AUDIT_CHECKPOINT_EVERY"] = 10
    _append(25)
    assert db.session.scalars(select(AuditCheckpoint)).all() == []


@pytest.mark.parametrize(
    ("tamper", "bad_seq", "words"),
    [
        ("UPDATE audit_event SET details = 'tampered' WHERE seq = 4", 4, "altered"),
        ("DELETE FROM audit_event WHERE seq = 4", 4, "missing"),
        ("UPDATE audit_event SET actor_email = 'someone@else' WHERE seq = 7", 7, "altered"),
        # the tail behind the last checkpoint (seq 8) is cut off
        ("DELETE FROM audit_event WHERE seq >= 7", 7, "missing"),
        ("DELETE FROM audit_checkpoint WHERE number = 1", 8, "#1 is missing"),
    ],
)
def test_tampering_is_found_and_named(app: Flask, tamper: str, bad_seq: int, words: str) -> None:
    _append(4)
    audit_trail.checkpoint(db.session, OPERATOR, app.config["DATA_DIR"])
    _append(4)
    audit_trail.checkpoint(db.session, OPERATOR, app.config["DATA_DIR"])
    _append(2)
    _raw(tamper)
    result = _verify(app)
    assert not result.ok
    assert result.first_bad_seq == bad_seq, result.message
    assert words in result.message


def test_reordered_rows_are_found(app: Flask) -> None:
    _append(6)
    # swap the contents of rows 3 and 4, keeping their sequence numbers in place
    _raw("UPDATE audit_event SET seq = -3 WHERE seq = 3")
    _raw("UPDATE audit_event SET seq = 3 WHERE seq = 4")
    _raw("UPDATE audit_event SET seq = 4 WHERE seq = -3")
    result = _verify(app)
    assert (result.ok, result.first_bad_seq) == (False, 3)


def test_a_rewritten_chain_is_caught_by_the_checkpoint(app: Flask) -> None:
    """An attacker edits event 3 and recomputes every hash after it: the chain is consistent,
    but the signed checkpoint at seq 5 no longer matches."""
    _append(5)
    audit_trail.checkpoint(db.session, OPERATOR, app.config["DATA_DIR"])
    _append(1)
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    fields = [audit.event_fields(e) for e in events]
    times = [e.occurred_at for e in events]
    fields[2]["details"] = '{"i":1000}'
    prev = fields[1]["hash"]
    for row in fields[2:]:
        row["prev_hash"] = prev
        row["hash"] = audit_trail.audit_verifier.event_hash(prev, row)
        prev = row["hash"]
    _raw("DELETE FROM audit_event WHERE seq >= 3")
    db.session.expire_all()
    with db.engine.begin() as conn:
        conn.execute(
            AuditEvent.__table__.insert(),
            [{**row, "occurred_at": at} for row, at in zip(fields[2:], times[2:], strict=True)],
        )
    result = _verify(app)
    assert not result.ok
    assert result.first_bad_seq == 5
    assert "rewritten" in result.message


def test_export_verifies_with_the_standalone_script_alone(app: Flask, tmp_path: Path) -> None:
    _append(7)
    out = tmp_path / "export"
    count = audit_trail.export(db.session, OPERATOR, app.config["DATA_DIR"], out)
    assert count == 8  # the export itself is an event
    assert sorted(p.name for p in out.iterdir()) == [
        "README.txt",
        "checkpoints.jsonl",
        "events.jsonl",
        "public_key.pem",
        "verify.py",
        "witness.jsonl",  # the witness's copy, though it holds nothing yet
    ]
    script = out / "verify.py"
    assert "from artifact" not in script.read_text()
    assert "import artifact" not in script.read_text()
    ok = subprocess.run(
        [sys.executable, "-I", str(script), str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("ok 8 events")
    lines = (out / "events.jsonl").read_text().splitlines()
    row = json.loads(lines[4])
    row["action"] = "nothing.to.see"
    lines[4] = json.dumps(row)
    (out / "events.jsonl").write_text("\n".join(lines) + "\n")
    bad = subprocess.run(
        [sys.executable, "-I", str(script), str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert bad.returncode == 1
    assert "FAILED at seq 5" in bad.stdout


def test_export_reorder_and_forged_key_are_found(app: Flask, tmp_path: Path) -> None:
    _append(4)
    out = tmp_path / "export"
    audit_trail.export(db.session, OPERATOR, app.config["DATA_DIR"], out)
    lines = (out / "events.jsonl").read_text().splitlines()
    lines[1], lines[2] = lines[2], lines[1]
    (out / "events.jsonl").write_text("\n".join(lines) + "\n")
    result = audit_trail.audit_verifier.verify_export(out)
    assert (result.ok, result.first_bad_seq) == (False, 2)


def test_export_refuses_a_non_empty_directory(app: Flask, tmp_path: Path) -> None:
    (tmp_path / "x").write_text("keep me")
    with pytest.raises(audit_trail.ValidationFailed):
        audit_trail.export(db.session, OPERATOR, app.config["DATA_DIR"], tmp_path)
    assert (tmp_path / "x").read_text() == "keep me"


def test_csv_cells_cannot_start_formulas() -> None:
    assert audit_trail.csv_cell('=HYPERLINK("http://evil")') == '\'=HYPERLINK("http://evil")'
    for dangerous in ("+1", "-1+2", "@SUM(A1)", "\tx", "\rx"):
        assert audit_trail.csv_cell(dangerous).startswith("'")
    assert audit_trail.csv_cell("alice@example.test") == "alice@example.test"
    assert audit_trail.csv_cell(None) == ""
