"""Commands of the audit trail: ``flask audit verify|checkpoint|export``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from artifact.audit.services import trail as audit_trail
from artifact.cli.common import unit_of_work
from artifact.extensions import db
from artifact.kernel.caller import OPERATOR

audit_cli = AppGroup("audit", help="Verify, sign and export the audit trail.")


@audit_cli.command("verify")
@click.option(
    "--witness",
    "witness_copy",
    type=click.Path(exists=True, path_type=Path),
    help="Compare with this copy of the witness (a checkpoints.jsonl, an export's "
    "witness.jsonl, or a syslog extract) instead of ARTIFACT_AUDIT_WITNESS.",
)
@unit_of_work
def audit_verify(witness_copy: Path | None) -> None:
    """Walk the hash chain and the signed checkpoints and compare them with the witness kept
    outside the database; exit 1 naming the first missing or altered event or checkpoint."""
    result = audit_trail.verify(
        db.session,
        OPERATOR,
        current_app.config["DATA_DIR"],
        current_app.config["AUDIT_WITNESS"],
        witness_copy,
    )
    click.echo(result.line(), err=not result.ok)
    if not result.ok:
        raise SystemExit(1)


@audit_cli.command("checkpoint")
@unit_of_work
def audit_checkpoint() -> None:
    """Sign the head of the trail now (for cron or a systemd timer)."""
    cp = audit_trail.checkpoint(db.session, OPERATOR, current_app.config["DATA_DIR"])
    if cp is None:
        click.echo("nothing new to sign")
    else:
        click.echo(f"checkpoint #{cp.number} signed seq {cp.event_seq}")


@audit_cli.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@unit_of_work
def audit_export(directory: Path) -> None:
    """Write events, checkpoints, the witness's copy, the public key and a standalone verifier
    to DIRECTORY."""
    count = audit_trail.export(
        db.session,
        OPERATOR,
        current_app.config["DATA_DIR"],
        directory,
        current_app.config["AUDIT_WITNESS"],
    )
    click.echo(
        f"exported {count} events to {directory}; check with: "
        f"python3 {directory / 'verify.py'} {directory}"
    )
