"""Two app servers, one catalog: two gunicorn instances on different loopback ports with data
directories of their own, sharing one PostgreSQL database (records and the postgres search
index), one Redis (rate limits), one S3 server (moto: blobs and the audit witness) and the same
keyring file and audit signing key, as README "Scale-out" deploys them.

Runs in the PostgreSQL pass (ARTIFACT_DATABASE_URL=postgresql://...) with Redis on
127.0.0.1:6379 (ARTIFACT_TEST_REDIS to change it); skipped otherwise. One setup for the module."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import text

from artifact import create_app
from artifact.agreements.services import agreements
from artifact.audit.services import signing
from artifact.catalog.services import grants, reports
from artifact.config import PROJECT_ROOT
from artifact.extensions import db
from artifact.identity.services import accounts, tokens
from artifact.infra.storage import store_for
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR, Caller
from tests.fixtures_agreements import NDA_TEXT
from tests.fixtures_catalog import ensure_series, make_pdf
from tests.fixtures_s3 import CREDENTIALS, free_port, make_bucket
from tests.fixtures_search import ON_POSTGRES
from tests.live_server import HttpSession

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not ON_POSTGRES,
        reason="two nodes share one PostgreSQL database (records and the postgres search "
        "index): it runs in the PostgreSQL pass (ARTIFACT_DATABASE_URL=postgresql://...)",
    ),
]

GUNICORN = Path(sys.executable).with_name("gunicorn")
REDIS = os.environ.get("ARTIFACT_TEST_REDIS", "redis://127.0.0.1:6379/14")
PASSWORD = "two nodes correct horse 42"  # noqa: S105 (a test account's)
SIGN_IN_LIMIT = 3


@dataclass
class Cluster:
    a: str  # node A's base URL
    b: str
    env: dict[str, str]  # node A's settings (for `flask` commands)
    staff: dict[str, str]  # bearer headers
    customer: dict[str, str]
    report_id: str  # restricted, granted to the customer's organisation, no file yet
    grant_id: str
    gated_id: str  # a report whose downloads need the NDA
    nda_id: str


def _redis_or_skip() -> None:
    """Skip without Redis, except where REDIS_REQUIRED says it must be there (CI)."""
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        why = f"no Redis at {REDIS} (ARTIFACT_TEST_REDIS); the two-node test needs one"
        if os.environ.get("REDIS_REQUIRED"):
            pytest.fail(why)
        pytest.skip(why)


def _settings(data_dir: Path, port: int, shared: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARTIFACT_")}
    env.update(CREDENTIALS)
    env.update(
        shared,
        ARTIFACT_DATA_DIR=str(data_dir),
        ARTIFACT_BIND=f"127.0.0.1:{port}",
        ARTIFACT_WORKERS="1",
        ARTIFACT_ACCESS_LOG="off",
    )
    return env


def _overrides(env: dict[str, str]) -> dict[str, Any]:
    """The same settings as an in-process app's config (for seeding and `flask` commands)."""
    from artifact.config import load_config

    return load_config(environ=env)


def _seed(env: dict[str, str]) -> dict[str, Any]:
    app = create_app(_overrides(env))
    with app.app_context():
        store_for(app).keyring.create()  # as `flask init` does
        signing.load_or_create_key(env["ARTIFACT_DATA_DIR"])
        staff = accounts.create_user(
            db.session, OPERATOR, email="staff@two.test", role="staff", password=PASSWORD
        )
        customer = accounts.create_user(
            db.session,
            OPERATOR,
            email="bob@two.test",
            role="customer",
            password=PASSWORD,
            name="Bob",
            organization="Two Nodes Inc",
            create_organization_if_missing=True,
        )
        admin = accounts.create_user(
            db.session, OPERATOR, email="admin@two.test", role="admin", password=PASSWORD
        )
        uow.commit(db.session)
        ensure_series("SOC")
        report = reports.create_report(
            db.session,
            OPERATOR,
            {
                "title": "Two node report",
                "visibility": "restricted",
                "series": "SOC",
                "category": "reports",
            },
        )
        grant = grants.create_grant(
            db.session, OPERATOR, report_id=report.id, organization="Two Nodes Inc"
        )
        nda = agreements.create_agreement(
            db.session, Caller.of_user(admin), title="Mutual NDA", kind="nda", text=NDA_TEXT
        )
        uow.commit(db.session)
        gated = reports.create_report(
            db.session,
            OPERATOR,
            {
                "title": "Gated report",
                "visibility": "restricted",
                "series": "SOC",
                "category": "reports",
                "terms_agreement_id": nda.id,
            },
        )
        reports.add_version(
            db.session, OPERATOR, store_for(app), gated.id, make_pdf(2), "gated.pdf", 10**8
        )
        reports.set_state(db.session, OPERATOR, gated.id, "published")
        grants.create_grant(db.session, OPERATOR, report_id=gated.id, organization="Two Nodes Inc")
        _t, staff_token = tokens.create(db.session, OPERATOR, staff, "two nodes")
        _t, customer_token = tokens.create(db.session, OPERATOR, customer, "two nodes")
        uow.commit(db.session)
        seeded = {
            "staff": {"Authorization": f"Bearer {staff_token}"},
            "customer": {"Authorization": f"Bearer {customer_token}"},
            "report_id": report.id,
            "grant_id": grant.id,
            "gated_id": gated.id,
            "nda_id": nda.id,
        }
        app.extensions.pop("artifact_search").close()
        db.session.remove()
        db.engine.dispose()
    return seeded


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:  # the server writes to its own copy of the descriptor
        return subprocess.Popen(
            [str(GUNICORN), "-c", "gunicorn.conf.py", "app:app"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=handle,
        )


def _wait(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # readiness, not a timing assertion
        if process.poll() is not None:
            raise AssertionError(log.read_text())
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"{base} did not start: {log.read_text()}")


@pytest.fixture(scope="module")
def cluster(
    database_template: dict[str, Any],
    moto_endpoint: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cluster]:
    _redis_or_skip()
    work = tmp_path_factory.mktemp("two-nodes")
    name = f"{database_template['template'][:40]}_two_{uuid.uuid4().hex[:6]}"
    admin = database_template["admin"]
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{database_template["template"]}"'))
    url = database_template["base"].set(database=name).render_as_string(hide_password=False)
    bucket = make_bucket(moto_endpoint)
    shared = {
        "ARTIFACT_ENV": "production",
        "ARTIFACT_SECRET_KEY": "two-nodes-" + uuid.uuid4().hex,
        "ARTIFACT_DATABASE_URL": url,
        "ARTIFACT_NODES": "2",
        "ARTIFACT_BLOB_STORE": f"s3://{bucket}/blobs",
        "ARTIFACT_AUDIT_WITNESS": f"s3://{bucket}/witness",
        "ARTIFACT_S3_ENDPOINT_URL": moto_endpoint,
        "ARTIFACT_SEARCH_BACKEND": "postgres",
        "ARTIFACT_RATELIMIT_STORAGE": REDIS,
        # Our own key prefix instead of flushing a Redis database other runs may share.
        "ARTIFACT_RATELIMIT_KEY_PREFIX": f"artifact-two-nodes-{uuid.uuid4().hex}",
        "ARTIFACT_RATELIMIT_SIGN_IN": f"{SIGN_IN_LIMIT} per minute",
        "ARTIFACT_TRUSTED_HOSTS": "127.0.0.1",
    }
    ports = [free_port(), free_port()]
    envs = []
    for node, port in zip("ab", ports, strict=True):
        env = _settings(work / node, port, shared)
        env["ARTIFACT_BASE_URL"] = f"http://127.0.0.1:{port}"
        envs.append(env)
    seeded = _seed(envs[0])
    (work / "b" / "keys").mkdir(parents=True)
    for key in ("keys/keyring.json", signing.key_path(work / "a").name):  # on every node
        shutil.copy2(work / "a" / key, work / "b" / key)
    logs = [work / "a.log", work / "b.log"]
    processes = [_start(env, log) for env, log in zip(envs, logs, strict=True)]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for process, base, log in zip(processes, bases, logs, strict=True):
            _wait(process, base, log)
        yield Cluster(bases[0], bases[1], envs[0], **seeded)
    finally:
        for process in processes:
            process.send_signal(signal.SIGQUIT)  # gunicorn's quick shutdown
        for process in processes:
            process.wait(30)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _download(base: str, cluster: Cluster, report_id: str) -> requests.Response:
    return requests.get(
        f"{base}/api/v1/reports/{report_id}/download", headers=cluster.customer, timeout=30
    )


def test_a_report_uploaded_on_a_is_found_and_downloaded_on_b(cluster: Cluster) -> None:
    pdf = make_pdf(3, marker="quokka attestation")
    uploaded = requests.post(
        f"{cluster.a}/api/v1/reports/{cluster.report_id}/versions",
        headers=cluster.staff,
        files={"file": ("two.pdf", pdf, "application/pdf")},
        timeout=60,
    )
    assert uploaded.status_code == 201, uploaded.text
    published = requests.post(
        f"{cluster.a}/api/v1/reports/{cluster.report_id}/state",
        headers=cluster.staff,
        json={"state": "published"},
        timeout=30,
    )
    assert published.status_code == 200, published.text

    found = requests.get(
        f"{cluster.b}/api/v1/search",
        params={"q": '"quokka attestation"'},
        headers=cluster.customer,
        timeout=30,
    ).json()
    assert [(h["id"], sorted(h["pages"])) for h in found["hits"]] == [
        (cluster.report_id, [1, 2, 3])
    ]
    assert "<mark>quokka attestation</mark>" in found["hits"][0]["snippet"]

    original = requests.get(
        f"{cluster.b}/api/v1/reports/{cluster.report_id}/versions/1/original",
        headers=cluster.staff,
        timeout=30,
    )
    assert original.status_code == 200
    assert hashlib.sha256(original.content).digest() == hashlib.sha256(pdf).digest()
    stamped = _download(cluster.b, cluster, cluster.report_id)
    assert stamped.status_code == 200
    assert stamped.content.startswith(b"%PDF")


def test_an_acceptance_on_a_opens_the_gate_on_b(cluster: Cluster) -> None:
    gated = _download(cluster.b, cluster, cluster.gated_id)
    assert gated.status_code == 428
    assert gated.json()["error"]["code"] == "terms_required"
    accepted = requests.post(
        f"{cluster.a}/api/v1/agreements/{cluster.nda_id}/accept",
        headers=cluster.customer,
        json={"version": 1, "typed_name": "Bob", "scope": "account"},
        timeout=30,
    )
    assert accepted.status_code == 201, accepted.text
    assert _download(cluster.b, cluster, cluster.gated_id).status_code == 200


def test_a_grant_revoked_on_b_denies_the_next_download_on_a(cluster: Cluster) -> None:
    assert _download(cluster.a, cluster, cluster.report_id).status_code == 200
    revoked = requests.delete(
        f"{cluster.b}/api/v1/grants/{cluster.grant_id}", headers=cluster.staff, timeout=30
    )
    assert revoked.status_code == 204, revoked.text
    assert _download(cluster.a, cluster, cluster.report_id).status_code == 404
    found = requests.get(
        f"{cluster.a}/api/v1/search",
        params={"q": "quokka"},
        headers=cluster.customer,
        timeout=30,
    ).json()
    assert found["total"] == 0


def test_sign_in_throttling_counts_across_both_nodes(cluster: Cluster) -> None:
    sessions = {cluster.a: HttpSession(cluster.a), cluster.b: HttpSession(cluster.b)}
    statuses = []
    for base in (cluster.a, cluster.b, cluster.a, cluster.b):
        status, _headers, _page = sessions[base].post_form(
            "/login", {"email": "nobody@two.test", "password": "wrong password 123"}, "/login"
        )
        statuses.append(status)
    assert statuses == [401] * SIGN_IN_LIMIT + [429]


def test_the_audit_trail_verifies_after_traffic_through_both(cluster: Cluster) -> None:
    app = create_app(_overrides(cluster.env))  # `flask audit verify` with node A's settings
    try:
        result = app.test_cli_runner().invoke(args=["audit", "verify"])
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok ")
