"""``/feed.atom``: the public catalog's changes as an Atom 1.0 feed (anyone)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, render_template, request, url_for

from artifact.catalog.services import feed
from artifact.extensions import db

bp = Blueprint("feed", __name__)
FEED_TITLE = "Artifact trust center"
# Before any report was published: a fixed, stable time for an empty feed.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _absolute(endpoint: str, **values: Any) -> str:
    """Absolute links from ARTIFACT_BASE_URL (required in production), never the Host header
    when it is set."""
    base = current_app.config.get("BASE_URL")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def _atom_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.get("/feed.atom")
def atom() -> Response:
    """New reports, new versions and status changes of public reports, newest first."""
    entries = feed.entries(db.session)
    catalog_url = _absolute("catalog.index")
    authority = urlsplit(catalog_url).hostname or "localhost"

    def entry_id(entry: feed.Entry) -> str:
        # RFC 4151 tag URIs: stable for as long as the report and what happened are.
        return f"tag:{authority},2026:{entry.key}"

    updated = max((e.updated for e in entries), default=EPOCH)
    body = render_template(
        "feed/atom.xml",
        entries=entries,
        title=FEED_TITLE,
        feed_id=f"tag:{authority},2026:catalog",
        updated=updated,
        self_url=_absolute("feed.atom"),
        catalog_url=catalog_url,
        entry_id=entry_id,
        report_url=lambda report_id: _absolute("catalog.detail", report_id=report_id),
    )
    response = Response(body, content_type="application/atom+xml; charset=utf-8")
    response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
    response.last_modified = updated
    response.headers["Cache-Control"] = "public, max-age=300"
    response.make_conditional(request)  # 304 and no body when the ETag or date still match
    return response


@bp.app_template_filter("atom_time")
def atom_time_filter(value: datetime) -> str:
    return _atom_time(value)
