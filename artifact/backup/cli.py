"""``backup`` and ``restore`` commands."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from artifact.audit.services import chain as audit
from artifact.backup.archive import BackupError, file_sha256
from artifact.backup.create import create_backup
from artifact.backup.restore import restore_backup
from artifact.cli.common import unit_of_work
from artifact.config import PROJECT_ROOT
from artifact.extensions import db
from artifact.kernel.caller import OPERATOR


@click.command("backup")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@unit_of_work
def backup_command(out: Path) -> None:
    """Write a backup of the database and the data directory to OUT (a .tar.gz).

    The archive holds the encryption keys and every document: it is as secret as the server.
    It is written with mode 0600; store it encrypted and off the machine."""
    try:
        manifest = create_backup(
            out, Path(current_app.config["DATA_DIR"]), current_app.config["SQLALCHEMY_DATABASE_URI"]
        )
    except BackupError as error:
        raise click.ClickException(error.message) from error
    digest = file_sha256(out)
    # In the trail (after the snapshot, so not in this archive): who took a full copy, and
    # the archive's SHA-256, which later tells whether an archive is the one taken.
    audit.record(
        db.session,
        OPERATOR,
        "backup.create",
        target_type="backup",
        details={
            "archive": out.name,
            "archive_sha256": digest,
            "database": manifest.database["kind"],
            "files": len(manifest.files),
        },
    )
    revisions = ", ".join(manifest.database.get("alembic_revisions") or []) or "none"
    click.echo(
        f"backup written: {out} ({len(manifest.files)} files, "
        f"{manifest.database['kind']} database at revision(s) {revisions})"
    )
    click.echo(f"archive SHA-256: {digest} (recorded in the audit trail as backup.create)")
    click.echo("it holds the keys and documents: keep it secret (mode 0600)", err=True)


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--data-dir",
    "data_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="a new or empty directory to restore the data directory into",
)
def restore_command(archive: Path, data_dir: Path) -> None:
    """Restore ARCHIVE into a fresh data directory (PostgreSQL: into the empty database
    ARTIFACT_DATABASE_URL names). Every file's SHA-256 is verified first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(PROJECT_ROOT / "migrations"))
    known = {revision.revision for revision in script.walk_revisions()}
    try:
        result = restore_backup(
            archive,
            data_dir,
            current_app.config["SQLALCHEMY_DATABASE_URI"],
            known,
            set(script.get_heads()),
        )
    except BackupError as error:
        raise click.ClickException(error.message) from error
    click.echo(
        f"restored {len(result.manifest.files)} files into {result.target} "
        f"(backup of {result.manifest.created_at})"
    )
    if result.sqlite_file is not None:
        click.echo(
            f"SQLite database: {result.sqlite_file}. Serve it with "
            f"ARTIFACT_DATA_DIR={result.target} and ARTIFACT_DATABASE_URL unset."
        )
    else:
        click.echo(
            f"PostgreSQL database restored. Serve it with ARTIFACT_DATA_DIR="
            f"{result.target} and the same ARTIFACT_DATABASE_URL."
        )
    if result.needs_upgrade:
        click.echo(
            "The backup predates this Artifact's schema: run `flask --app app init` "
            "with those settings to migrate it."
        )
