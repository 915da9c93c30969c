"""Language-aware search through the app, on both backends: an index written with another
analysis is refilled from the database at first use, and what `seed-demo` and `frameworks import`
write is found (ids as written, words by their stems) without `search reindex`."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from artifact.infra.search import Backend
from artifact.infra.search.language import FORMAT_NAME
from artifact.models import Report, User
from tests.fixtures_catalog import make_pdf


def test_an_index_of_an_older_format_is_rebuilt_at_first_use(
    app: Flask,
    make_report: Callable[..., Report],
    customer: User,
    search_api: Callable[..., Any],
    search_index: Backend,
) -> None:
    if search_index.name == "postgres":
        pytest.skip("the postgres index is rows of the database, of no file format")
    make_report("Rebuilt", visibility="public", pdf=make_pdf(pages=3, marker="capybaras"))
    assert search_api(customer, q="capybara")[1]["hits"][0]["pages"]  # stems meet
    app.extensions.pop("artifact_search").close()
    directory = Path(app.config["DATA_DIR"]) / "search" / search_index.name
    (directory / FORMAT_NAME).unlink()  # as an index written before formats were recorded
    _status, body = search_api(customer, q="capybara")
    assert body["total"] == 1
    assert sorted(body["hits"][0]["pages"]) == [1, 2, 3]
    assert not app.extensions["artifact_search"].emptied


def test_seed_demo_requirements_are_found_without_a_reindex(
    runner: Any, customer: User, search_api: Callable[..., Any], search_index: Backend
) -> None:
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    for text in ("CC6.1", "backup"):
        _status, body = search_api(customer, q=f"type:requirement {text}")
        assert body["total"] >= 1, text
    _status, body = search_api(customer, q="CC6.1 type:requirement")
    assert any(h["title"].startswith("soc2") and "CC6.1" in h["title"] for h in body["hits"])


def test_imported_requirement_ids_are_found_as_written_without_a_reindex(
    search_index: Backend,
    small_frameworks: None,
    customer: User,
    search_api: Callable[..., Any],
) -> None:
    _status, body = search_api(customer, q="A.8.5")
    assert [h["title"] for h in body["hits"]] == ["iso-sample:A.8.5 Secure authentication"]
    _status, body = search_api(customer, q="authenticating")  # the stem of "authentication"
    assert "iso-sample:A.8.5 Secure authentication" in [h["title"] for h in body["hits"]]


def test_search_status_compares_the_index_with_the_database(
    runner: Any, search_index: Backend, small_frameworks: None
) -> None:
    result = runner.invoke(args=["search", "status"])
    assert result.exit_code == 0, result.output
    assert f"backend {search_index.name}" in result.output
    assert re.search(r"^requirement +7 +7 +0$", result.output, re.MULTILINE)
    assert "in step" in result.output
    search_index.rebuild([])
    result = runner.invoke(args=["search", "status"])
    assert result.exit_code == 1
    assert re.search(r"^requirement +7 +0 +0  differs$", result.output, re.MULTILINE)
    assert "search reindex" in result.output
