"""Command line: ``flask --app app COMMAND``. Commands call the same services as the web; each
feature's ``cli.py`` holds its commands, and ``init_app`` registers them all."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app

from artifact.cli import common
from artifact.cli.common import unit_of_work
from artifact.models.base import DbSession


@click.command("init")
@unit_of_work
def init_command() -> None:
    """Migrate the database to head and create the keyring if missing (idempotent)."""
    from flask_migrate import upgrade

    from artifact.catalog.cli import ensure_keyring

    Path(current_app.config["DATA_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    upgrade(revision="heads")
    click.echo(f"database ready: {_safe_url(current_app.config['SQLALCHEMY_DATABASE_URI'])}")
    ensure_keyring()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _checkpoint_policy(session: DbSession) -> None:
    """Events a command appends sign checkpoints as the settings say, as in a request."""
    from artifact.audit.services import signing

    signing.configure(session, signing.CheckpointPolicy.from_config(current_app.config))


def init_app(app: Flask) -> None:
    from artifact.admin.cli import check_deploy_command
    from artifact.audit.cli import audit_cli
    from artifact.backup.cli import backup_command, restore_command
    from artifact.catalog.cli import keys_cli, trace_command
    from artifact.demo.cli import seed_demo_command
    from artifact.frameworks.cli import frameworks_cli
    from artifact.identity.cli import tokens_cli, users_cli
    from artifact.search.cli import search_cli

    app.extensions[common.START_STEPS] = (_checkpoint_policy,)
    for command in (init_command, users_cli, tokens_cli, frameworks_cli, seed_demo_command,
                    keys_cli, trace_command, audit_cli, check_deploy_command, search_cli,
                    backup_command, restore_command):
        app.cli.add_command(command)
