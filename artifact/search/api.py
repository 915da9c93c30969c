"""Search in the JSON API."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_login import current_user

from artifact.extensions import db
from artifact.infra.search import index_for
from artifact.search import services as search_service
from artifact.search.views import search_args
from artifact.web.api import api


@api.get("/search")
def search() -> dict[str, Any]:
    """Hits the caller may see, with facet counts over the same set."""
    text, filters, page = search_args()
    return search_service.search(db.session, current_user, index_for(current_app), text,
                                 filters, page).as_json()
