"""Full-text search: one interface (``Backend``), two embedded backends (whoosh, the default,
and tantivy), chosen by ``ARTIFACT_SEARCH_BACKEND``; the index lives in the data directory."""

from __future__ import annotations

import threading
from pathlib import Path

from artifact.infra.app_state import AppState
from artifact.infra.search.backend import Backend, Entry, Hit, ResultPage, Scope

__all__ = [
    "BACKENDS",
    "Backend",
    "Entry",
    "Hit",
    "ResultPage",
    "Scope",
    "index_for",
    "open_backend",
]

BACKENDS = ("whoosh", "tantivy")
_creating = threading.Lock()


def open_backend(name: str, directory: Path) -> Backend:
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
                backend = open_backend(name, Path(app.config["DATA_DIR"]) / "search" / name)
                app.extensions["artifact_search"] = backend
    return backend
