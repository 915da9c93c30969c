"""Page throughput: gunicorn (gunicorn.conf.py, 2 workers) serving the demo data on loopback,
loaded by wrk for a fixed time per page; requests/s and p99 latency of each page, and its
ratio to a bare Jinja page served by the same gunicorn (targets: ratio >= 0.5, p99 <= 20 ms).
A page for visitors is compared with the bare page fetched as a visitor; a signed-in page with
the bare page fetched with the same session cookie (so both pay for the session look-up, and
the ratio measures the page's own work).

Prints figures and PASS/FAIL per target; never fails the run on a missed target. Knobs:
BENCH_SECONDS (default 5 per page), BENCH_CONNECTIONS (default 4), BENCH_WORKERS (default 2)."""

from __future__ import annotations

import http.client
import logging
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from artifact import create_app  # noqa: E402
from artifact.demo import seed as demo  # noqa: E402
from artifact.extensions import db  # noqa: E402
from artifact.kernel.caller import OPERATOR  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "4"))
WORKERS = os.environ.get("BENCH_WORKERS", "2")
RATIO_TARGET, P99_TARGET_MS = 0.5, 20.0
# A customer with a grant to the restricted SOC 2 report (whose page then also works out the
# NDA the download needs): the most a report page does for a customer.
SIGNED_IN_AS = "bob@acme-health.test"
BARE = "/__bench__/bare"
REPORT = "SOC 2 Type II report 2025 (sample)"
# (label, path, signed in?); {report} is the id of REPORT.
PAGES = [
    ("front page", "/", False),
    ("catalog", "/catalog/", False),
    ("catalog", "/catalog/", True),
    ("report page (SOC 2)", "/catalog/{report}", True),
    ("search 'SOC 2'", "/search?q=SOC+2", False),
    ("search 'SOC 2'", "/search?q=SOC+2", True),
    ("frameworks", "/frameworks", True),
    ("regulation (GDPR)", "/regulations/gdpr", True),
]
# The bench-only app: the product plus one bare Jinja page, never part of the product.
BENCH_APP = '''
from flask import render_template

from artifact import create_app

app = create_app()
# Compiled once, as the product's own templates are.
BARE = app.jinja_env.from_string("""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ title }}</title></head><body><h1>{{ title }}</h1>
<ul>{% for item in items %}<li>{{ item }}</li>{% endfor %}</ul></body></html>""")


@app.get("@BARE@")
def bare():
    return render_template(BARE, title="A bare Jinja page", items=range(10))
'''.replace("@BARE@", BARE)


def report_id(data_dir: Path) -> str:
    import sqlite3

    conn = sqlite3.connect(data_dir / "artifact.db")
    try:
        row = conn.execute("SELECT id FROM report WHERE title = ?", (REPORT,)).fetchone()
    finally:
        conn.close()
    if row is None:
        raise SystemExit(f"bench: the demo has no report {REPORT!r}")
    return str(row[0])


def seed(data_dir: Path) -> dict[str, str]:
    data_dir.mkdir(mode=0o700)
    app = create_app(
        {
            "ARTIFACT_ENV": "testing",
            "DATA_DIR": str(data_dir),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data_dir / 'artifact.db'}",
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        logging.disable(logging.INFO)
        upgrade(revision="heads")
        made = demo.seed(db.session, OPERATOR, password_factory=lambda: secrets.token_urlsafe(12))
        db.session.remove()
        db.engine.dispose()
        logging.disable(logging.NOTSET)
    return {account.email: account.password for account in made}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(
    port: int, method: str, path: str, body: str | None = None, cookie: str = ""
) -> tuple[int, str, str]:
    """(status, body, the session cookie it set, if any)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    text = response.read().decode("utf-8", "replace")
    set_cookie = ""
    for name, value in response.getheaders():
        if name.lower() == "set-cookie" and value.startswith("__Host-artifact_session="):
            set_cookie = value.split(";", 1)[0]
    conn.close()
    return response.status, text, set_cookie


def sign_in(port: int, email: str, password: str) -> str:
    from urllib.parse import urlencode

    _, page, cookie = request(port, "GET", "/login")
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    if not match:
        raise SystemExit("bench: no CSRF token on /login")
    body = urlencode({"csrf_token": match.group(1), "email": email, "password": password})
    status, _, session_cookie = request(port, "POST", "/login", body, cookie)
    if status != 302 or not session_cookie:
        raise SystemExit(f"bench: sign-in as {email} answered {status}")
    return session_cookie


def wrk(port: int, path: str, cookie: str, seconds: int) -> tuple[float, float]:
    """(requests per second, p99 in ms) from wrk over ``seconds``."""
    argv = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    if cookie:
        argv += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(  # noqa: S603
        [*argv, f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise SystemExit(f"bench: {path} answered errors under load:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()  # type: ignore[union-attr]
    return rps, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def start_gunicorn(tmp: Path, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    (tmp / "bench_app.py").write_text(BENCH_APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARTIFACT_")}
    env.update(
        ARTIFACT_ENV="production",
        ARTIFACT_SECRET_KEY=secrets.token_urlsafe(48),
        ARTIFACT_DATA_DIR=str(data_dir),
        ARTIFACT_WORKERS=WORKERS,
        ARTIFACT_BIND=f"127.0.0.1:{port}",
        ARTIFACT_BASE_URL=f"http://127.0.0.1:{port}",
        ARTIFACT_TRUSTED_HOSTS="127.0.0.1",
        # Several workers share their limits (production refuses memory:// for them).
        ARTIFACT_RATELIMIT_STORAGE=os.environ.get(
            "ARTIFACT_BENCH_REDIS", "redis://127.0.0.1:6379/14"
        ),
        ARTIFACT_ACCESS_LOG=str(tmp / "access.log"),
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(  # noqa: S603
        [
            str(gunicorn),
            "-c",
            str(ROOT / "gunicorn.conf.py"),  # noqa: S603
            "--pythonpath",
            str(tmp),
            "bench_app:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                return process
        except OSError:
            time.sleep(0.05)
    process.terminate()
    raise SystemExit("bench: gunicorn did not start")


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}"


def main() -> None:
    if shutil.which("wrk") is None:
        print(
            "bench/pages.py skipped: wrk is absent (`make bench` installs the Debian package "
            "wrk where it may; else apt-get install wrk)"
        )
        return
    with tempfile.TemporaryDirectory(prefix="artifact-bench-") as tmp_name:
        tmp = Path(tmp_name)
        data_dir = tmp / "data"
        passwords = seed(data_dir)
        port = free_port()
        process = start_gunicorn(tmp, data_dir, port)
        try:
            report(port, passwords, report_id(data_dir))
        finally:
            process.terminate()
            process.wait(timeout=30)


def report(port: int, passwords: dict[str, str], report: str) -> None:
    cookie = sign_in(port, SIGNED_IN_AS, passwords[SIGNED_IN_AS])
    pages = [(label, path.format(report=report), signed_in) for label, path, signed_in in PAGES]
    for _label, path, signed_in in pages:
        status = request(port, "GET", path, cookie=cookie if signed_in else "")[0]
        if status != 200:
            raise SystemExit(f"bench: {path} answered {status}")
    print(
        f"page throughput: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} before the run"
    )
    print(
        f"gunicorn {WORKERS} sync workers, wrk 2 threads x {CONNECTIONS} connections, "
        f"{SECONDS} s per page after a 1 s warm-up; signed-in pages as {SIGNED_IN_AS}"
    )
    print(
        f"{'page':<30} {'req/s':>8} {'p99 ms':>8} {'ratio':>6}  ratio>={RATIO_TARGET}  "
        f"p99<={P99_TARGET_MS:g}ms"
    )
    bare: dict[bool, float] = {}
    for signed_in in (False, True):
        wrk(port, BARE, cookie if signed_in else "", 1)
        rps, p99 = wrk(port, BARE, cookie if signed_in else "", SECONDS)
        bare[signed_in] = rps
        label = "bare Jinja page" + (" (signed in)" if signed_in else "")
        print(
            f"{label:<30} {rps:>8.0f} {p99:>8.1f} {1:>6.2f}  {'':<10}  "
            f"{'PASS' if p99 <= P99_TARGET_MS else 'FAIL'}"
        )
    for label, path, signed_in in pages:
        page_cookie = cookie if signed_in else ""
        wrk(port, path, page_cookie, 1)
        rps, p99 = wrk(port, path, page_cookie, SECONDS)
        ratio = rps / bare[signed_in]
        label += " (signed in)" if signed_in else ""
        print(
            f"{label:<30} {rps:>8.0f} {p99:>8.1f} {ratio:>6.2f}  "
            f"{'PASS' if ratio >= RATIO_TARGET else 'FAIL':<10}  "
            f"{'PASS' if p99 <= P99_TARGET_MS else 'FAIL'}"
        )


if __name__ == "__main__":
    main()
