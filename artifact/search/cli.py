"""``flask search reindex``: rebuild the index from the database; ``flask search status``: its
counts against the database."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup

from artifact.cli.common import unit_of_work
from artifact.extensions import db
from artifact.infra.search import index_for
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


@search_cli.command("status")
def status_command() -> None:
    """Records per kind in the database against the index; exits 1 when they differ."""
    rows = search.status(db.session, OPERATOR, index_for(current_app))
    click.echo(f"backend {current_app.config['SEARCH_BACKEND']}")
    click.echo(f"{'kind':<12} {'database':>9} {'indexed':>9} {'files':>9}")
    for row in rows:
        mark = "  differs" if row.differs else ""
        click.echo(f"{row.kind:<12} {row.records:>9} {row.indexed:>9} {row.pages:>9}{mark}")
    differing = [row.kind for row in rows if row.differs]
    if differing:
        click.echo(
            f"the index differs from the database ({', '.join(differing)}): "
            "run `flask search reindex`",
            err=True,
        )
        raise SystemExit(1)
    click.echo("the index is in step with the database")
