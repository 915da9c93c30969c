"""Commands of the catalog: ``trace FILE.pdf``."""

from __future__ import annotations

from pathlib import Path

import click

from artifact.catalog.services import downloads
from artifact.cli.common import unit_of_work
from artifact.extensions import db
from artifact.infra.pdf.stamp import read_receipt


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
    click.echo(
        f"receipt {receipt}: downloaded by {who}{org} "
        f"at {row.created_at.strftime('%Y-%m-%d %H:%M:%S')} UTC "
        f"from {row.ip_address or 'unknown address'}"
    )
    click.echo(
        f"report {row.report.title!r} (id {row.report_id}), version "
        f"{row.version.number}, audit event #{row.audit_seq}"
    )
