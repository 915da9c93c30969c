"""Operations: ``init`` (database and keyring), ``keys status|rotate|import|rewrap|retire``
(the keyring of key-encryption keys) and ``check-deploy`` (the production checklist)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from artifact.admin.deploy_checks import deploy_problems
from artifact.admin.scale_checks import connected_problems
from artifact.admin.services import keys
from artifact.cli.common import unit_of_work
from artifact.extensions import db
from artifact.infra.search import index_for
from artifact.infra.storage import (
    BlobStore,
    KeyProvider,
    KeyringError,
    StorageUnavailable,
    keyring_for,
    local_store,
    store_for,
)
from artifact.kernel.caller import OPERATOR
from artifact.search import services as search_services


@click.command("init")
@unit_of_work
def init_command() -> None:
    """Migrate the database to head and create the keyring if missing (idempotent)."""
    from flask_migrate import upgrade

    Path(current_app.config["DATA_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    upgrade(revision="heads")
    click.echo(f"database ready: {_safe_url(current_app.config['SQLALCHEMY_DATABASE_URI'])}")
    ensure_keyring()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


keys_cli = AppGroup("keys", help="The keyring of key-encryption keys (bring your own key).")


def ensure_keyring() -> None:
    """Called by ``init`` (inside its unit of work): create the keyring when missing (refused
    if blobs exist without it)."""
    store = store_for(current_app)
    created = keys.ensure_keyring(db.session, OPERATOR, store)
    if created is not None:
        click.echo(f"keyring created: {store.keyring.describe()} (key version {created.version})")
    else:
        click.echo(f"keyring ready: {store.keyring.describe()}")


@keys_cli.command("status")
def keys_status() -> None:
    """Show the key versions (never the keys)."""
    ring = keyring_for(current_app)
    try:
        versions, current = ring.versions(), ring.current()
    except (KeyringError, StorageUnavailable) as error:
        raise click.ClickException(str(error)) from error
    click.echo(ring.describe())
    for entry in versions:
        marker = "current" if entry.version == current.version else "decrypt only"
        click.echo(
            f"  version {entry.version}  {entry.source:<9}  {entry.created_at}  "
            f"fingerprint {entry.fingerprint}  {marker}{_held(ring, entry.version)}"
        )


def _held(ring: KeyProvider, version: int) -> str:
    """For a key in a token: what the token says of its value (it never leaves)."""
    attributes = getattr(ring, "attributes", None)
    if attributes is None:
        return ""
    found = attributes(version)
    if found["sensitive"] and not found["extractable"] and found["never_extractable"]:
        return "  (in the token, never extractable)"
    return "  (WARNING: the token lets this key be extracted)"


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
    entry = keys.import_key(db.session, OPERATOR, store_for(current_app), key_file.read_bytes())
    click.echo(f"imported key as version {entry.version} (fingerprint {entry.fingerprint})")


@keys_cli.command("rewrap")
@click.option(
    "--batch",
    "batch_size",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Files and secrets per batch; each batch is committed on its own.",
)
def keys_rewrap(batch_size: int) -> None:
    """Re-wrap every stored file's data key and every sealed secret under the current key
    version, in batches. Interrupted, it is simply run again: what is current is skipped."""
    store = store_for(current_app)
    blobs = secrets = failed = batches = 0
    after_blob: str | None = ""
    after_sealed: str | None = ""
    while True:
        step = _rewrap_batch(store, after_blob, after_sealed, batch_size)
        batches += 1
        blobs, secrets, failed = blobs + step.blobs, secrets + step.sealed, failed + step.failed
        if step.done:
            break
        after_blob, after_sealed = step.next_blob, step.next_sealed
        click.echo(f"batch {batches}: {blobs} file(s) and {secrets} secret(s) so far")
    version = store.keyring.current().version
    click.echo(
        f"rewrapped {blobs} stored file(s) and {secrets} sealed secret(s) under key version "
        f"{version} ({batches} batch(es)); the others were already under it"
    )
    if failed:
        raise click.ClickException(
            f"{failed} file(s) or secret(s) could not be opened (their key version is missing "
            "or they are damaged); restore the key version and run this again"
        )


@unit_of_work
def _rewrap_batch(
    store: BlobStore, after_blob: str | None, after_sealed: str | None, limit: int
) -> keys.RewrapBatch:
    return keys.rewrap_batch(
        db.session,
        OPERATOR,
        store,
        after_blob=after_blob,
        after_sealed=after_sealed,
        limit=limit,
    )


@keys_cli.command("retire")
@click.argument("version", type=click.IntRange(min=1))
@unit_of_work
def keys_retire(version: int) -> None:
    """Remove a key version for good; refused while any stored file or sealed secret still
    depends on it (run `keys rewrap` first) and for the current version."""
    entry = keys.retire(db.session, OPERATOR, store_for(current_app), version)
    click.echo(
        f"key version {entry.version} (fingerprint {entry.fingerprint}) is retired: it is gone "
        "from the keyring"
    )


@click.command("check-deploy")
@with_appcontext
def check_deploy_command() -> None:
    """List what in the current settings falls short of production; exit 1 if anything does."""
    problems = deploy_problems(current_app.config) + connected_problems(current_app, db.session)
    for problem in problems:
        click.echo(f"FAIL {problem}")
    whoosh = current_app.config["SEARCH_BACKEND"] == "whoosh"
    advice = search_services.backend_advice(index_for(current_app)) if whoosh else None
    if advice:
        click.echo(f"WARN {advice}")
    if problems:
        click.echo(f"{len(problems)} problem(s): not ready for production", err=True)
        raise SystemExit(1)
    click.echo("ok: the settings meet the production checklist")


@click.command("migrate-store")
@click.option(
    "--records-from",
    "records_from",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="SQLITE_URL",
    help="First copy every record of this SQLite database (sqlite:////path/artifact.db; "
    "without a value, the data directory's artifact.db) into the PostgreSQL database "
    "ARTIFACT_DATABASE_URL names, migrated to this version's schema first.",
)
@click.option(
    "--batch",
    "batch_size",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Records per insert when copying records.",
)
@unit_of_work
def migrate_store_command(records_from: str | None, batch_size: int) -> None:
    """Move what a single node keeps to the shared services the settings name: with
    --records-from, every record of the SQLite database into PostgreSQL (compared table by
    table afterwards, and the audit trail verified there); every stored file to the
    S3-compatible store ARTIFACT_BLOB_STORE names (each one's hash verified after copying);
    and, with ARTIFACT_SEARCH_BACKEND=postgres, the search index into PostgreSQL. Resumable:
    run it again after an interruption and it goes on where it stopped."""
    from artifact.infra.storage.s3store import S3BlobStore

    target = store_for(current_app)
    to_bucket = isinstance(target, S3BlobStore)
    to_postgres = current_app.config["SEARCH_BACKEND"] == "postgres"
    if records_from is None and not to_bucket and not to_postgres:
        raise click.ClickException(
            "ARTIFACT_BLOB_STORE is local: set it to the bucket to copy to "
            "(s3://bucket/prefix, with ARTIFACT_S3_ENDPOINT_URL for MinIO or Ceph), and/or "
            "ARTIFACT_SEARCH_BACKEND=postgres (with ARTIFACT_DATABASE_URL=postgresql://...) to "
            "build the search index in the database, and/or give --records-from to copy the "
            "records of the SQLite database into PostgreSQL, and run this again"
        )
    if records_from is not None:
        _migrate_records(records_from, batch_size)
    if to_bucket:
        assert isinstance(target, S3BlobStore)  # noqa: S101 (for mypy)
        _migrate_blobs(target)
    if to_postgres:
        _migrate_search()


def _migrate_records(records_from: str, batch_size: int) -> None:
    from alembic.script import ScriptDirectory
    from flask_migrate import upgrade

    from artifact.admin.services import migrate_records
    from artifact.audit.services import chain as audit
    from artifact.audit.services import trail as audit_trail
    from artifact.config import PROJECT_ROOT
    from artifact.kernel import uow

    if db.engine.dialect.name != "postgresql":
        raise click.ClickException(
            "the records are copied into the PostgreSQL database ARTIFACT_DATABASE_URL names "
            f"(postgresql://...); it names {db.engine.dialect.name}: set it and run this again"
        )
    data_dir = Path(current_app.config["DATA_DIR"])
    url = records_from or f"sqlite:///{data_dir / 'artifact.db'}"
    source = migrate_records.open_source(url)  # ValidationFailed: exit 1 with its message
    try:
        heads = set(ScriptDirectory(str(PROJECT_ROOT / "migrations")).get_heads())
        revisions = migrate_records.source_revisions(source)
        if set(revisions) != heads:
            raise click.ClickException(
                f"the source database is at revision {', '.join(revisions) or 'none'}, not "
                f"this version's {', '.join(sorted(heads))}: upgrade the source first with "
                f"`ARTIFACT_DATABASE_URL={_safe_url(url)} flask --app app init` "
                "(and the same ARTIFACT_DATA_DIR), then run this again"
            )
        click.echo(
            f"copying records from {_safe_url(url)} to "
            f"{_safe_url(current_app.config['SQLALCHEMY_DATABASE_URI'])}"
        )
        upgrade(revision="heads")  # the target's schema first, as `init` makes it

        def report(table: str, what: str) -> None:
            click.echo(f"  {table}: {what}")

        result = migrate_records.copy_records(
            OPERATOR, source, db.engine, batch_size=batch_size, report=report
        )
    finally:
        source.dispose()
    click.echo(
        f"records: {result.copied} row(s) copied now; every one of the {len(result.tables)} "
        f"tables holds the source's {result.rows} row(s), compared column by column"
    )
    verified = audit_trail.verify(
        db.session, OPERATOR, data_dir, current_app.config["AUDIT_WITNESS"]
    )
    click.echo(f"audit trail on the target: {verified.line()}", err=not verified.ok)
    if not verified.ok:
        raise click.ClickException(
            "the audit trail does not verify on the target (above); run `flask audit verify` "
            "on the source to see whether it did there"
        )
    if result.copied:
        details = {"tables": len(result.tables), "rows": result.rows, "copied": result.copied}
        uow.durable(  # the rows are committed whatever becomes of the transaction
            db.session,
            lambda session: audit.record(
                session, OPERATOR, "records.migrate", target_type="database", details=details
            ),
        )


def _migrate_blobs(target: Any) -> None:
    from artifact.admin.services import migrate_store

    source = local_store(current_app)
    progress = Path(current_app.config["DATA_DIR"]) / migrate_store.PROGRESS_FILE
    click.echo(f"copying stored files from {source.describe()} to {target.describe()}")

    def report(blob_id: str, outcome: str) -> None:
        click.echo(f"  {blob_id}: {outcome}")

    try:
        result = migrate_store.copy_blobs(
            db.session, OPERATOR, source, target, progress, report=report
        )
    except StorageUnavailable as error:
        raise click.ClickException(f"{error}; run this again to go on") from error
    click.echo(
        f"{result.copied} file(s) copied and verified, {result.already} verified by an "
        f"earlier run, {len(result.failed)} failed"
    )
    if result.failed:
        raise click.ClickException(
            f"{len(result.failed)} file(s) were not copied or did not verify (listed above); "
            "nothing was deleted: fix them (restore from backup) and run this again (the "
            "search index is built once every file is in the bucket)"
        )
    click.echo(
        f"every stored file is in {target.describe()}; the local copies in "
        f"{source.describe()} are no longer read and can be removed once you have a backup"
    )


def _migrate_search() -> None:
    from artifact.admin.services import migrate_store

    click.echo("building the search index in PostgreSQL (ARTIFACT_SEARCH_BACKEND=postgres)")

    def report(parent: str) -> None:
        click.echo(f"  {parent}: indexed")

    result = migrate_store.index_search(db.session, OPERATOR, current_app, report=report)
    click.echo(
        f"search: {result.indexed} record(s) indexed, {result.already} indexed by an earlier "
        f"run, {result.removed} entries of removed records dropped; the embedded index in "
        "the data directory (search/) is no longer read"
    )
