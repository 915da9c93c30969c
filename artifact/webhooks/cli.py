"""``flask webhooks deliver``: try every due delivery once (the worker does it on a schedule)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from artifact.webhooks import jobs


@click.group("webhooks")
def webhooks_cli() -> None:
    """Outgoing webhooks."""


@webhooks_cli.command("deliver")
@with_appcontext
def deliver_command() -> None:
    """Try every delivery that is due now; print how many tries were made."""
    tries = jobs.deliver_due()
    click.echo(f"{tries} delivery tr{'y' if tries == 1 else 'ies'} made")
