"""Commands of accounts and API tokens: ``flask users create``, ``flask tokens create``."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from artifact.cli.common import unit_of_work
from artifact.extensions import db
from artifact.identity.services import accounts, tokens
from artifact.identity.services.lookup import user_by_email
from artifact.kernel.caller import OPERATOR
from artifact.models import Role

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, help="customer, auditor, staff or admin")
@click.option("--org", "organization", default=None, help="organisation name (created if new)")
@click.option("--org-admin", is_flag=True, help="may bind the organisation to agreements")
@click.option("--name", default="", help="full name")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@unit_of_work
def users_create(
    email: str,
    role: str,
    organization: str | None,
    org_admin: bool,
    name: str,
    password_stdin: bool,
) -> None:
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
        db.session,
        OPERATOR,
        email=email,
        role=role,
        password=password,
        name=name,
        organization=organization,
        org_admin=org_admin,
        create_organization_if_missing=True,
    )
    org = f" in {user.organization.name}" if user.organization else ""
    click.echo(f"created {user.role} {user.email}{org}")


tokens_cli = AppGroup("tokens", help="Manage API tokens.")


@tokens_cli.command("create")
@click.argument("email")
@click.option("--name", default="cli", help="a label for the token")
@unit_of_work
def tokens_create(email: str, name: str) -> None:
    """Create an API token for EMAIL and print it as the last line."""
    user = user_by_email(db.session, email)
    if user is None:
        raise click.ClickException(f"no user with e-mail {email!r}")
    _token, raw = tokens.create(db.session, OPERATOR, user, name)
    click.echo(f"API token for {user.email} (shown once; store it safely):", err=True)
    click.echo(raw)
