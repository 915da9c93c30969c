"""`flask migrate-store --records-from`: a demo node's SQLite records (seeded, with an accepted
agreement and a download) copied into a new PostgreSQL database, compared row for row through
the models' types, the audit trail verified there, and the app served from it; resumable after
an interruption, idempotent, and refused where it would mix two catalogs or where the source is
not an Artifact database. Runs in the PostgreSQL pass (the target must be PostgreSQL)."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import Engine, create_engine, func, select, text

from artifact import create_app
from artifact.admin.services.migrate_records import APPEND_ONLY, tables
from artifact.config import PROJECT_ROOT
from artifact.extensions import db
from artifact.identity.services import tokens
from artifact.identity.services.lookup import user_by_email
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR
from artifact.models import Acceptance, AuditEvent, Report, ReportVersion, User
from tests.conftest import IsolatedClient, sign_in
from tests.fixtures_search import ON_POSTGRES

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="the records are copied into PostgreSQL: this runs in the PostgreSQL pass "
    "(ARTIFACT_DATABASE_URL=postgresql://...)",
)

Snapshot = dict[str, list[tuple[Any, ...]]]


def _app(data_dir: Path, database_url: str | None = None, **settings: Any) -> Flask:
    app = create_app(
        {
            "ARTIFACT_ENV": "testing",
            "DATA_DIR": str(data_dir),
            "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{data_dir / 'artifact.db'}",
            **settings,
        }
    )
    app.test_client_class = IsolatedClient
    return app


def _close(app: Flask) -> None:
    search = app.extensions.pop("artifact_search", None)
    if search is not None:
        search.close()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _bearer(user: User) -> dict[str, str]:
    _token, raw = tokens.create(db.session, OPERATOR, user, "test")
    uow.commit(db.session)
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A single node's data directory: `init`, `seed-demo`, then Alice accepts the demo NDA and
    downloads the SOC 2 report (checkpoints signed every 10 events, so some are witnessed)."""
    data = tmp_path_factory.mktemp("node") / "data"
    app = _app(data, AUDIT_CHECKPOINT_EVERY=10)
    runner = app.test_cli_runner()
    with app.app_context():
        assert runner.invoke(args=["init"]).exit_code == 0
        seeded = runner.invoke(args=["seed-demo"])
        assert seeded.exit_code == 0, seeded.output
        line = next(x for x in seeded.output.splitlines() if "alice@acme-health.test" in x)
        alice = user_by_email(db.session, "alice@acme-health.test")
        soc2 = db.session.scalar(select(Report).where(Report.title.like("SOC 2%2025%")))
        client = app.test_client()
        headers = _bearer(alice)
        gated = client.get(f"/api/v1/reports/{soc2.id}/download", headers=headers)
        nda = gated.get_json()["error"]
        accepted = client.post(
            f"/api/v1/agreements/{nda['agreement_id']}/accept",
            headers=headers,
            json={"version": nda["version"], "typed_name": "Alice Acme", "scope": "account"},
        )
        assert accepted.status_code == 201, accepted.get_json()
        assert client.get(f"/api/v1/reports/{soc2.id}/download", headers=headers).status_code == 200
        found = {"dir": data, "alice_password": line.split()[1], "soc2": soc2.id}
    _close(app)
    return found


@pytest.fixture
def source(node: dict[str, Any], tmp_path: Path) -> Path:
    """A copy of the node's data directory of this test's own."""
    data = tmp_path / "node"
    shutil.copytree(node["dir"], data)
    return data


@pytest.fixture
def new_database(database_template: dict[str, Any]) -> Iterator[Callable[[], str]]:
    """New, empty PostgreSQL databases (not migrated), dropped afterwards."""
    admin = database_template["admin"]
    made: list[str] = []

    def make() -> str:
        name = f"{database_template['template'][:40]}_records_{uuid.uuid4().hex[:6]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return database_template["base"].set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def engine() -> Iterator[Callable[[str], Engine]]:
    made: list[Engine] = []

    def make(url: str) -> Engine:
        made.append(create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1)))
        return made[-1]

    yield make
    for one in made:
        one.dispose()


def _snapshot(engine: Engine) -> Snapshot:
    """Every row of every table, as the models' types read it, in key order."""
    with engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
            for t in tables()
        }


def _migrate(app: Flask, *args: str) -> Any:
    with app.app_context():
        return app.test_cli_runner().invoke(args=["migrate-store", *args])


def _table_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(
            text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        )


def test_the_records_move_to_postgres_and_the_app_serves_them(
    node: dict[str, Any], source: Path, new_database: Callable[[], str], engine: Any
) -> None:
    with sqlite3.connect(source / "artifact.db") as raw:  # JSON null and SQL NULL, both kept
        raw.execute(
            "UPDATE report_version SET pdf_warnings = 'null' WHERE report_id = ?", (node["soc2"],)
        )
        raw.execute(
            "UPDATE report_version SET pdf_warnings = NULL WHERE report_id <> ?", (node["soc2"],)
        )
    target_url = new_database()
    moved = _app(source, target_url, SEARCH_BACKEND="postgres")
    result = _migrate(moved, "--records-from")  # no value: the data directory's artifact.db
    assert result.exit_code == 0, result.output
    assert f"copying records from sqlite:///{source / 'artifact.db'}" in result.output
    assert "  user_account: 7 row(s) in the source, 7 in the target (7 copied now)" in result.output
    assert "  report_category: 4 row(s) in the source, 4 in the target (4 copied now)" in (
        result.output
    )
    assert "audit trail on the target: ok" in result.output
    assert "search: 0 record(s)" not in result.output

    was = _snapshot(engine(f"sqlite:///{source / 'artifact.db'}"))
    target = engine(target_url)
    now = _snapshot(target)
    trail = [t for t in tables() if t.name in APPEND_ONLY]
    for table in tables():  # every value, as the models read it on either side
        if table.name not in APPEND_ONLY:
            assert now[table.name] == was[table.name], table.name
    for table in trail:  # the trail goes on on the target: the migration's own events
        assert now[table.name][: len(was[table.name])] == was[table.name], table.name
    assert len(was["audit_checkpoint"]) >= 5
    with target.connect() as conn:
        warnings = conn.execute(
            text(
                "SELECT report_id = :soc2, pdf_warnings IS NULL, pdf_warnings::text "
                "FROM report_version"
            ),
            {"soc2": node["soc2"]},
        ).all()
    assert sorted(set(warnings)) == [(False, True, None), (True, False, "null")]
    assert len(was["download_receipt"]) == 1
    with moved.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.seq > len(was["audit_event"]))
        ).all()
        assert actions == ["records.migrate", "search.migrate"]
        alice = user_by_email(db.session, "alice@acme-health.test")
        assert alice.password_hash.startswith("$argon2")
        acceptance = db.session.scalars(
            select(Acceptance).where(Acceptance.user_id == alice.id)
        ).one()
        assert (acceptance.typed_name, acceptance.accepted_at.tzinfo) == ("Alice Acme", UTC)
        version = db.session.scalars(
            select(ReportVersion).where(ReportVersion.report_id == node["soc2"])
        ).one()
        assert len(version.sha256) == 64
        report = db.session.get(Report, node["soc2"])
        assert isinstance(report.frameworks, list)
    with sqlite3.connect(source / "artifact.db") as raw:
        stored = raw.execute(
            "SELECT sha256, created_at FROM report_version WHERE report_id = ?", (node["soc2"],)
        ).fetchone()
    assert version.sha256 == stored[0]
    assert version.created_at.isoformat(sep=" ").startswith(stored[1][:19])

    records_only = _app(source, target_url)
    before = _snapshot(target)
    again = _migrate(records_only, "--records-from", f"sqlite:///{source / 'artifact.db'}")
    assert again.exit_code == 0, again.output
    assert "records: 0 row(s) copied now" in again.output
    assert _snapshot(target) == before  # a finished run changes nothing
    _close(records_only)

    with moved.app_context():
        verified = moved.test_cli_runner().invoke(args=["audit", "verify"])
        assert verified.exit_code == 0, verified.output
        client = moved.test_client()
        signed_in = sign_in(client, "alice@acme-health.test", node["alice_password"])
        assert signed_in.status_code == 302
        headers = _bearer(user_by_email(db.session, "alice@acme-health.test"))
        hits = client.get("/api/v1/search", query_string={"q": "SOC 2"}, headers=headers)
        assert node["soc2"] in [hit["id"] for hit in hits.get_json()["hits"]]
        download = client.get(f"/api/v1/reports/{node['soc2']}/download", headers=headers)
        assert download.status_code == 200  # the acceptance came along: no 428
    with target.connect() as conn:  # the next key of a serial column follows the copied ones
        assert (
            conn.scalar(text("SELECT nextval(pg_get_serial_sequence('policy_generation', 'id'))"))
            == 2
        )
    _close(moved)

    records_only = _app(source, target_url)
    again = _migrate(records_only, "--records-from")
    assert "api_token: 1 row(s) that are not in the source" in again.output  # in use since
    assert again.exit_code == 1
    _close(records_only)


def test_an_interrupted_copy_goes_on_where_it_stopped(
    source: Path, new_database: Callable[[], str], engine: Any
) -> None:
    with sqlite3.connect(source / "artifact.db") as raw:  # a grant naming no report
        columns = [r[1] for r in raw.execute("PRAGMA table_info(report_grant)")]
        given = {"id": "'" + "f" * 32 + "'", "report_id": "'" + "0" * 32 + "'"}
        raw.execute(
            f"INSERT INTO report_grant ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(given.get(c, c) for c in columns)} FROM report_grant LIMIT 1"
        )
    target_url = new_database()
    app = _app(source, target_url)
    first = _migrate(app, "--records-from")
    assert first.exit_code == 1
    assert "report_grant could not be copied: insert or update on table" in first.output
    assert "The tables before it are copied; report_grant is not" in first.output
    target = engine(target_url)
    with target.connect() as conn:
        counts = {
            t.name: conn.scalar(select(func.count()).select_from(t))
            for t in tables()
            if t.name in ("report", "report_grant", "report_version")
        }
    assert counts == {"report": 8, "report_grant": 0, "report_version": 0}

    with sqlite3.connect(source / "artifact.db") as raw:  # corrected at the source
        raw.execute("DELETE FROM report_grant WHERE id = ?", ("f" * 32,))
    second = _migrate(app, "--records-from")
    assert second.exit_code == 0, second.output
    assert "  report: 8 row(s) in the source, 8 in the target (0 copied now)" in second.output
    assert "  report_grant: 2 row(s) in the source, 2 in the target (2 copied now)" in (
        second.output
    )
    assert "  report_version: 8 row(s) in the source, 8 in the target (8 copied now)" in (
        second.output
    )
    assert "audit trail on the target: ok" in second.output
    was = _snapshot(engine(f"sqlite:///{source / 'artifact.db'}"))
    now = _snapshot(target)
    assert {k: v for k, v in now.items() if k not in APPEND_ONLY} == {
        k: v for k, v in was.items() if k not in APPEND_ONLY
    }
    _close(app)


def test_a_target_with_other_records_is_refused_and_left_as_it_was(
    app: Flask, make_user: Callable[..., User], source: Path, engine: Any
) -> None:
    make_user("customer", org="Another Catalog")  # the fixture's database: another deployment
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    database = engine(url)
    before = _snapshot(database)
    other = _app(source, url)
    result = _migrate(other, "--records-from")
    assert result.exit_code == 1
    assert "holds other records than the source's" in result.output
    assert "nothing was written" in result.output
    assert "audit_event: " in result.output  # named, with the keys that differ
    assert _snapshot(database) == before
    _close(other)


def test_bad_sources_are_refused_and_nothing_is_written(
    source: Path, new_database: Callable[[], str], tmp_path: Path, engine: Any
) -> None:
    target_url = new_database()
    app = _app(source, target_url)
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_text("hello")
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    older = tmp_path / "older.db"
    shutil.copyfile(source / "artifact.db", older)
    with sqlite3.connect(older) as raw:
        raw.execute("UPDATE alembic_version SET version_num = 'e19a'")
    missing = tmp_path / "nowhere" / "artifact.db"
    (head,) = ScriptDirectory(str(PROJECT_ROOT / "migrations")).get_heads()
    cases = {
        "not a url": "is not a database URL",
        "postgresql://postgres@127.0.0.1/other": "not from postgresql",
        f"sqlite:///{missing}": f"there is no SQLite database at {missing}",
        "sqlite://": "names no database file",
        f"sqlite:///{not_a_db}": "cannot be read as an SQLite database: file is not a database",
        f"sqlite:///{empty}": "is not an Artifact database",
        f"sqlite:///{older}": f"is at revision e19a, not this version's {head}: upgrade the source "
        f"first with `ARTIFACT_DATABASE_URL=sqlite:///{older} flask --app app init`",
    }
    for given, message in cases.items():
        result = _migrate(app, "--records-from", given)
        assert result.exit_code == 1, given
        assert message in result.output, result.output
    assert not missing.parent.exists()  # nothing made where the path was wrong
    assert _table_count(engine(target_url)) == 0  # the target not even migrated
    _close(app)


def test_the_target_must_be_postgres(source: Path) -> None:
    app = _app(source)  # its own SQLite database
    result = _migrate(app, "--records-from")
    assert result.exit_code == 1
    assert "copied into the PostgreSQL database ARTIFACT_DATABASE_URL names" in result.output
    _close(app)
