"""Full-text search: one interface (``Backend``), two embedded backends (whoosh, the default,
and tantivy, whose index lives in the data directory) and one in the database (postgres, for
several app servers), chosen by ``ARTIFACT_SEARCH_BACKEND``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from artifact.infra.app_state import AppState
from artifact.infra.search.backend import Backend, Entry, Hit, ResultPage, Scope

__all__ = [
    "BACKENDS",
    "EMBEDDED",
    "Backend",
    "Entry",
    "Hit",
    "ResultPage",
    "Scope",
    "index_for",
    "open_backend",
]

EMBEDDED = ("whoosh", "tantivy")
BACKENDS = (*EMBEDDED, "postgres")
_creating = threading.Lock()


def open_backend(
    name: str,
    directory: Path,
    database_url: str = "",
    connection: Callable[[], Any] | None = None,
) -> Backend:
    """``directory``: an embedded backend's index; ``database_url``: postgres's database, and
    ``connection`` the caller's connection to it, if any (see ``PostgresBackend``)."""
    if name == "postgres":
        from artifact.infra.search.postgres_backend import PostgresBackend

        return PostgresBackend(database_url, connection)
    if name == "tantivy":
        from artifact.infra.search.tantivy_backend import TantivyBackend

        return TantivyBackend(directory)
    if name == "whoosh":
        from artifact.infra.search.whoosh_backend import WhooshBackend

        return WhooshBackend(directory)
    raise ValueError(f"unknown search backend {name!r}")


def index_for(app: AppState) -> Backend:
    """The app's index (one per app and process)."""
    backend: Backend | None = app.extensions.get("artifact_search")
    if backend is None:
        with _creating:
            backend = app.extensions.get("artifact_search")
            if backend is None:
                name = app.config["SEARCH_BACKEND"]
                backend = open_backend(
                    name,
                    Path(app.config["DATA_DIR"]) / "search" / name,
                    str(app.config["SQLALCHEMY_DATABASE_URI"]),
                    app.extensions.get("artifact_search_connection"),
                )
                app.extensions["artifact_search"] = backend
    return backend
