"""Commands of the catalog: ``trace FILE.pdf``."""

from __future__ import annotations

from pathlib import Path

import click

from artifact.catalog.services import downloads
from artifact.cli.common import unit_of_work
from artifact.extensions import db
from artifact.infra.pdf.stamp import read_receipt
from artifact.models import EngagementReceipt


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
        _trace_engagement(receipt)
        return
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


def _trace_engagement(receipt: str) -> None:
    """A copy of evidence downloaded through an audit engagement."""
    row = db.session.get(EngagementReceipt, receipt)
    if row is None:
        raise click.ClickException(f"receipt {receipt} is not in this installation's records")
    org = f" ({row.organization})" if row.organization else ""
    click.echo(
        f"receipt {receipt}: downloaded by {row.email or 'unknown'}{org} "
        f"at {row.created_at.strftime('%Y-%m-%d %H:%M:%S')} UTC "
        f"from {row.ip_address or 'unknown address'}"
    )
    click.echo(
        f"evidence {row.version.evidence.title!r} (id {row.evidence_id}), version "
        f"{row.version.number}, through engagement {row.engagement.name!r} "
        f"(id {row.engagement_id}), audit event #{row.audit_seq}"
    )
