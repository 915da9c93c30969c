"""Page throughput: gunicorn (gunicorn.conf.py, 2 workers) serving the demo data on loopback,
loaded by wrk for a fixed time per page; requests/s and p99 latency of each page, and its
ratio to a bare Jinja page served by the same gunicorn (targets: ratio >= 0.5, p99 <= 20 ms).
A page for visitors is compared with the bare page fetched as a visitor; a signed-in page with
the bare page fetched with the same session cookie (so both pay for the session look-up, and
the ratio measures the page's own work).

Runs on SQLite, then, when ARTIFACT_BENCH_DATABASE_URL names a PostgreSQL server (e.g.
postgresql://postgres@127.0.0.1/postgres), on a database of its own made there (and dropped
after). Beside each figure: the SQL statements the page ran (counted by an SQLAlchemy event hook
in the bench-only app). Also the targets that signed-in bare page >= 0.7 x the visitor's, and a
download of a generated 1,000-page, 100 MB PDF: the peak memory it adds to the worker (target
<= 2.5 x the file) and the time to its first byte.

Prints figures and PASS/FAIL per target; never fails the run on a missed target. Knobs:
BENCH_SECONDS (default 5 per page), BENCH_CONNECTIONS (default 4), BENCH_WORKERS (default 2),
BENCH_DOWNLOAD_MB (default 100) and BENCH_DOWNLOAD_PAGES (default 1000)."""

from __future__ import annotations

import http.client
import logging
import math
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
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from artifact import create_app  # noqa: E402
from artifact.demo import seed as demo  # noqa: E402
from artifact.extensions import db  # noqa: E402
from artifact.kernel import uow  # noqa: E402
from artifact.kernel.caller import OPERATOR  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "4"))
WORKERS = os.environ.get("BENCH_WORKERS", "2")
RATIO_TARGET, P99_TARGET_MS = 0.5, 20.0
SIGNED_IN_TARGET = 0.7  # signed-in bare page against the visitor's
MEMORY_TARGET = 2.5  # peak memory a download adds, in file sizes
DOWNLOAD_MB = int(os.environ.get("BENCH_DOWNLOAD_MB", "100"))
DOWNLOAD_PAGES = int(os.environ.get("BENCH_DOWNLOAD_PAGES", "1000"))
DOWNLOAD_TITLE = "Bench: a 1,000-page report"
# A customer with a grant to the restricted SOC 2 report (whose page then also works out the
# NDA the download needs): the most a report page does for a customer.
SIGNED_IN_AS = "bob@acme-health.test"
# Staff pages (evidence, coverage) as a staff member, compared with the bare page as them.
STAFF = "staff@artifact.test"
BARE = "/__bench__/bare"
REPORT = "SOC 2 Type II report 2025 (sample)"
# (label, path, who: "" a visitor, "in" the customer, "staff"); {report}, {agreement} and
# {framework} are the ids of REPORT, its NDA and the SOC 2 framework.
PAGES = [
    ("front page", "/", ""),
    ("catalog", "/catalog/", ""),
    ("catalog", "/catalog/", "in"),
    ("report page (SOC 2)", "/catalog/{report}", "in"),
    ("search 'SOC 2'", "/search?q=SOC+2", ""),
    ("search 'SOC 2'", "/search?q=SOC+2", "in"),
    ("frameworks", "/frameworks", "in"),
    ("regulation (GDPR)", "/regulations/gdpr", "in"),
    ("my agreements", "/agreements/", "in"),
    ("agreement (NDA)", "/agreements/{agreement}", "in"),
    ("evidence list", "/evidence", "staff"),
    ("coverage (SOC 2)", "/frameworks/{framework}/coverage", "staff"),
]
# The bench-only app: the product plus one bare Jinja page, never part of the product.
BENCH_APP = '''
from flask import g, has_request_context, render_template
from sqlalchemy import event

from artifact import create_app
from artifact.extensions import db

app = create_app()


# The statements each request runs, in a response header the bench reads (bench only).
def _count(*_args):
    if has_request_context():
        g.bench_queries = g.get("bench_queries", 0) + 1


def _reset():
    g.bench_queries = 0


with app.app_context():
    event.listen(db.engine, "before_cursor_execute", _count)
app.before_request_funcs.setdefault(None, []).insert(0, _reset)


@app.after_request
def _report_queries(response):
    response.headers["X-Bench-Queries"] = str(g.get("bench_queries", 0))
    return response


# Compiled once, as the product's own templates are.
BARE = app.jinja_env.from_string("""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ title }}</title></head><body><h1>{{ title }}</h1>
<ul>{% for item in items %}<li>{{ item }}</li>{% endfor %}</ul></body></html>""")


@app.get("@BARE@")
def bare():
    return render_template(BARE, title="A bare Jinja page", items=range(10))
'''.replace("@BARE@", BARE)


def ids(database_url: str) -> dict[str, str]:
    """The ids the page paths need."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            found = {
                "report": conn.scalar(
                    text("SELECT id FROM report WHERE title = :t"), {"t": REPORT}
                ),
                "agreement": conn.scalar(
                    text("SELECT terms_agreement_id FROM report WHERE title = :t"), {"t": REPORT}
                ),
                "framework": conn.scalar(
                    text("SELECT id FROM framework WHERE key = 'soc2-tsc-2017'")
                ),
                "download": conn.scalar(
                    text("SELECT id FROM report WHERE title = :t"), {"t": DOWNLOAD_TITLE}
                ),
            }
    finally:
        engine.dispose()
    missing = [name for name, value in found.items() if value is None]
    if missing:
        raise SystemExit(f"bench: the demo data has no {', '.join(missing)}")
    return {name: str(value) for name, value in found.items()}


def big_pdf(pages: int, megabytes: int) -> bytes:
    """A PDF of ``pages`` pages and about ``megabytes`` MB: each page draws an image of random
    (incompressible) bytes."""
    import io

    import pikepdf

    pdf = pikepdf.new()
    side = max(1, int((megabytes * 1024 * 1024 / pages / 3) ** 0.5))
    for _ in range(pages):
        image = pikepdf.Stream(pdf, os.urandom(side * side * 3))
        image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        image.Width, image.Height, image.BitsPerComponent = side, side, 8
        image.ColorSpace = pikepdf.Name.DeviceRGB
        page = pdf.add_blank_page(page_size=(612, 792))
        page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
        page.Contents = pikepdf.Stream(pdf, b"q 500 0 0 500 56 146 cm /Im0 Do Q")
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def seed(data_dir: Path, database_url: str) -> tuple[dict[str, str], str]:
    """The demo data, the staff member's second factor and the big report; returns the demo
    passwords and the staff member's TOTP secret."""
    import pyotp

    data_dir.mkdir(mode=0o700)
    app = create_app(
        {
            "ARTIFACT_ENV": "testing",
            "DATA_DIR": str(data_dir),
            "SQLALCHEMY_DATABASE_URI": database_url,
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        from artifact.catalog.services import reports
        from artifact.identity.services import mfa
        from artifact.identity.services.lookup import user_by_email
        from artifact.infra.storage import store_for
        from artifact.models.catalog import State

        logging.disable(logging.INFO)
        upgrade(revision="heads")
        made = demo.seed(db.session, OPERATOR, password_factory=lambda: secrets.token_urlsafe(12))
        passwords = {account.email: account.password for account in made}
        store = store_for(app)
        staff = user_by_email(db.session, STAFF)
        secret, _uri = mfa.begin_enrolment(
            db.session, OPERATOR, staff, passwords[STAFF], store.keyring
        )
        mfa.confirm_enrolment(db.session, OPERATOR, staff, pyotp.TOTP(secret).now(), store.keyring)
        big = reports.create_report(
            db.session,
            OPERATOR,
            {"title": DOWNLOAD_TITLE, "category": "reports", "visibility": "customers"},
        )
        data = big_pdf(DOWNLOAD_PAGES, DOWNLOAD_MB)
        reports.add_version(db.session, OPERATOR, store, big.id, data, "big.pdf", len(data) + 1)
        reports.set_state(db.session, OPERATOR, big.id, State.PUBLISHED)
        # Through the unit of work, as `flask seed-demo` commits: its after-commit steps index
        # the demo (a plain session commit left the search index empty, and the search page
        # was measured finding nothing).
        uow.commit(db.session)
        db.session.remove()
        db.engine.dispose()
        logging.disable(logging.NOTSET)
    return passwords, secret


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(
    port: int, method: str, path: str, body: str | None = None, cookie: str = ""
) -> tuple[int, str, str, str]:
    """(status, body, the session cookie it set if any, the statements it ran)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
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
    return response.status, text, set_cookie, response.getheader("X-Bench-Queries") or "?"


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    if not match:
        raise SystemExit("bench: no CSRF token on the sign-in page")
    return match.group(1)


def sign_in(port: int, email: str, password: str, totp_secret: str | None = None) -> str:
    """Sign in like a browser (the second factor too) and follow the redirect, so the cookie
    carries no pending message."""
    from urllib.parse import urlencode

    _, page, cookie, _ = request(port, "GET", "/login")
    body = urlencode({"csrf_token": _csrf(page), "email": email, "password": password})
    status, _, session_cookie, _ = request(port, "POST", "/login", body, cookie)
    if status == 302 and totp_secret:
        import pyotp

        _, page, refreshed, _ = request(port, "GET", "/login/mfa", cookie=session_cookie)
        session_cookie = refreshed or session_cookie
        # The next time step: the seed's enrolment used up the current one.
        totp = pyotp.TOTP(totp_secret)
        code = totp.generate_otp(int(time.time() // totp.interval) + 1)
        body = urlencode({"csrf_token": _csrf(page), "code": code})
        status, _, session_cookie, _ = request(port, "POST", "/login/mfa", body, session_cookie)
    if status != 302 or not session_cookie:
        raise SystemExit(f"bench: sign-in as {email} answered {status}")
    _, _, refreshed, _ = request(port, "GET", "/", cookie=session_cookie)
    return refreshed or session_cookie


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


def start_gunicorn(
    tmp: Path, data_dir: Path, port: int, database_url: str
) -> subprocess.Popen[bytes]:
    (tmp / "bench_app.py").write_text(BENCH_APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARTIFACT_")}
    env.update(
        ARTIFACT_ENV="production",
        ARTIFACT_SECRET_KEY=secrets.token_urlsafe(48),
        ARTIFACT_DATA_DIR=str(data_dir),
        ARTIFACT_DATABASE_URL=database_url,
        ARTIFACT_WORKERS=WORKERS,
        ARTIFACT_BIND=f"127.0.0.1:{port}",
        ARTIFACT_BASE_URL=f"http://127.0.0.1:{port}",
        ARTIFACT_TRUSTED_HOSTS="127.0.0.1",
        ARTIFACT_MAX_REPORT_MB=str(DOWNLOAD_MB * 2),
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
    for _ in range(600):
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


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def postgres_database(server_url: str) -> tuple[str, Callable[[], None]]:
    """A new, empty database on the server of ``server_url``, and how to drop it."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    name = f"artifact_bench_{secrets.token_hex(4)}"
    admin = url.set(drivername="postgresql", database=url.database or "postgres")
    conninfo = admin.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url.set(drivername="postgresql+psycopg", database=name).render_as_string(
        hide_password=False
    ), drop


def main() -> None:
    if shutil.which("wrk") is None:
        print(
            "bench/pages.py skipped: wrk is absent (`make bench` installs the Debian package "
            "wrk where it may; else apt-get install wrk)"
        )
        return
    print(
        f"page throughput: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}; gunicorn "
        f"{WORKERS} sync workers, wrk 2 threads x {CONNECTIONS} connections, {SECONDS} s per "
        f"page after a 1 s warm-up; signed-in pages as {SIGNED_IN_AS}, staff pages as {STAFF}"
    )
    pg = os.environ.get("ARTIFACT_BENCH_DATABASE_URL", "")
    backends: list[str] = ["sqlite"] + (["postgresql"] if pg.startswith("postgres") else [])
    if not pg:
        print("(PostgreSQL: set ARTIFACT_BENCH_DATABASE_URL=postgresql://USER@HOST/postgres)")
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="artifact-bench-") as tmp_name:
            tmp = Path(tmp_name)
            data_dir = tmp / "data"
            drop: Callable[[], None] = lambda: None  # noqa: E731
            if backend == "sqlite":
                database_url = f"sqlite:///{data_dir / 'artifact.db'}"
            else:
                database_url, drop = postgres_database(pg)
            try:
                passwords, totp_secret = seed(data_dir, database_url)
                port = free_port()
                process = start_gunicorn(tmp, data_dir, port, database_url)
                try:
                    found = ids(database_url)
                    cookies = {
                        "": "",
                        "in": sign_in(port, SIGNED_IN_AS, passwords[SIGNED_IN_AS]),
                        "staff": sign_in(port, STAFF, passwords[STAFF], totp_secret),
                    }
                    report(backend, port, cookies, found)
                    if backend == backends[0]:
                        download(port, process, cookies["in"], found["download"])
                finally:
                    process.terminate()
                    process.wait(timeout=30)
            finally:
                drop()


def shown(ratio: float) -> str:
    """A ratio to two places, rounded down: a 0.699 that misses 0.7 never prints as 0.70."""
    return f"{math.floor(round(ratio * 100, 6)) / 100:.2f}"


def report(backend: str, port: int, cookies: dict[str, str], found: dict[str, str]) -> None:
    pages = [(label, path.format(**found), who) for label, path, who in PAGES]
    queries: dict[str, str] = {}
    for _label, path, who in [*pages, ("", BARE, ""), ("", BARE, "in"), ("", BARE, "staff")]:
        # The fewest of a few visits: once each worker has filled what it keeps.
        counts = []
        for _ in range(2 * int(WORKERS) + 1):
            status, body, _, count = request(port, "GET", path, cookie=cookies[who])
            if status != 200:
                raise SystemExit(f"bench: {path} answered {status}")
            if path.startswith("/search") and '<p role="status">0 results' in body:
                raise SystemExit(f"bench: {path} found nothing (is the demo indexed?)")
            counts.append(int(count))
        queries[f"{who}:{path}"] = str(min(counts))
    print(f"\n== {backend}: load average {load()} before the run")
    print(
        f"{'page':<34} {'req/s':>8} {'p99 ms':>8} {'ratio':>6} {'SQL':>4}  "
        f"ratio>={RATIO_TARGET}  p99<={P99_TARGET_MS:g}ms"
    )
    suffix = {"": "", "in": " (signed in)", "staff": " (staff)"}
    bare: dict[str, float] = {}
    for who in ("", "in", "staff"):
        wrk(port, BARE, cookies[who], 1)
        rps, p99 = wrk(port, BARE, cookies[who], SECONDS)
        bare[who] = rps
        label = "bare Jinja page" + suffix[who]
        ratio = rps / bare[""]
        verdict = ""
        if who == "in":
            passed = "PASS" if ratio >= SIGNED_IN_TARGET else "FAIL"
            verdict = f"{passed} (>= {SIGNED_IN_TARGET} x the visitor's)"
        print(
            f"{label:<34} {rps:>8.0f} {p99:>8.1f} {shown(ratio):>6} {queries[f'{who}:{BARE}']:>4}  "
            f"{verdict:<10}  {'PASS' if p99 <= P99_TARGET_MS else 'FAIL'}"
        )
    for label, path, who in pages:
        wrk(port, path, cookies[who], 1)
        rps, p99 = wrk(port, path, cookies[who], SECONDS)
        ratio = rps / bare[who]
        label += suffix[who]
        print(
            f"{label:<34} {rps:>8.0f} {p99:>8.1f} {shown(ratio):>6} {queries[f'{who}:{path}']:>4}  "
            f"{'PASS' if ratio >= RATIO_TARGET else 'FAIL':<10}  "
            f"{'PASS' if p99 <= P99_TARGET_MS else 'FAIL'}"
        )
    print(f"load average {load()} after the run")


def _status(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) * 1024
    return values


def download(port: int, process: subprocess.Popen[bytes], cookie: str, report: str) -> None:
    """One download of the big report: the peak memory it adds to the worker that served it
    (each worker's peak is reset first: /proc/PID/clear_refs) and the time to first byte."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text()
    workers = [int(pid) for pid in children.split()]
    before = {}
    for pid in workers:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            print("download: cannot reset the workers' peak memory (needs the same user)")
            return
        before[pid] = _status(pid)["VmRSS"]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    conn.request("GET", f"/catalog/{report}/download", headers={"Cookie": cookie})
    response = conn.getresponse()
    response.read(1)
    first_byte = time.perf_counter() - started
    size = 1 + len(response.read())
    total = time.perf_counter() - started
    conn.close()
    if response.status != 200:
        raise SystemExit(f"bench: the download answered {response.status}")
    added = max(_status(pid)["VmHWM"] - before[pid] for pid in workers)
    mb = 1024 * 1024
    ratio = added / size
    print(
        f"\ndownload of a {DOWNLOAD_PAGES}-page PDF, {size / mb:.0f} MB stamped copy "
        f"(load average {load()}): time to first byte {first_byte:.2f} s, whole copy "
        f"{total:.2f} s; peak memory added {added / mb:.0f} MB = {ratio:.2f} x the file  "
        f"{'PASS' if ratio <= MEMORY_TARGET else 'FAIL'} (<= {MEMORY_TARGET} x)"
    )


if __name__ == "__main__":
    main()
