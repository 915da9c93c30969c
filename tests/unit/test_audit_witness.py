"""The witness: every signed checkpoint is also written outside the database, and verification
compares the two, so an attacker with database access (triggers dropped, rows deleted or
rewritten) cannot make `audit verify` say ok."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from artifact import create_app
from artifact.audit.services import chain as audit
from artifact.audit.services import signing as audit_signing
from artifact.audit.services import trail as audit_trail
from artifact.config import ConfigError, load_config
from artifact.extensions import db
from artifact.kernel.caller import OPERATOR
from artifact.models import AuditEvent
from tests.unit.test_audit_trail import _append, _raw


def _witness_file(app: Flask) -> Path:
    return Path(app.config["DATA_DIR"]) / "audit-witness" / "checkpoints.jsonl"


def _checkpoint(app: Flask) -> None:
    audit_trail.checkpoint(db.session, OPERATOR, app.config["DATA_DIR"])
    db.session.commit()


def _trail(app: Flask) -> None:
    """Events 1-5 signed by checkpoint #1, 6-8 by #2, then an unsigned tail 9-10."""
    _append(5)
    _checkpoint(app)
    _append(3)
    _checkpoint(app)
    _append(2)


def _verify(app: Flask, **kwargs: object) -> audit_trail.audit_verifier.Result:
    db.session.expire_all()
    return audit_trail.verify(
        db.session, OPERATOR, app.config["DATA_DIR"], app.config["AUDIT_WITNESS"], **kwargs
    )


def _rewrite_from(seq: int) -> None:
    """Change event ``seq``, recompute every hash after it and delete the checkpoints that no
    longer match, as a careful attacker would."""
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    fields = [audit.event_fields(e) for e in events]
    times = [e.occurred_at for e in events]
    fields[seq - 1]["details"] = '{"i":1000}'
    prev = fields[seq - 2]["hash"] if seq > 1 else audit.GENESIS_HASH
    for row in fields[seq - 1 :]:
        row["prev_hash"] = prev
        row["hash"] = audit_trail.audit_verifier.event_hash(prev, row)
        prev = row["hash"]
    _raw("DELETE FROM audit_checkpoint WHERE event_seq >= :seq", seq=seq)
    _raw("DELETE FROM audit_event WHERE seq >= :seq", seq=seq)
    with db.engine.begin() as conn:
        conn.execute(
            AuditEvent.__table__.insert(),
            [
                {**row, "occurred_at": at}
                for row, at in zip(fields[seq - 1 :], times[seq - 1 :], strict=True)
            ],
        )


def test_every_committed_checkpoint_is_witnessed_outside_the_database(app: Flask) -> None:
    _trail(app)
    lines = _witness_file(app).read_text().splitlines()
    assert [json.loads(line)["event_seq"] for line in lines] == [5, 8]
    assert _witness_file(app).stat().st_mode & 0o777 == 0o600
    result = _verify(app)
    assert result.ok, result.message
    assert "witnessed up to checkpoint #2" in result.message


def test_a_checkpoint_rolled_back_is_not_witnessed(app: Flask) -> None:
    _append(3)
    audit_trail.checkpoint(db.session, OPERATOR, app.config["DATA_DIR"])
    db.session.rollback()
    _append(1)
    assert not _witness_file(app).exists()
    assert _verify(app).ok


def test_deleting_every_checkpoint_is_found(app: Flask) -> None:
    _trail(app)
    _raw("DELETE FROM audit_checkpoint")
    result = _verify(app)
    assert not result.ok
    assert result.first_bad_seq == 5
    assert "checkpoint #1 (signing seq 5) is in the witness but missing from the database" in (
        result.message
    )


def test_deleting_the_tail_and_the_newest_checkpoint_is_found(app: Flask) -> None:
    _trail(app)
    _raw("DELETE FROM audit_checkpoint WHERE number = 2")
    _raw("DELETE FROM audit_event WHERE seq > 5")
    result = _verify(app)
    assert not result.ok
    assert result.first_bad_seq == 6
    assert "events 6 to 8 are missing" in result.message
    assert "checkpoint #2" in result.message


@pytest.mark.parametrize(("row", "first_bad", "named"), [(3, 1, "event 5"), (7, 6, "event 8")])
def test_a_chain_rewritten_after_deleting_the_checkpoints_is_found(
    app: Flask, row: int, first_bad: int, named: str
) -> None:
    _trail(app)
    _rewrite_from(row)
    # The database alone is consistent again: only the witness shows it.
    db.session.expire_all()
    alone = audit_trail.verify(
        db.session, OPERATOR, app.config["DATA_DIR"], f"{app.config['DATA_DIR']}/an-empty-witness"
    )
    assert alone.ok
    result = _verify(app)
    assert not result.ok
    assert result.first_bad_seq == first_bad
    assert f"{named} differs from the witness's checkpoint" in result.message
    assert "rewritten" in result.message


def test_a_trail_deleted_entirely_is_found(app: Flask) -> None:
    _trail(app)
    _raw("DELETE FROM audit_checkpoint")
    _raw("DELETE FROM audit_event")
    result = _verify(app)
    assert not result.ok
    assert "there are no events" in result.message


def test_a_new_checkpoint_after_deleting_them_does_not_hide_it(app: Flask) -> None:
    _trail(app)
    _raw("DELETE FROM audit_checkpoint")
    db.session.expire_all()
    _checkpoint(app)  # signs a new "#1" over the whole trail
    result = _verify(app)
    assert not result.ok
    assert "two different checkpoints #1" in result.message


def test_the_command_compares_with_an_exported_witness_copy(
    app: Flask, runner, tmp_path: Path
) -> None:
    _trail(app)
    copy = tmp_path / "witness-copy.jsonl"
    copy.write_bytes(_witness_file(app).read_bytes())
    _witness_file(app).unlink()  # the attacker removed the local witness as well
    _raw("DELETE FROM audit_checkpoint")
    db.session.remove()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # nothing left to compare
    bad = runner.invoke(args=["audit", "verify", "--witness", str(copy)])
    assert bad.exit_code == 1
    assert "FAILED at seq 5: checkpoint #1" in bad.output


def test_the_command_on_an_untampered_and_an_empty_trail(app: Flask, runner) -> None:
    db.session.remove()
    empty = runner.invoke(args=["audit", "verify"])
    assert empty.exit_code == 0, empty.output
    assert "the audit trail is empty" in empty.output
    _trail(app)
    db.session.remove()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("ok 10 events")


def test_the_command_on_a_database_never_initialised(tmp_path: Path) -> None:
    fresh = create_app(
        {
            "ARTIFACT_ENV": "testing",
            "DATA_DIR": str(tmp_path / "fresh"),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.db'}",
        }
    )
    result = fresh.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "no audit trail: it is not initialised" in result.output
    assert "Traceback" not in result.output


def test_the_api_verifies_against_the_witness(app: Flask, make_user, api_as) -> None:
    admin = api_as(make_user("admin"))
    _trail(app)
    assert admin.get("/audit/verify").get_json()["ok"] is True
    _raw("DELETE FROM audit_checkpoint")
    answer = admin.get("/audit/verify").get_json()
    assert answer["ok"] is False
    assert answer["first_bad_seq"] is not None
    assert "missing from the database" in answer["message"]


def test_the_export_carries_the_witness_and_its_verifier_uses_it(
    app: Flask, tmp_path: Path
) -> None:
    _trail(app)
    _raw("DELETE FROM audit_checkpoint")
    db.session.expire_all()
    out = tmp_path / "export"
    audit_trail.export(db.session, OPERATOR, app.config["DATA_DIR"], out)
    assert (out / "witness.jsonl").read_text() != ""
    check = subprocess.run(
        [sys.executable, "-I", str(out / "verify.py"), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 1
    assert "checkpoint #1" in check.stdout


def test_syslog_witness(app: Flask) -> None:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    port = receiver.getsockname()[1]
    app.config["AUDIT_WITNESS"] = f"syslog://127.0.0.1:{port}"
    audit_signing.configure(db.session, audit_signing.CheckpointPolicy.from_config(app.config))
    try:
        _append(2)
        _checkpoint(app)
        message = receiver.recv(4096).decode()
    finally:
        receiver.close()
    assert "artifact-audit-checkpoint: " in message
    record = json.loads(message.split("artifact-audit-checkpoint: ", 1)[1].rstrip("\x00"))
    assert record["event_seq"] == 2
    result = _verify(app)
    assert result.ok
    assert "cannot be read back" in result.message


def test_witness_settings(tmp_path: Path) -> None:
    base = {"ARTIFACT_DATA_DIR": str(tmp_path), "ARTIFACT_ENV": "testing"}
    assert load_config(environ=base)["AUDIT_WITNESS"] == str(tmp_path / "audit-witness")
    assert (
        load_config(environ={**base, "ARTIFACT_AUDIT_WITNESS": "syslog"})["AUDIT_WITNESS"]
        == "syslog"
    )
    s3_witness = {**base, "ARTIFACT_AUDIT_WITNESS": "s3://audit-bucket/trail"}
    assert load_config(environ=s3_witness)["AUDIT_WITNESS"] == "s3://audit-bucket/trail"
    with pytest.raises(ConfigError, match="names no valid bucket"):
        load_config(environ={**base, "ARTIFACT_AUDIT_WITNESS": "s3://a/trail"})
    with pytest.raises(ConfigError, match="must be a directory, syslog"):
        load_config(environ={**base, "ARTIFACT_AUDIT_WITNESS": "ftp://host/trail"})


def test_an_unreadable_witness_fails_the_verification(app: Flask) -> None:
    _trail(app)
    with _witness_file(app).open("a") as handle:
        handle.write("not json\n")
    result = _verify(app)
    assert not result.ok
    assert result.line().startswith("FAILED: line 3 of the audit witness")
