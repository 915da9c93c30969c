"""Production serving: gunicorn.conf.py, the redacting access log, worker count, the refusal to
start in production without a secret."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from artifact.config import PROJECT_ROOT, ConfigError, serving_settings
from artifact.infra.serving import RedactingLogger, redact_target
from tests.live_server import HttpSession, migrate_and_seed

GUNICORN = Path(sys.executable).with_name("gunicorn")
SECRET = "s3cret-token-value-4711"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/login?next=/x&token=" + SECRET, "/login"),
        ("/reset/" + SECRET, "/reset/[redacted]"),
        ("/verify-email/" + SECRET + "?a=b", "/verify-email/[redacted]"),
        ("/resetting/" + SECRET, "/resetting/" + SECRET),  # only the token routes
        (
            "https://trust.example/reset/" + SECRET + "?q=1#f",
            "https://trust.example/reset/[redacted]",
        ),
        ("https://trust.example?x=" + SECRET, "https://trust.example"),
        ("", "-"),
        (None, "-"),
    ],
)
def test_redact_target(target: str | None, expected: str) -> None:
    assert redact_target(target) == expected


def test_access_log_atoms_hold_no_secret_whatever_the_format() -> None:
    from gunicorn.config import Config

    logger = RedactingLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/reset/{SECRET}?token={SECRET}",
        "PATH_INFO": f"/reset/{SECRET}",
        "QUERY_STRING": f"token={SECRET}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"https://x.test/page?token={SECRET}",
        "HTTP_COOKIE": f"s={SECRET}",
        "HTTP_AUTHORIZATION": f"Bearer {SECRET}",
        "HTTP_USER_AGENT": "test",
    }
    request = SimpleNamespace(
        headers=[
            ("COOKIE", f"s={SECRET}"),
            ("AUTHORIZATION", f"Bearer {SECRET}"),
            ("REFERER", f"https://x.test/?t={SECRET}"),
        ]
    )
    response = SimpleNamespace(
        status="302 FOUND",
        sent=10,
        headers=[("Set-Cookie", f"s={SECRET}"), ("Location", f"/login?next=/reset/{SECRET}")],
    )
    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=3))
    assert atoms["r"] == "GET /reset/[redacted] HTTP/1.1"
    assert atoms["U"] == "/reset/[redacted]"
    assert atoms["{location}o"] == "/login"
    assert atoms["{remote_addr}e"] == "127.0.0.1"
    leaking = {key: value for key, value in atoms.items() if SECRET in str(value)}
    assert leaking == {}


def test_worker_count_follows_cpus_and_is_configurable() -> None:
    shared = {"ARTIFACT_RATELIMIT_STORAGE": "redis://127.0.0.1:6379/0"}
    assert serving_settings(shared, cpu_count=2)["workers"] == 5
    assert serving_settings(shared, cpu_count=64)["workers"] == 12
    assert serving_settings({**shared, "ARTIFACT_WORKERS": "3"}, cpu_count=2)["workers"] == 3
    assert serving_settings(shared)["bind"] == "127.0.0.1:8000"
    assert serving_settings({**shared, "ARTIFACT_ACCESS_LOG": "off"})["accesslog"] is None
    assert serving_settings({"ARTIFACT_WORKERS": "1"})["workers"] == 1  # memory:// is fine
    with pytest.raises(ConfigError, match="ARTIFACT_WORKERS"):
        serving_settings({"ARTIFACT_WORKERS": "0"})
    with pytest.raises(ConfigError, match="ARTIFACT_WORKERS must be an integer"):
        serving_settings({"ARTIFACT_WORKERS": "many"})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARTIFACT_")}
    env.update(ARTIFACT_DATA_DIR=str(data_dir), **extra)
    return env


@pytest.fixture
def gunicorn_server(tmp_path: Path) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """`make serve`'s command, in production mode, on a free loopback port."""
    data_dir = tmp_path / "data"
    passwords = migrate_and_seed(data_dir)
    port = _free_port()
    log = tmp_path / "access.log"
    env = _env(
        data_dir,
        ARTIFACT_ENV="production",
        ARTIFACT_SECRET_KEY="k" * 20 + SECRET,
        ARTIFACT_BIND=f"127.0.0.1:{port}",
        ARTIFACT_BASE_URL=f"http://127.0.0.1:{port}",
        ARTIFACT_TRUSTED_HOSTS="127.0.0.1",
        # One worker: the default memory:// limit store is refused for more (no Redis needed).
        ARTIFACT_WORKERS="1",
        ARTIFACT_ACCESS_LOG=str(log),
    )
    process = subprocess.Popen(
        [str(GUNICORN), "-c", "gunicorn.conf.py", "app:app"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # Readiness, not a timing assertion: a loaded machine may take many seconds to boot it.
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise AssertionError(process.stderr.read().decode() if process.stderr else "")
            try:
                if HttpSession(base).get("/healthz")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield base, log, passwords
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()


@pytest.mark.slow
def test_gunicorn_access_log_omits_query_strings_path_tokens_and_cookies(
    gunicorn_server: tuple[str, Path, dict[str, str]],
) -> None:
    base, log, passwords = gunicorn_server
    client = HttpSession(base)
    client.sign_in("bob@acme-health.test", passwords["bob@acme-health.test"])
    client.cookies["probe"] = SECRET
    assert client.get(f"/agreements/?token={SECRET}")[0] == 200
    assert client.get(f"/reset/{SECRET}")[0] == 400  # an unknown reset link
    assert client.request("GET", f"/login?next=/&api_key={SECRET}")[0] in (200, 302)
    for _ in range(200):  # the worker writes its log line right after answering
        text = log.read_text() if log.exists() else ""
        if text.count("\n") >= 5:
            break
        time.sleep(0.05)
    assert '"GET /agreements/ HTTP/1.1" 200' in text
    assert '"GET /reset/[redacted] HTTP/1.1" 400' in text
    assert SECRET not in text
    assert "token=" not in text
    assert "artifact_session" not in text


@pytest.mark.slow
def test_gunicorn_refuses_production_without_a_secret(tmp_path: Path) -> None:
    env = _env(
        tmp_path / "data",
        ARTIFACT_ENV="production",
        ARTIFACT_BIND=f"127.0.0.1:{_free_port()}",
        ARTIFACT_WORKERS="1",
    )
    result = subprocess.run(
        [str(GUNICORN), "-c", "gunicorn.conf.py", "app:app"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "ARTIFACT_SECRET_KEY is missing" in result.stderr
    assert "Booting worker" not in result.stderr


@pytest.mark.slow
def test_gunicorn_refuses_memory_limits_with_several_workers(tmp_path: Path) -> None:
    env = _env(
        tmp_path / "data",
        ARTIFACT_ENV="production",
        ARTIFACT_SECRET_KEY="k" * 20 + SECRET,
        ARTIFACT_BASE_URL="https://trust.example.com",
        ARTIFACT_TRUSTED_HOSTS="trust.example.com",
        ARTIFACT_BIND=f"127.0.0.1:{_free_port()}",
        ARTIFACT_WORKERS="3",
    )
    result = subprocess.run(
        [str(GUNICORN), "-c", "gunicorn.conf.py", "app:app"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "ARTIFACT_RATELIMIT_STORAGE is memory:// while 3 worker processes" in result.stderr
    assert "Booting worker" not in result.stderr
