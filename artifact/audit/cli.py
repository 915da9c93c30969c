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
@unit_of_work
def audit_verify() -> None:
    """Walk the hash chain and the signed checkpoints; exit 1 naming the first bad seq."""
    result = audit_trail.verify(db.session, OPERATOR, current_app.config["DATA_DIR"])
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
    """Write events, checkpoints, the public key and a standalone verifier to DIRECTORY."""
    count = audit_trail.export(db.session, OPERATOR, current_app.config["DATA_DIR"], directory)
    click.echo(
        f"exported {count} events to {directory}; check with: "
        f"python3 {directory / 'verify.py'} {directory}"
    )
