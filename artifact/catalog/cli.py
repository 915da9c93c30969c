"""Commands of the catalog: ``keys status|rotate|import`` and ``trace FILE.pdf``."""

from __future__ import annotations

import stat
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from artifact.admin.services import keys
from artifact.catalog.services import downloads
from artifact.cli.common import unit_of_work
from artifact.extensions import db
from artifact.infra.pdf.stamp import read_receipt
from artifact.infra.storage import KeyringError, store_for
from artifact.kernel.caller import OPERATOR

keys_cli = AppGroup("keys", help="The keyring of key-encryption keys (bring your own key).")


def ensure_keyring() -> None:
    """Called by ``init`` (inside its unit of work): create the keyring when missing (refused
    if blobs exist without it)."""
    store = store_for(current_app)
    created = keys.ensure_keyring(db.session, OPERATOR, store)
    if created is not None:
        click.echo(f"keyring created: {store.keyring.path} (key version {created.version})")
    else:
        click.echo(f"keyring ready: {store.keyring.path}")


@keys_cli.command("status")
def keys_status() -> None:
    """Show the key versions (never the keys)."""
    ring = store_for(current_app).keyring
    try:
        versions, current = ring.versions(), ring.current()
    except KeyringError as error:
        raise click.ClickException(str(error)) from error
    mode = stat.S_IMODE(ring.path.stat().st_mode)
    click.echo(f"keyring {ring.path} (mode {mode:04o})")
    for entry in versions:
        marker = "current" if entry.version == current.version else "decrypt only"
        click.echo(f"  version {entry.version}  {entry.source:<9}  {entry.created_at}  "
                   f"fingerprint {entry.fingerprint}  {marker}")


@keys_cli.command("rotate")
@unit_of_work
def keys_rotate() -> None:
    """Add a new key version; new files use it, old files still decrypt."""
    entry = keys.rotate(db.session, OPERATOR, store_for(current_app))
    click.echo(f"key version {entry.version} is now current (fingerprint {entry.fingerprint})")


@keys_cli.command("import")
@click.argument("key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@unit_of_work
def keys_import(key_file: Path) -> None:
    """Import a 256-bit key (32 raw bytes, 64 hex digits or base64) as the current version."""
    entry = keys.import_key(db.session, OPERATOR, store_for(current_app),
                            key_file.read_bytes())
    click.echo(f"imported key as version {entry.version} (fingerprint {entry.fingerprint})")


@click.command("trace")
@click.argument("pdf_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@unit_of_work
def trace_command(pdf_file: Path) -> None:
    """Name the download a (leaked) copy came from."""
    receipt = read_receipt(pdf_file.read_bytes())
    if receipt is None:
        raise click.ClickException("no Artifact receipt found in this file")
    row = downloads.trace(db.session, receipt)
    if row is None:
        raise click.ClickException(f"receipt {receipt} is not in this installation's records")
    who = row.email or "anonymous visitor"
    org = f" ({row.organization})" if row.organization else ""
    click.echo(f"receipt {receipt}: downloaded by {who}{org} "
               f"at {row.created_at.strftime('%Y-%m-%d %H:%M:%S')} UTC "
               f"from {row.ip_address or 'unknown address'}")
    click.echo(f"report {row.report.title!r} (id {row.report_id}), version "
               f"{row.version.number}, audit event #{row.audit_seq}")
