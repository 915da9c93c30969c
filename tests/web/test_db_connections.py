"""Pooled database connections: a connection the server dropped while it sat idle in the pool
is replaced before a request uses it (checked only after it has been idle: infra.dbping), and
a signed-in page's session check reads outside any transaction."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from artifact import create_app
from artifact.extensions import db
from artifact.infra.storage import store_for
from artifact.models import User
from tests.conftest import IsolatedClient, _postgres_url

pytestmark = pytest.mark.skipif(
    _postgres_url() is None,
    reason="a SQLite file does not drop its connections: runs in the PostgreSQL pass",
)


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "ARTIFACT_ENV": "testing",
            "DATA_DIR": str(tmp_path / "data"),
            "SQLALCHEMY_DATABASE_URI": database_url,
            "DB_PING_IDLE_SECONDS": 0.2,
        }
    )
    app.test_client_class = IsolatedClient
    store_for(app).keyring.create()
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _backend_pids() -> set[int]:
    """The server processes behind the pool's connections (each is idle in the pool)."""
    with db.engine.connect() as conn:
        mine = conn.scalar(text("SELECT pg_backend_pid()"))
        others = conn.scalars(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
        ).all()
    return {int(mine), *(int(pid) for pid in others)}


def _states_of_connections_that_ran(table: str) -> list[Any]:
    """(state, last statement) of the other connections whose last statement names ``table``,
    seen by the server from a connection outside the pool."""
    outside = create_engine(db.engine.url, poolclass=NullPool)
    with outside.connect() as conn:
        states = conn.execute(
            text(
                "SELECT state, query FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND query LIKE :pattern"
            ),
            {"pattern": f"%{table}%"},
        ).all()
    outside.dispose()
    return list(states)


def test_a_connection_dropped_while_idle_is_replaced_before_the_next_page(
    app: Flask, make_user: Callable[..., User], login_as: Callable[..., Any]
) -> None:
    client = login_as(make_user("customer", org="Acme Health"))
    assert client.get("/catalog/").status_code == 200
    db.session.remove()
    # The server ends every connection of the pool (a restart, a failover, an idle timeout).
    victims = _backend_pids()
    outside = create_engine(db.engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with outside.connect() as admin:
        for pid in victims:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    outside.dispose()
    time.sleep(0.4)  # idle longer than DB_PING_IDLE_SECONDS

    response = client.get("/catalog/")
    assert response.status_code == 200
    assert "Sign out" in response.get_data(as_text=True)  # still signed in
    assert victims.isdisjoint(_backend_pids())


def test_the_session_check_reads_outside_a_transaction(
    app: Flask, make_user: Callable[..., User]
) -> None:
    from datetime import timedelta

    from artifact.identity.services import sessions

    user = make_user("customer", org="Acme Health")
    row, secret = sessions.start(db.session, user, "127.0.0.1", "pytest")
    row_id, user_id = row.id, user.id
    db.session.commit()
    db.session.remove()

    def check() -> sessions.Resolved | None:
        return sessions.resolve(
            db.session,
            secret,
            idle=timedelta(minutes=30),
            absolute=timedelta(hours=12),
            touch_after=timedelta(minutes=1),
        )

    with app.test_request_context("/"):
        check()  # the first request of this policy generation loads the user
        db.session.rollback()
    with app.test_request_context("/"):
        found = check()  # a later one: the session check alone
        assert found is not None
        assert found.id == row_id
        assert found.user.id == user_id
        assert not found.second_factor
        # One statement, no transaction: the connection went back to the pool idle (not "idle
        # in transaction", no ROLLBACK sent after it), its last statement the session check.
        states = _states_of_connections_that_ran("user_session")
        assert states, "no connection ran the session check"
        assert all(state == "idle" for state, _query in states)
        assert all(query.lstrip().upper().startswith("SELECT") for _state, query in states)


def test_the_policy_generation_is_read_outside_a_transaction_before_one_begins(
    app: Flask,
) -> None:
    """A visitor's page whose answers are kept reads the policy generation and nothing else:
    one statement on a connection left idle (no BEGIN, no ROLLBACK); once the request's
    transaction has begun, the generation is read inside it."""
    from artifact.models import generation

    db.session.remove()
    with app.test_request_context("/"):
        first = generation.read(db.session)
        assert not db.session().in_transaction()
        states = _states_of_connections_that_ran("policy_generation")
        assert states, "no connection read the generation"
        assert all(state == "idle" for state, _query in states)
        assert generation.read(db.session) == first  # remembered: no second statement
        db.session.rollback()
    with app.test_request_context("/"):
        db.session.connection()  # the request's transaction has begun
        assert generation.read(db.session) == first
        assert db.session().in_transaction()
        db.session.rollback()
