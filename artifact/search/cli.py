"""``flask search reindex``: rebuild the index from the database."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup

from artifact.cli.common import unit_of_work
from artifact.extensions import db
from artifact.kernel.caller import OPERATOR
from artifact.search import services as search

search_cli = AppGroup("search", help="The full-text search index.")


@search_cli.command("reindex")
@unit_of_work
def reindex_command() -> None:
    """Rebuild the search index from the database (reports with their PDF text, agreements,
    requirements)."""
    started = time.monotonic()
    count = search.reindex(db.session, OPERATOR, current_app)
    click.echo(
        f"indexed {count} entries with {current_app.config['SEARCH_BACKEND']} "
        f"in {time.monotonic() - started:.1f} s"
    )
