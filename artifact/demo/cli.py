"""``flask seed-demo``: the demo organisations, users and documents."""

from __future__ import annotations

import secrets

import click
from flask import current_app

from artifact.cli.common import unit_of_work
from artifact.demo import seed as demo
from artifact.extensions import db
from artifact.kernel.caller import OPERATOR


@click.command("seed-demo")
@click.option("--force", is_flag=True, help="seed even outside development and testing")
@unit_of_work
def seed_demo_command(force: bool) -> None:
    """Create the demo organisations and users, and print how to sign in."""
    if current_app.config["ARTIFACT_ENV"] == "production" and not force:
        raise click.ClickException(
            "refusing to create demo accounts in production; set ARTIFACT_ENV=development "
            "or pass --force"
        )
    accounts_made = demo.seed(db.session, OPERATOR, password_factory=_demo_password)
    click.echo("Demo accounts (passwords are new on every seed-demo run):")
    width = max(len(account.email) for account in accounts_made)
    for account in accounts_made:
        org = f"  {account.organization}" if account.organization else ""
        click.echo(f"  {account.email:<{width}}  {account.password}  {account.role}{org}")


def _demo_password() -> str:
    return secrets.token_urlsafe(12)
