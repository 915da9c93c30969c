"""Acceptance, termination and version rows are append-only: the database itself refuses
UPDATE and DELETE (raw SQL, bypassing the application), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from artifact.agreements.services import acceptance as agreements_accept
from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.models import Acceptance


@pytest.fixture
def ended_acceptance(nda, customer) -> Acceptance:
    kept = agreements_accept.accept(
        db.session,
        Caller.of_user(customer),
        nda.id,
        version=1,
        typed_name="Carla Customer",
        scope="account",
    )
    agreements_accept.terminate(db.session, Caller.of_user(customer), nda.id, scope="account")
    uow.commit(db.session)
    return kept


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE agreement_acceptance SET typed_name = 'Forged' WHERE id = :id",
        "UPDATE agreement_acceptance SET text_sha256 = 'x'",
        "DELETE FROM agreement_acceptance WHERE id = :id",
        "DELETE FROM agreement_acceptance",
        "UPDATE agreement_termination SET effective_at = accepted_at "
        "FROM agreement_acceptance WHERE agreement_acceptance.id = :id",
        "UPDATE agreement_termination SET reason = 'rewritten'",
        "DELETE FROM agreement_termination WHERE acceptance_id = :id",
        "UPDATE agreement_version SET text = 'another text'",
        "DELETE FROM agreement_version",
    ],
)
def test_database_refuses_changes(app, ended_acceptance: Acceptance, statement: str) -> None:
    acceptance_id = ended_acceptance.id
    with db.engine.connect() as conn:
        with pytest.raises(DatabaseError, match="append-only"):
            conn.execute(text(statement), {"id": acceptance_id})
        conn.rollback()
        kept = conn.execute(
            text("SELECT typed_name, text_sha256 FROM agreement_acceptance WHERE id = :id"),
            {"id": acceptance_id},
        ).one()
        ended = conn.execute(
            text("SELECT count(*) FROM agreement_termination WHERE acceptance_id = :id"),
            {"id": acceptance_id},
        ).scalar()
    assert kept.typed_name == "Carla Customer"
    assert kept.text_sha256 == ended_acceptance.text_sha256
    assert ended == 1


def test_orm_cannot_edit_an_acceptance_either(app, ended_acceptance: Acceptance) -> None:
    ended_acceptance.typed_name = "Forged"
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(Acceptance, ended_acceptance.id).typed_name == "Carla Customer"
