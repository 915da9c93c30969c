"""Fixtures of search: the index on each backend (tests that take ``search_index`` run twice)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from artifact.infra.search import BACKENDS, Backend, index_for


@pytest.fixture(params=BACKENDS)
def search_index(app: Flask, request: pytest.FixtureRequest) -> Backend:
    """The app's index on ``whoosh`` and on ``tantivy``, chosen before anything is indexed."""
    old = app.extensions.pop("artifact_search", None)
    if old is not None:
        old.close()
    app.config["SEARCH_BACKEND"] = request.param
    return index_for(app)


@pytest.fixture
def search_api(client: FlaskClient, bearer: Callable[..., dict[str, str]]) -> Callable[..., Any]:
    """``search_api(user_or_None, q=..., **params)`` -> (status, JSON body)."""

    def run(user: Any, **params: Any) -> tuple[int, Any]:
        headers = bearer(user) if user is not None else {}
        response = client.get("/api/v1/search", query_string=params, headers=headers)
        return response.status_code, response.get_json()

    return run
