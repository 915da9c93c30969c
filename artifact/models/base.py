"""Declarative base, column types and helpers shared by every model."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, Executable, MetaData, String
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, scoped_session
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """An opaque, unguessable identifier (what the API shows as ``id``)."""
    return uuid.uuid4().hex


def is_id(value: object) -> bool:
    """Whether ``value`` has the shape ``new_id`` gives ids. Anything else names no record and
    is not worth a query (nor safe in one: PostgreSQL refuses text holding NUL)."""
    return (
        isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value)
    )


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)


# What services take as their database: a plain Session, or Flask-SQLAlchemy's scoped one.
DbSession = Session | scoped_session[Any]


def read_row(db: DbSession, stmt: Executable, params: dict[str, Any] | None = None) -> Any:
    """The first row of a read, without the ORM's result machinery. Before the session's
    transaction has begun, it is read outside any transaction: one statement on an autocommit
    connection (SQLite: a plain SELECT, which begins none in pysqlite), where a transaction
    would add a BEGIN and a ROLLBACK (two more round trips to a PostgreSQL server for a page
    that reads nothing else). Inside one, on its connection (what it has read so far)."""
    session = db() if isinstance(db, scoped_session) else db
    bind = session.get_bind()
    if session.in_transaction() or not isinstance(bind, Engine):
        return db.connection().execute(stmt, params).first()
    conn = bind.connect()
    if bind.dialect.name != "sqlite":  # a SELECT begins no transaction in pysqlite
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
    with conn:
        return conn.execute(stmt, params).first()
