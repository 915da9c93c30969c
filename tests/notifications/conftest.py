"""A real SMTP server (aiosmtpd) on loopback that counts what arrives, and helpers to run the
job queue's worker: in this process (``flask worker --drain``) or as a real consumer in a
subprocess (``flask worker``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from artifact.extensions import db
from tests.fixtures_mail import Inbox

ROOT = Path(__file__).resolve().parents[2]
BASE_URL = "https://trust.example.test"


@pytest.fixture
def inbox(inbox: Inbox, app: Flask) -> Inbox:
    """The shared SMTP inbox (tests/fixtures_mail.py), with links built from the base URL."""
    app.config["BASE_URL"] = BASE_URL
    return inbox


@pytest.fixture
def drain(app: Flask) -> Callable[[], str]:
    """Run the worker once in this process: every queued job and due outbox event."""

    def run() -> str:
        result = app.test_cli_runner().invoke(args=["worker", "--drain"])
        assert result.exit_code == 0, result.output
        db.session.expire_all()
        return str(result.output)

    return run


def worker_env(app: Flask) -> dict[str, str]:
    """The environment of a worker process on the test app's database, data and mail."""
    config = app.config
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARTIFACT_")}
    env.update(
        ARTIFACT_ENV="testing",
        ARTIFACT_DATA_DIR=config["DATA_DIR"],
        ARTIFACT_DATABASE_URL=config["SQLALCHEMY_DATABASE_URI"],
        ARTIFACT_SECRET_KEY=config["SECRET_KEY"],
        ARTIFACT_SMTP_HOST=str(config.get("SMTP_HOST") or ""),
        ARTIFACT_SMTP_PORT=str(config.get("SMTP_PORT") or 25),
        ARTIFACT_SMTP_STARTTLS="false",
        ARTIFACT_SMTP_FROM="trust@example.test",
        ARTIFACT_BASE_URL=BASE_URL,
        ARTIFACT_QUEUE_RETRY_DELAY_SECONDS="1",
        PYTHONPATH=str(ROOT),
    )
    if config.get("QUEUE_URL"):
        env["ARTIFACT_QUEUE_URL"] = config["QUEUE_URL"]
    return env


class Worker:
    """``flask --app app worker`` in a subprocess (its output in a log file)."""

    def __init__(self, app: Flask, log: Path, workers: int = 1, **env: str) -> None:
        self.log = log
        self.env = {**worker_env(app), **env}
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "app",
                "worker",
                "--workers",
                str(self.workers),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        handle.close()
        return self

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def worker(app: Flask, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(**env: str) -> Worker:
        w = Worker(app, tmp_path / "worker.log", **env).start()
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


def wait_until(check: Callable[[], bool], timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or check}")
