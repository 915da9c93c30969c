"""Commands of the audit trail and the deployment check: ``flask audit ...``,
``flask check-deploy``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from artifact.audit.services import trail as audit_trail
from artifact.cli import domain_errors_exit_1
from artifact.extensions import db
from artifact.kernel.caller import OPERATOR

audit_cli = AppGroup("audit", help="Verify, sign and export the audit trail.")


@audit_cli.command("verify")
@domain_errors_exit_1
def audit_verify() -> None:
    """Walk the hash chain and the signed checkpoints; exit 1 naming the first bad seq."""
    result = audit_trail.verify(db.session, OPERATOR, current_app.config["DATA_DIR"])
    click.echo(result.line(), err=not result.ok)
    if not result.ok:
        raise SystemExit(1)


@audit_cli.command("checkpoint")
@domain_errors_exit_1
def audit_checkpoint() -> None:
    """Sign the head of the trail now (for cron or a systemd timer)."""
    cp = audit_trail.checkpoint(db.session, OPERATOR, current_app.config["DATA_DIR"])
    if cp is None:
        click.echo("nothing new to sign")
    else:
        click.echo(f"checkpoint #{cp.number} signed seq {cp.event_seq}")


@audit_cli.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@domain_errors_exit_1
def audit_export(directory: Path) -> None:
    """Write events, checkpoints, the public key and a standalone verifier to DIRECTORY."""
    count = audit_trail.export(db.session, OPERATOR, current_app.config["DATA_DIR"],
                               directory)
    click.echo(f"exported {count} events to {directory}; check with: "
               f"python3 {directory / 'verify.py'} {directory}")


@click.command("check-deploy")
@with_appcontext
def check_deploy_command() -> None:
    """List what in the current settings falls short of production; exit 1 if anything does."""
    from artifact.admin.deploy_checks import deploy_problems

    problems = deploy_problems(current_app.config)
    for problem in problems:
        click.echo(f"FAIL {problem}")
    if problems:
        click.echo(f"{len(problems)} problem(s): not ready for production", err=True)
        raise SystemExit(1)
    click.echo("ok: the settings meet the production checklist")
