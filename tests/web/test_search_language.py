"""Language-aware search through the app: an index written with another analysis is refilled
from the database at first use, without `search reindex`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

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
    make_report("Rebuilt", visibility="public", pdf=make_pdf(pages=3, marker="capybaras"))
    assert search_api(customer, q="capybara")[1]["total"] == 3  # stems meet
    app.extensions.pop("artifact_search").close()
    directory = Path(app.config["DATA_DIR"]) / "search" / search_index.name
    (directory / FORMAT_NAME).unlink()  # as an index written before formats were recorded
    _status, body = search_api(customer, q="capybara")
    assert body["total"] == 3
    assert not app.extensions["artifact_search"].emptied
