"""Search in the JSON API."""

from __future__ import annotations

from typing import Any

from flask import current_app

from artifact.extensions import db
from artifact.kernel.errors import ValidationFailed
from artifact.search import indexer
from artifact.search import services as search_service
from artifact.search.views import search_args
from artifact.web.json_api import api
from artifact.web.security import current_caller


@api.get("/search")
def search() -> dict[str, Any]:
    """Hits the caller may see, with facet counts over the same set."""
    text, filters, page = search_args()
    if page == "":  # the search page reads it as the first; to a program it is no number
        raise ValidationFailed("The page must be a number.")
    return search_service.search(
        db.session,
        current_caller(),
        indexer.index(current_app, db.session),
        text,
        filters,
        page,
        public_listing=current_app.config["PUBLIC_LISTING"],
    ).as_json()
