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
import time
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
SOC2 = "SOC 2 Type II report 2025 (sample)"


def accept_nda(server: LiveServer, role: str, typed_name: str) -> None:
    """``role`` accepts the demo NDA through the page, as a browser would."""
    client = HttpSession(server.url)
    client.sign_in(server.email(role), server.password(role))
    agreement_id = _scalar(server.data_dir, "SELECT id FROM agreement WHERE title = 'Mutual NDA'")
    status, _headers, _body = client.post_form(
        f"/agreements/{agreement_id}/accept",
        {
            "typed_name": typed_name,
            "consent": "y",
            "scope": "account",
            "version": "1",
            "text_sha256": _scalar(
                server.data_dir,
                f"SELECT text_sha256 FROM agreement_version WHERE agreement_id = '{agreement_id}'",
            ),
            "next": "",
        },
        token_from=f"/agreements/{agreement_id}",
    )
    assert status == 302


def accept_demo_nda(server: LiveServer, facts: Facts) -> None:
    """The customer accepts the demo NDA (and may then download the SOC 2 report)."""
    accept_nda(server, "customer", "Bob Acme")
    facts["acceptance_id"] = _scalar(server.data_dir, "SELECT id FROM agreement_acceptance")


def staff_accepts_demo_nda(server: LiveServer, facts: Facts) -> None:
    """Staff accept it too, so that they may download every report after the restore."""
    accept_nda(server, "staff", "Sam Staff")


def write_data_files(server: LiveServer, facts: Facts) -> None:
    """A private file standing in for keys and blobs, and a transient file to be left out."""
    keys = server.data_dir / "keys"
    keys.mkdir(mode=0o700, exist_ok=True)
    (keys / "sample.key").write_bytes(b"not a real key\n")
    (keys / "sample.key").chmod(0o600)
    (server.data_dir / "upload.tmp").write_bytes(b"half an upload")
    facts["data_files"] = {"keys/sample.key": b"not a real key\n"}


BEFORE_BACKUP: list[Callable[[LiveServer, Facts], None]] = [
    accept_demo_nda,
    staff_accepts_demo_nda,
    write_data_files,
]


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


@dataclass
class Load:
    """Status counts of the background clients: browsing (and signing in) and downloading."""

    browsing: Counter[int] = field(default_factory=Counter)
    downloads: Counter[int] = field(default_factory=Counter)


def _browse(server: LiveServer, load: Load, stop: threading.Event, max_requests: int) -> None:
    """Another customer browsing and signing in again and again (each sign-in writes a session
    and audit events)."""
    client = HttpSession(server.url)
    email, password = server.email("other_customer"), server.password("other_customer")
    for i in range(max_requests):
        if stop.is_set():
            break
        if i % 4 == 0:
            client.cookies.clear()
            client.sign_in(email, password)
            load.browsing[302] += 1
        else:
            load.browsing[client.get("/agreements/")[0]] += 1


def _download(server: LiveServer, load: Load, stop: threading.Event, max_requests: int) -> None:
    """The customer downloading the SOC 2 report (stamped copies: receipts, audit events)."""
    client = HttpSession(server.url)
    client.sign_in(server.email("customer"), server.password("customer"))
    report_id = _scalar(server.data_dir, f"SELECT id FROM report WHERE title = '{SOC2}'")
    for _ in range(max_requests):
        if stop.is_set():
            break
        load.downloads[client.get(f"/catalog/{report_id}/download")[0]] += 1


@contextmanager
def background_load(server: LiveServer, max_requests: int = 2000) -> Iterator[Load]:
    """A customer browsing and signing in, and another downloading, until the block ends;
    yields the status counts once both are under way."""
    load, stop = Load(), threading.Event()
    threads = [
        threading.Thread(
            target=work,
            args=(server, load, stop, max_requests),
            name=f"background-{work.__name__}",
            daemon=True,
        )
        for work in (_browse, _download)
    ]
    for thread in threads:
        thread.start()
    _wait_for(lambda: sum(load.browsing.values()) >= 5 and sum(load.downloads.values()) >= 1)
    try:
        yield load
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)


def _wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


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
    downloads: Counter[int] = field(default_factory=Counter)
    output: str = ""


@pytest.fixture(scope="session")
def backup_run(tmp_path_factory: pytest.TempPathFactory) -> BackupRun:
    """A seeded deployment backed up while it serves a browsing, signing-in customer."""
    work = tmp_path_factory.mktemp("backup")
    data_dir = work / "original"
    passwords = migrate_and_seed(data_dir)
    archive = work / "artifact-backup.tar.gz"
    facts: Facts = {}
    with serve(data_dir, passwords, RATELIMIT_DOWNLOADS="100000 per hour") as server:
        for step in BEFORE_BACKUP:
            step(server, facts)
        with background_load(server) as load:
            browsed, downloaded = sum(load.browsing.values()), sum(load.downloads.values())
            result = run_cli(data_dir, "backup", str(archive))
            # Keep serving until a download and a few pages more have completed after it.
            _wait_for(
                lambda: (
                    sum(load.downloads.values()) > downloaded + 1
                    and sum(load.browsing.values()) > browsed + 4
                )
            )
        assert sum(load.browsing.values()) > browsed >= 5  # the server was busy around it
        assert sum(load.downloads.values()) > downloaded >= 1
    assert result.exit_code == 0, result.output
    return BackupRun(
        archive, data_dir, passwords, facts, load.browsing, load.downloads, result.output
    )


@pytest.fixture(scope="session")
def restored(
    backup_run: BackupRun, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The backup restored into a fresh data directory, served on loopback."""
    work = tmp_path_factory.mktemp("restore")
    target = work / "restored"
    result = run_cli(
        work / "operator", "restore", str(backup_run.archive), "--data-dir", str(target)
    )
    assert result.exit_code == 0, result.output
    with serve(target, backup_run.passwords, factors_of=backup_run.original) as server:
        yield server
