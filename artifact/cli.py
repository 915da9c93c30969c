"""Command line: ``flask --app app COMMAND``. Commands call the same services as the web."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from artifact.catalog import cli as cli_catalog
from artifact.demo import seed as demo
from artifact.extensions import db
from artifact.frameworks import services as frameworks
from artifact.identity.services import accounts, tokens
from artifact.identity.services.lookup import user_by_email
from artifact.kernel.caller import OPERATOR
from artifact.kernel.errors import DomainError
from artifact.models import Role

F = TypeVar("F", bound=Callable[..., Any])


def domain_errors_exit_1(command: F) -> F:
    """A domain error becomes a clear message on stderr and exit code 1; nothing half-done."""

    @wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DomainError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from error

    return wrapped  # type: ignore[return-value]


@click.command("init")
def init_command() -> None:
    """Migrate the database to head and create the keyring if missing (idempotent)."""
    from flask_migrate import upgrade

    Path(current_app.config["DATA_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    upgrade(revision="heads")
    click.echo(f"database ready: {_safe_url(current_app.config['SQLALCHEMY_DATABASE_URI'])}")
    domain_errors_exit_1(cli_catalog.ensure_keyring)()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, help="customer, auditor, staff or admin")
@click.option("--org", "organization", default=None, help="organisation name (created if new)")
@click.option("--org-admin", is_flag=True, help="may bind the organisation to agreements")
@click.option("--name", default="", help="full name")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@domain_errors_exit_1
def users_create(email: str, role: str, organization: str | None, org_admin: bool, name: str,
                 password_stdin: bool) -> None:
    """Create a user account."""
    if role not in {r.value for r in Role}:
        raise click.ClickException(
            f"unknown role {role!r}; choose one of {', '.join(r.value for r in Role)}"
        )
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = accounts.create_user(
        db.session, OPERATOR, email=email, role=role, password=password, name=name,
        organization=organization, org_admin=org_admin, create_organization_if_missing=True,
    )
    org = f" in {user.organization.name}" if user.organization else ""
    click.echo(f"created {user.role} {user.email}{org}")


tokens_cli = AppGroup("tokens", help="Manage API tokens.")


@tokens_cli.command("create")
@click.argument("email")
@click.option("--name", default="cli", help="a label for the token")
@domain_errors_exit_1
def tokens_create(email: str, name: str) -> None:
    """Create an API token for EMAIL and print it as the last line."""
    user = user_by_email(db.session, email)
    if user is None:
        raise click.ClickException(f"no user with e-mail {email!r}")
    _token, raw = tokens.create(db.session, OPERATOR, user, name)
    click.echo(f"API token for {user.email} (shown once; store it safely):", err=True)
    click.echo(raw)


frameworks_cli = AppGroup("frameworks", help="Import and export frameworks and crosswalks.")


@frameworks_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", required=True, type=click.Choice(frameworks.FORMATS),
              help="what FILE is")
@click.option("--key", default=None, help="the framework's short key (default from the file)")
@click.option("--title", default=None, help="the framework's title (default from the file)")
@click.option("--tolerant", is_flag=True, help="repair what can be repaired, and say what")
@domain_errors_exit_1
def frameworks_import(file: Path, fmt: str, key: str | None, title: str | None,
                      tolerant: bool) -> None:
    """Import a framework (or, with --format crosswalk, mappings) from FILE."""
    result = frameworks.import_file(
        db.session, OPERATOR, file, fmt, key=key, title=title, tolerant=tolerant,
        max_bytes=current_app.config["FRAMEWORK_IMPORT_MAX_BYTES"],
    )
    for line in (*result.notes, *(f"repaired: {r}" for r in result.repairs)):
        click.echo(line, err=True)
    into = f" into {result.framework_key}" if result.framework_key else ""
    if result.restated:
        click.echo(f"{result.restated} rows restated a mapping of this file (such as the same "
                   "mapping in the other direction)", err=True)
    present = f" ({result.already_present} already present)" if result.already_present else ""
    click.echo(f"imported {result.count} {result.what}{into}{present}")


@frameworks_cli.command("export")
@click.argument("key")
@click.option("--format", "fmt", default="oscal", type=click.Choice(["oscal"]))
@domain_errors_exit_1
def frameworks_export(key: str, fmt: str) -> None:
    """Write framework KEY to standard output as an OSCAL 1.2.1 catalog."""
    click.echo(frameworks.export_oscal(db.session, OPERATOR, key), nl=False)


@click.command("seed-demo")
@click.option("--force", is_flag=True, help="seed even outside development and testing")
@domain_errors_exit_1
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


def init_app(app: Flask) -> None:
    from artifact.audit.cli import audit_cli, check_deploy_command
    from artifact.backup.cli import backup_command, restore_command

    for command in (init_command, users_cli, tokens_cli, frameworks_cli, seed_demo_command,
                    audit_cli, check_deploy_command, backup_command, restore_command):
        app.cli.add_command(command)
    cli_catalog.init_app(app)
    from artifact.search import cli as cli_search

    cli_search.init_app(app)
