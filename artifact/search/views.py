"""The search page (the box in every page's header leads here)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from markupsafe import Markup

from artifact import policy
from artifact.extensions import db
from artifact.infra.search.backend import FACETS
from artifact.kernel.errors import ValidationFailed
from artifact.search import indexer
from artifact.search import services as search_service
from artifact.search.kinds import KINDS
from artifact.search.services import SearchHit
from artifact.web.security import current_caller

bp = Blueprint("search", __name__)


def search_args() -> tuple[str, dict[str, str], str | None]:
    """The query, the facet filters and the page number from the query string."""
    filters = {name: request.args.get(name, "") for name in FACETS if request.args.get(name)}
    return request.args.get("q", ""), filters, request.args.get("page")


def hit_url(hit: SearchHit) -> str:
    """The page a hit links to, as its kind declares it (the search page if it has none)."""
    kind = KINDS.get(hit.type)
    if kind is None or hit.link_id is None:
        return url_for("search.index")
    values: dict[str, Any] = {kind.url_arg: hit.link_id}
    return url_for(kind.endpoint, **values)


def page_url(hit: SearchHit, page: int) -> str:
    """Where a page of a hit opens: the caller's stamped copy of that version at that page
    (hits name pages only to callers who may download the file now), else the record's
    page."""
    kind = KINDS.get(hit.type)
    if kind is None or kind.download is None or hit.link_id is None:
        return hit_url(hit)
    values: dict[str, Any] = {kind.url_arg: hit.link_id}
    if not hit.current and hit.version is not None:
        values["version"] = hit.version
    return url_for(kind.download, **values) + f"#page={page}"


@bp.get("/search")
def index() -> Any:
    """Results, facets and pages; a query we cannot read answers 400 with the reason.

    The results are rendered once per index state (``Backend.state``: a commit by any process
    changes it), caller scope, query, filters, page and policy generation, and kept: a search
    asked again (the few words a trust center's visitors type) runs none of it."""
    text, filters, page = search_args()
    caller = current_caller()
    backend = indexer.index(current_app, db.session)

    def results() -> Markup:
        found = search_service.search(
            db.session,
            caller,
            backend,
            text,
            filters,
            page,
            public_listing=current_app.config["PUBLIC_LISTING"],
        )
        return Markup(  # noqa: S704  (a template's output, escaped by Jinja)
            render_template(
                "search/_results.html",
                q=text,
                filters=filters,
                results=found,
                hit_url=hit_url,
                page_url=page_url,
            )
        )

    try:
        state = backend.state()
        if state is None:
            shown = results()
        else:
            name = repr(("search", state, text, sorted(filters.items()), page))
            shown = policy.remember_page(db.session, name, caller, results)
    except ValidationFailed as error:
        return render_template(
            "search/index.html", q=text, filters=filters, shown=None, error=error.message
        ), 400
    return render_template("search/index.html", q=text, filters=filters, shown=shown, error=None)
