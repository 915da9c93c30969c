"""Commands of frameworks and crosswalks: ``flask frameworks import|export``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from artifact.cli.common import unit_of_work
from artifact.extensions import db
from artifact.frameworks import services as frameworks
from artifact.kernel.caller import OPERATOR

frameworks_cli = AppGroup("frameworks", help="Import and export frameworks and crosswalks.")


@frameworks_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", required=True, type=click.Choice(frameworks.FORMATS), help="what FILE is"
)
@click.option("--key", default=None, help="the framework's short key (default from the file)")
@click.option("--title", default=None, help="the framework's title (default from the file)")
@click.option("--tolerant", is_flag=True, help="repair what can be repaired, and say what")
@unit_of_work
def frameworks_import(
    file: Path, fmt: str, key: str | None, title: str | None, tolerant: bool
) -> None:
    """Import a framework (or, with --format crosswalk, mappings) from FILE."""
    result = frameworks.import_file(
        db.session,
        OPERATOR,
        file,
        fmt,
        key=key,
        title=title,
        tolerant=tolerant,
        max_bytes=current_app.config["FRAMEWORK_IMPORT_MAX_BYTES"],
    )
    for line in (*result.notes, *(f"repaired: {r}" for r in result.repairs)):
        click.echo(line, err=True)
    into = f" into {result.framework_key}" if result.framework_key else ""
    if result.restated:
        click.echo(
            f"{result.restated} rows restated a mapping of this file (such as the same "
            "mapping in the other direction)",
            err=True,
        )
    present = f" ({result.already_present} already present)" if result.already_present else ""
    click.echo(f"imported {result.count} {result.what}{into}{present}")


@frameworks_cli.command("export")
@click.argument("key")
@click.option("--format", "fmt", default="oscal", type=click.Choice(["oscal"]))
@unit_of_work
def frameworks_export(key: str, fmt: str) -> None:
    """Write framework KEY to standard output as an OSCAL 1.2.1 catalog."""
    click.echo(frameworks.export_oscal(db.session, OPERATOR, key), nl=False)
