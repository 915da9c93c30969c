"""Fixtures of search: the index on each backend (tests that take ``search_index`` run on
whoosh, tantivy and, in the PostgreSQL pass, postgres)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from artifact.infra.search import EMBEDDED, Backend, index_for, open_backend

ON_POSTGRES = os.environ.get("ARTIFACT_DATABASE_URL", "").startswith("postgresql")
NOT_POSTGRES = (
    "the postgres search backend keeps its index in the database: it runs in the PostgreSQL "
    "pass (ARTIFACT_DATABASE_URL=postgresql://...)"
)
BACKEND_PARAMS = [
    *EMBEDDED,
    pytest.param("postgres", marks=pytest.mark.skipif(not ON_POSTGRES, reason=NOT_POSTGRES)),
]


@pytest.fixture(params=BACKEND_PARAMS)
def search_index(app: Flask, request: pytest.FixtureRequest) -> Iterator[Backend]:
    """The app's index on each backend, chosen before anything is indexed."""
    old = app.extensions.pop("artifact_search", None)
    if old is not None:
        old.close()
    app.config["SEARCH_BACKEND"] = request.param
    yield index_for(app)
    opened = app.extensions.pop("artifact_search", None)
    if opened is not None:
        opened.close()


@pytest.fixture
def open_index(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Backend]]:
    """``open_index(name, directory=tmp_path)``: a backend of its own (postgres: on this
    test's database), closed after the test."""
    opened: list[Backend] = []

    def open_(name: str, directory: Path | None = None) -> Backend:
        url = request.getfixturevalue("database_url") if name == "postgres" else ""
        backend = open_backend(name, directory or tmp_path, url)
        opened.append(backend)
        return backend

    yield open_
    for backend in opened:
        backend.close()


@pytest.fixture
def search_api(client: FlaskClient, bearer: Callable[..., dict[str, str]]) -> Callable[..., Any]:
    """``search_api(user_or_None, q=..., **params)`` -> (status, JSON body)."""

    def run(user: Any, **params: Any) -> tuple[int, Any]:
        headers = bearer(user) if user is not None else {}
        response = client.get("/api/v1/search", query_string=params, headers=headers)
        return response.status_code, response.get_json()

    return run
