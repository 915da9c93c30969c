"""Copying a single node's records from its SQLite database into PostgreSQL (``flask
migrate-store --records-from``).

Every table of the models' metadata is copied in foreign-key order, each in one transaction of
the target, in batches read from one read transaction of the source (a consistent snapshot,
streamed). Values go through the models' column types on both sides, so what SQLite keeps as
text (datetimes, dates, JSON) arrives typed; primary keys are kept as they are, and a JSON
column's SQL NULL stays distinct from JSON ``null``.

Resumable and idempotent: before anything is written, each source row is looked up in the
target by primary key. A row already there must be equal, column for column (else the target
holds another catalog, and nothing is written); rows not there are copied. A table cut short
by an interruption was rolled back, so a second run copies it whole; a finished run finds
every row in place and writes nothing. After copying, each table is compared again, and the
integer sequences are set past the highest key."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Engine,
    Integer,
    Table,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

import artifact.models  # noqa: F401 (every model: one metadata)
from artifact import policy
from artifact.kernel.caller import Caller
from artifact.kernel.errors import Conflict, ValidationFailed
from artifact.models.base import Base

BATCH = 1000
# Rows the migrations write themselves (r001's report categories, s004's policy generation): a
# target just migrated holds its own, which the source's replace.
MIGRATION_ROWS = ("policy_generation", "report_category", "report_series")
# The audit trail goes on on the target after the copy (this command's own events, then the
# nodes'): rows past the source's last are the target's continuation, not another catalog.
APPEND_ONLY = ("audit_event", "audit_checkpoint")
_SHOWN = 3  # keys named in a refusal, per table

Report = Callable[[str, str], None]


@dataclass
class TableCopy:
    name: str
    source: int = 0  # rows in the source
    target: int = 0  # rows in the target afterwards
    copied: int = 0  # copied by this run
    appended: int = 0  # rows of the target after the source's last (APPEND_ONLY tables)

    def line(self) -> str:
        later = f"; {self.appended} appended on the target since" if self.appended else ""
        return (
            f"{self.source} row(s) in the source, {self.target} in the target "
            f"({self.copied} copied now{later})"
        )


@dataclass
class RecordsCopy:
    tables: list[TableCopy] = field(default_factory=list)

    @property
    def copied(self) -> int:
        return sum(t.copied for t in self.tables)

    @property
    def rows(self) -> int:
        return sum(t.source for t in self.tables)


@dataclass
class _Comparison:
    source: int = 0
    target: int = 0
    equal: int = 0
    missing: int = 0
    appended: int = 0
    conflicts: list[str] = field(default_factory=list)  # keys of rows that differ
    differ: int = 0

    @property
    def foreign(self) -> int:
        """Target rows the source does not have (besides a trail's continuation)."""
        return self.target - self.equal - self.differ - self.appended


def tables() -> list[Table]:
    """Every table of the models, parents before children."""
    return list(Base.metadata.sorted_tables)


def open_source(url: str) -> Engine:
    """A read-only engine on the SQLite database ``url`` names, holding one read transaction
    per connection (BEGIN at the first statement). Raises ValidationFailed for anything else."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise ValidationFailed(
            f"{url!r} is not a database URL: give the SQLite file as sqlite:////absolute/path"
            "/artifact.db"
        ) from error
    if parsed.get_backend_name() != "sqlite":
        raise ValidationFailed(
            f"the records are copied from an SQLite database (sqlite:////path/artifact.db), "
            f"not from {parsed.get_backend_name()}; move a PostgreSQL database with flask "
            "backup and flask restore"
        )
    if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
        raise ValidationFailed(f"{url!r} names no database file (sqlite:////path/artifact.db)")
    path = Path(parsed.database).resolve()
    if not path.is_file():
        raise ValidationFailed(f"there is no SQLite database at {path}")

    def connect() -> sqlite3.Connection:
        # Read-only: the source is never written, nor created where a path is wrong.
        return sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=30)

    engine = create_engine("sqlite://", creator=connect)

    @event.listens_for(engine, "connect")
    def _manual(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # pysqlite would not BEGIN before reads

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")  # one snapshot for the whole copy

    return engine


def source_revisions(source: Engine) -> list[str]:
    """The Alembic revisions of the source. Raises ValidationFailed when it is no SQLite
    database or no Artifact database."""
    try:
        with source.connect() as conn:
            return sorted(conn.scalars(text("SELECT version_num FROM alembic_version")))
    except DBAPIError as error:
        orig = error.orig
        if isinstance(orig, sqlite3.OperationalError) and "no such table" in str(orig):
            raise ValidationFailed(
                "the SQLite database is not an Artifact database (it has no alembic_version table)"
            ) from error
        raise ValidationFailed(
            f"the source cannot be read as an SQLite database: {orig}"
        ) from error


def copy_records(
    caller: Caller,
    source: Engine,
    target: Engine,
    *,
    batch_size: int = BATCH,
    report: Report | None = None,
) -> RecordsCopy:
    """Copy every table's rows from ``source`` to ``target`` (both at the same schema) and
    compare them afterwards; ``report`` hears (table, what happened). Raises PermissionDenied;
    Conflict when the target holds other records (nothing is written then); ValidationFailed
    when a table cannot be copied (the tables before it are, that one is not)."""
    # Copying every record, keys and trail included, is the operator's alone.
    policy.require(caller, "records.migrate")
    say = report or (lambda _table, _what: None)
    result = RecordsCopy()
    with source.connect() as src, target.connect() as tgt:
        replaced = _replace_migration_rows(src, tgt, batch_size)
        found = {t.name: _compare(src, tgt, t, batch_size) for t in tables()}
        tgt.rollback()
        _refuse_foreign(found)
        for table in tables():
            before = found[table.name]
            copied = _copy_table(src, tgt, table, before, batch_size, say) if before.missing else 0
            after = _compare(src, tgt, table, batch_size) if copied else before
            copied += replaced.get(table.name, 0)
            tgt.rollback()
            if after.missing or after.differ or after.foreign:
                raise ValidationFailed(
                    f"{table.name} does not hold the source's rows after copying "
                    f"({after.missing} missing, {after.differ} different): run this again"
                )
            entry = TableCopy(table.name, after.source, after.target, copied, after.appended)
            result.tables.append(entry)
            say(table.name, entry.line())
        _reset_sequences(tgt)
    return result


def _pk(table: Table) -> Column[Any]:
    (column,) = table.primary_key.columns  # every model has a one-column key
    return column


def _json_columns(table: Table) -> list[Column[Any]]:
    return [c for c in table.columns if isinstance(c.type, JSON)]


def _read(table: Table) -> Any:
    """Every column, and for a JSON column whether it is SQL NULL (JSON ``null`` reads as None
    too)."""
    flags = [c.is_(None).label(f"sql_null_{c.name}") for c in _json_columns(table)]
    return select(*table.columns, *flags)


def _stream(conn: Connection, table: Table, size: int) -> Iterator[Sequence[Any]]:
    stmt = _read(table).order_by(_pk(table)).execution_options(yield_per=size)
    result = conn.execute(stmt)
    try:
        yield from result.partitions(size)
    finally:
        result.close()


def _fetch(conn: Connection, table: Table, keys: list[Any]) -> dict[Any, tuple[Any, ...]]:
    """The target's rows with these keys (and, for an integer key, the others between them:
    one range scan where the order is the same on both sides)."""
    pk = _pk(table)
    if isinstance(pk.type, Integer):
        rows = conn.execute(_read(table).where(pk.between(min(keys), max(keys))))
    else:  # text keys: PostgreSQL's collation need not sort them as SQLite does
        rows = conn.execute(_read(table).where(pk.in_(keys)))
    return {row._mapping[pk.name]: tuple(row) for row in rows}


def _compare(src: Connection, tgt: Connection, table: Table, size: int) -> _Comparison:
    pk = _pk(table)
    found = _Comparison(target=tgt.scalar(select(func.count()).select_from(table)) or 0)
    last = None
    for rows in _stream(src, table, size):
        found.source += len(rows)
        last = rows[-1]._mapping[pk.name]
        if not found.target:
            found.missing += len(rows)
            continue
        there = _fetch(tgt, table, [row._mapping[pk.name] for row in rows])
        for row in rows:
            key = row._mapping[pk.name]
            other = there.get(key)
            if other is None:
                found.missing += 1
            elif other == tuple(row):
                found.equal += 1
            else:
                found.differ += 1
                if len(found.conflicts) < _SHOWN:
                    found.conflicts.append(str(key))
    if table.name in APPEND_ONLY and found.target:
        after = select(func.count()).select_from(table)
        if last is not None:
            after = after.where(pk > last)
        found.appended = tgt.scalar(after) or 0
    return found


def _refuse_foreign(found: dict[str, _Comparison]) -> None:
    problems = []
    for name, seen in found.items():
        if seen.differ:
            problems.append(
                f"{name}: {seen.differ} row(s) differ from the source's with the same key "
                f"(e.g. {', '.join(seen.conflicts)})"
            )
        if seen.foreign:
            problems.append(f"{name}: {seen.foreign} row(s) that are not in the source")
    if problems:
        raise Conflict(
            "the target database holds other records than the source's, and copying would "
            "mix two catalogs; nothing was written. Copy into a new, empty database "
            "(CREATE DATABASE ...), or run without --records-from if the records were moved "
            "already and the target has been in use since. " + "; ".join(problems)
        )


def _replace_migration_rows(src: Connection, tgt: Connection, size: int) -> dict[str, int]:
    """A target the migrations just made (nothing but their own rows, the policy generation
    never bumped) gets the source's rows in place of theirs, in one transaction; how many rows
    of each table were copied."""
    seeded = [Base.metadata.tables[name] for name in MIGRATION_ROWS]
    copied = dict.fromkeys(MIGRATION_ROWS, 0)
    try:
        for table in tables():
            if table.name not in MIGRATION_ROWS and tgt.scalar(
                select(1).select_from(table).limit(1)
            ):
                return {}  # records are being (or were) copied: the general rules apply
        generation = Base.metadata.tables["policy_generation"]
        if tgt.scalar(select(func.count()).select_from(generation).where(generation.c.value != 0)):
            return {}
        if all(
            not (seen.missing or seen.differ or seen.foreign)
            for seen in (_compare(src, tgt, t, size) for t in seeded)
        ):
            return {}
        for table in reversed(seeded):
            tgt.execute(delete(table))
        for table in seeded:
            for rows in _stream(src, table, size):
                tgt.execute(_insert(table), [_values(table, row) for row in rows])
                copied[table.name] += len(rows)
        tgt.commit()
    finally:
        tgt.rollback()
    return copied


def _insert(table: Table) -> Any:
    json = {c.name for c in _json_columns(table)}
    return insert(table).values(
        {
            c.name: bindparam(
                f"v_{c.name}", type_=JSON(none_as_null=True) if c.name in json else c.type
            )
            for c in table.columns
        }
    )


def _values(table: Table, row: Any, nulled: Sequence[str] = ()) -> dict[str, Any]:
    mapping = row._mapping
    values: dict[str, Any] = {}
    for column in table.columns:
        value = mapping[column.name]
        if isinstance(column.type, JSON) and not mapping[f"sql_null_{column.name}"]:
            value = JSON.NULL if value is None else value  # JSON null stays JSON null
        values[f"v_{column.name}"] = None if column.name in nulled else value
    return values


def _self_references(table: Table) -> list[str]:
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]


def _copy_table(
    src: Connection,
    tgt: Connection,
    table: Table,
    before: _Comparison,
    size: int,
    say: Report,
) -> int:
    """Insert the source's rows the target lacks, in one transaction. A column naming a row of
    the same table is filled in a second pass, once every row is there."""
    pk = _pk(table)
    own = _self_references(table)
    later: list[dict[str, Any]] = []
    copied = 0
    try:
        for number, rows in enumerate(_stream(src, table, size), start=1):
            if before.target:
                there = set(_fetch(tgt, table, [r._mapping[pk.name] for r in rows]))
                rows = [r for r in rows if r._mapping[pk.name] not in there]
            if rows:
                tgt.execute(_insert(table), [_values(table, row, own) for row in rows])
            later.extend(
                {"k": row._mapping[pk.name], **{f"v_{c}": row._mapping[c] for c in own}}
                for row in rows
                if any(row._mapping[c] is not None for c in own)
            )
            copied += len(rows)
            if number % 100 == 0:
                say(table.name, f"{copied} row(s) so far")
        for name in own:
            pairs = [p for p in later if p[f"v_{name}"] is not None]
            if pairs:
                stmt = (
                    update(table).where(pk == bindparam("k")).values({name: bindparam(f"v_{name}")})
                )
                tgt.execute(stmt, pairs)
        tgt.commit()
    except DBAPIError as error:
        tgt.rollback()
        raise ValidationFailed(
            f"{table.name} could not be copied: {_reason(error)}. The tables before it are "
            f"copied; {table.name} is not (its transaction was rolled back): correct the "
            "source and run this again to go on"
        ) from error
    return copied


def _reason(error: DBAPIError) -> str:
    diag = getattr(error.orig, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if primary:
        detail = getattr(diag, "message_detail", None)
        return f"{primary} ({detail})" if detail else str(primary)
    return str(error.orig).strip().splitlines()[0]


def _reset_sequences(tgt: Connection) -> None:
    """Integer keys drawn from a sequence continue after the highest copied one."""
    quoted = tgt.dialect.identifier_preparer.quote
    for table in tables():
        for column in table.columns:
            if not isinstance(column.type, Integer):
                continue
            sequence = tgt.scalar(
                text("SELECT pg_get_serial_sequence(:t, :c)"),
                {"t": quoted(table.name), "c": column.name},
            )
            if sequence is None:
                continue
            tgt.execute(
                text(
                    f"SELECT setval(CAST(:s AS regclass), COALESCE(MAX({quoted(column.name)}), 1), "  # noqa: S608
                    f"MAX({quoted(column.name)}) IS NOT NULL) FROM {quoted(table.name)}"
                ),
                {"s": sequence},
            )
    tgt.commit()
