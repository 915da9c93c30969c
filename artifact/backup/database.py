"""The database half of a backup: SQLite through the online backup API, PostgreSQL through
``pg_dump``/``pg_restore`` (custom format)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from artifact.backup.archive import BackupError


def kind(database_url: str) -> str:
    backend = make_url(database_url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {backend}")
    return backend


def sqlite_path(database_url: str) -> Path:
    name = make_url(database_url).database
    if not name or name == ":memory:":
        raise BackupError("the SQLite database is in memory: there is nothing to back up")
    return Path(name).resolve()


def sqlite_snapshot(source: Path, target: Path) -> list[str]:
    """A consistent copy of a live SQLite database (writers may go on); its Alembic revisions."""
    if not source.exists():
        raise BackupError(f"the SQLite database {source} does not exist (run `flask init`)")
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # one step: a read transaction for the whole copy
    finally:
        src.close()
    try:
        return _sqlite_revisions(dst)
    finally:
        dst.close()


def sqlite_check(path: Path) -> list[str]:
    """Refuse a restored SQLite file that is not sound; its Alembic revisions."""
    conn = sqlite3.connect(path)
    try:
        (result,) = conn.execute("PRAGMA integrity_check").fetchone()
        if result != "ok":
            raise BackupError(f"the SQLite database in the archive is damaged: {result}")
        return _sqlite_revisions(conn)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"the SQLite database in the archive cannot be read: {error}") from error
    finally:
        conn.close()


def _sqlite_revisions(conn: sqlite3.Connection) -> list[str]:
    try:
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.OperationalError:
        return []
    return sorted(row[0] for row in rows)


def _libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and an environment carrying it (never in argv)."""
    url: URL = make_url(database_url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    bare = url.set(drivername="postgresql", password=None)
    return bare.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not on PATH: install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client) of the server's version"
        )
    return found


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {result.stderr.strip() or result.returncode}")


def pg_revisions(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return sorted(conn.scalars(text("SELECT version_num FROM alembic_version")))
    finally:
        engine.dispose()


def pg_dump(database_url: str, target: Path) -> str:
    """Dump the database in pg_dump's custom format; pg_dump's version line."""
    tool = _tool("pg_dump")
    dsn, env = _libpq(database_url)
    _run(
        [
            tool,
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={target}",
            f"--dbname={dsn}",
        ],
        env,
        "pg_dump",
    )
    return subprocess.run(  # noqa: S603
        [tool, "--version"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()


def pg_require_empty(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            count = conn.scalar(
                text(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                )
            )
    finally:
        engine.dispose()
    if count:
        safe = make_url(database_url).render_as_string(hide_password=True)
        raise BackupError(
            f"the database {safe} is not empty ({count} tables): restore into a "
            "new, empty database (CREATE DATABASE ...) and point "
            "ARTIFACT_DATABASE_URL at it"
        )


def pg_restore(database_url: str, dump: Path) -> None:
    tool = _tool("pg_restore")
    dsn, env = _libpq(database_url)
    _run(
        [
            tool,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={dsn}",
            str(dump),
        ],
        env,
        "pg_restore",
    )
