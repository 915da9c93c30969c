"""Backup and restore on PostgreSQL (pg_dump/pg_restore); runs when the suite runs on it."""

from __future__ import annotations

import json
import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from artifact.models import User
from tests.fixtures_backup import run_cli


@pytest.fixture
def empty_database(database_template: dict[str, Any]) -> Iterator[str]:
    if database_template["kind"] != "postgresql":
        pytest.skip("PostgreSQL backups are tested when ARTIFACT_DATABASE_URL names PostgreSQL")
    name = f"{database_template['template'][:40]}_restore_{uuid.uuid4().hex[:6]}"
    admin = database_template["admin"]
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield database_template["base"].set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_postgresql_backup_restores_into_an_empty_database(
    app: Flask, make_user: Callable[..., User], empty_database: str, tmp_path: Path
) -> None:
    user = make_user("customer", org="Acme Health")
    data_dir = Path(app.config["DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "keyring.json").write_text("{}")
    archive = tmp_path / "pg.tar.gz"
    source = app.config["SQLALCHEMY_DATABASE_URI"]
    result = run_cli(data_dir, "backup", str(archive), SQLALCHEMY_DATABASE_URI=source)
    assert result.exit_code == 0, result.output
    with tarfile.open(archive) as tar:
        handle = tar.extractfile("manifest.json")
        assert handle is not None
        manifest = json.loads(handle.read())
    assert manifest["database"]["kind"] == "postgresql"
    assert manifest["database"]["file"] == "database/artifact.pgdump"

    target = tmp_path / "restored"
    result = run_cli(
        tmp_path / "operator",
        "restore",
        str(archive),
        "--data-dir",
        str(target),
        SQLALCHEMY_DATABASE_URI=empty_database,
    )
    assert result.exit_code == 0, result.output
    assert (target / "keyring.json").read_text() == "{}"
    engine = create_engine(empty_database.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            emails = list(conn.scalars(text("SELECT email FROM user_account")))
    finally:
        engine.dispose()
    assert emails == [user.email]

    again = run_cli(
        tmp_path / "operator",
        "restore",
        str(archive),
        "--data-dir",
        str(tmp_path / "again"),
        SQLALCHEMY_DATABASE_URI=empty_database,
    )
    assert again.exit_code == 1
    assert "is not empty" in again.output
