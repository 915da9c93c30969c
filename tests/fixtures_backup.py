"""Backup and restore, end to end: a demo deployment serving requests is backed up, restored
into a fresh data directory and served again.

To check more after a restore (the audit trail, report downloads, ...):
- put what the deployment should hold into it before the backup with a function appended to
  ``BEFORE_BACKUP`` (it gets the live server and the ``facts`` dict to note ids in);
- write a test taking ``restored`` (the restored deployment, served) and ``backup_run``
  (the original's facts, passwords and archive), in any test module."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from artifact import create_app
from artifact.extensions import db
from tests.live_server import HttpSession, LiveServer, app_config, migrate_and_seed, serve

Facts = dict[str, Any]


def accept_demo_nda(server: LiveServer, facts: Facts) -> None:
    """The customer accepts the demo NDA through the page, as a browser would."""
    client = HttpSession(server.url)
    client.sign_in(server.email("customer"), server.password("customer"))
    agreement_id = _scalar(server.data_dir, "SELECT id FROM agreement WHERE title = 'Mutual NDA'")
    status, _headers, _body = client.post_form(
        f"/agreements/{agreement_id}/accept",
        {"typed_name": "Bob Acme", "consent": "y", "scope": "account", "version": "1",
         "text_sha256": _scalar(server.data_dir, "SELECT text_sha256 FROM agreement_version "
                                f"WHERE agreement_id = '{agreement_id}'"), "next": ""},
        token_from=f"/agreements/{agreement_id}")
    assert status == 302
    facts["acceptance_id"] = _scalar(server.data_dir, "SELECT id FROM agreement_acceptance")


def write_data_files(server: LiveServer, facts: Facts) -> None:
    """A private file standing in for keys and blobs, and a transient file to be left out."""
    keys = server.data_dir / "keys"
    keys.mkdir(mode=0o700, exist_ok=True)
    (keys / "sample.key").write_bytes(b"not a real key\n")
    (keys / "sample.key").chmod(0o600)
    (server.data_dir / "upload.tmp").write_bytes(b"half an upload")
    facts["data_files"] = {"keys/sample.key": b"not a real key\n"}


BEFORE_BACKUP: list[Callable[[LiveServer, Facts], None]] = [accept_demo_nda, write_data_files]


def _scalar(data_dir: Path, sql: str) -> Any:
    conn = sqlite3.connect(data_dir / "artifact.db")
    try:
        row = conn.execute(sql).fetchone()
        return row[0] if row else None
    finally:
        conn.close()


def rows(data_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(data_dir / "artifact.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@contextmanager
def background_load(server: LiveServer, max_requests: int = 2000) -> Iterator[Counter[int]]:
    """Another customer browsing and signing in again and again (each sign-in writes a session
    and audit events) until the block ends; yields the status counts."""
    statuses: Counter[int] = Counter()
    stop, started = threading.Event(), threading.Event()

    def browse() -> None:
        client = HttpSession(server.url)
        email, password = server.email("other_customer"), server.password("other_customer")
        for i in range(max_requests):
            if stop.is_set():
                break
            if i % 4 == 0:
                client.cookies.clear()
                client.sign_in(email, password)
                statuses[302] += 1
            else:
                statuses[client.get("/agreements/")[0]] += 1
            if i >= 4:
                started.set()
        started.set()

    thread = threading.Thread(target=browse, name="background-load", daemon=True)
    thread.start()
    started.wait(timeout=60)
    try:
        yield statuses
    finally:
        stop.set()
        thread.join(timeout=60)


def run_cli(data_dir: Path, *args: str, **config: Any) -> Result:
    """``flask --app app ARGS`` for an app configured on ``data_dir``."""
    app = create_app(app_config(data_dir, **config))
    with app.app_context():
        try:
            return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)
        finally:
            db.engine.dispose()


@dataclass
class BackupRun:
    archive: Path
    original: Path
    passwords: dict[str, str]
    facts: Facts = field(default_factory=dict)
    load: Counter[int] = field(default_factory=Counter)
    output: str = ""


@pytest.fixture(scope="session")
def backup_run(tmp_path_factory: pytest.TempPathFactory) -> BackupRun:
    """A seeded deployment backed up while it serves a browsing, signing-in customer."""
    work = tmp_path_factory.mktemp("backup")
    data_dir = work / "original"
    passwords = migrate_and_seed(data_dir)
    archive = work / "artifact-backup.tar.gz"
    facts: Facts = {}
    with serve(data_dir, passwords) as server:
        for step in BEFORE_BACKUP:
            step(server, facts)
        with background_load(server) as load:
            result = run_cli(data_dir, "backup", str(archive))
            during = sum(load.values())
        assert sum(load.values()) >= during >= 5  # the server was busy around the backup
    assert result.exit_code == 0, result.output
    return BackupRun(archive, data_dir, passwords, facts, load, result.output)


@pytest.fixture(scope="session")
def restored(backup_run: BackupRun, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[LiveServer]:
    """The backup restored into a fresh data directory, served on loopback."""
    work = tmp_path_factory.mktemp("restore")
    target = work / "restored"
    result = run_cli(work / "operator", "restore", str(backup_run.archive),
                     "--data-dir", str(target))
    assert result.exit_code == 0, result.output
    with serve(target, backup_run.passwords) as server:
        yield server
