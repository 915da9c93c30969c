"""``flask engagements export ID DIR``: the engagement package, written whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from artifact.cli.common import unit_of_work
from artifact.engagements.services import package
from artifact.extensions import db
from artifact.infra.storage import store_for
from artifact.kernel.caller import OPERATOR
from artifact.kernel.errors import NotFound
from artifact.models.engagements import Engagement

engagements_cli = AppGroup("engagements", help="Audit engagements.")


def _writable(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise click.ClickException(
            f"cannot create {directory}: {error.strerror or error}; nothing was written"
        ) from None
    if not directory.is_dir() or not os.access(directory, os.W_OK | os.X_OK):
        raise click.ClickException(f"{directory} is not a writable directory; nothing was written")


@engagements_cli.command("export")
@click.argument("engagement_id")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--auditor",
    "auditor_email",
    help="The receiving auditor's e-mail (needed when the engagement has several auditors).",
)
@unit_of_work
def export_command(engagement_id: str, directory: Path, auditor_email: str | None) -> None:
    """Write the engagement package (a ZIP: accepted evidence watermarked for the auditor,
    requests.csv, the audit trail with its verifier, manifest.json) into DIRECTORY."""
    engagement = db.session.get(Engagement, engagement_id)
    if engagement is None:
        raise NotFound(f"no engagement {engagement_id[:64]!r}")
    _writable(directory)
    target = directory / package.package_name(engagement)
    # A temporary file in the same directory, renamed once complete: a failure leaves no
    # half-written ZIP behind.
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed or removed below)
        dir=directory, prefix=".package-", suffix=".part", delete=False
    )
    try:
        with handle:
            manifest = package.write_package(
                db.session,
                OPERATOR,
                store_for(current_app),
                engagement_id,
                handle,
                auditor_email=auditor_email,
                data_dir=current_app.config["DATA_DIR"],
                witness=current_app.config["AUDIT_WITNESS"],
            )
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    evidence = sum(1 for f in manifest.files if f["path"].startswith("evidence/"))
    click.echo(
        f"wrote {target} ({evidence} evidence file{'s' if evidence != 1 else ''} for "
        f"{manifest.recipient['email']}, {manifest.audit['events']} audit events, "
        f"{len(manifest.audit['engagement_events'])} of this engagement); check the events "
        "with: python3 audit/verify.py audit (after unzipping)"
    )
