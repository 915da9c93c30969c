"""``flask check-deploy``: the production checklist of the current settings."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from artifact.admin.deploy_checks import deploy_problems


@click.command("check-deploy")
@with_appcontext
def check_deploy_command() -> None:
    """List what in the current settings falls short of production; exit 1 if anything does."""
    problems = deploy_problems(current_app.config)
    for problem in problems:
        click.echo(f"FAIL {problem}")
    if problems:
        click.echo(f"{len(problems)} problem(s): not ready for production", err=True)
        raise SystemExit(1)
    click.echo("ok: the settings meet the production checklist")
