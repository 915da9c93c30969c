"""Download analytics over the API (staff)."""

from __future__ import annotations

from typing import Any

from flask import request

from artifact.analytics import services as analytics
from artifact.extensions import db
from artifact.web.access import require
from artifact.web.json_api import api
from artifact.web.security import current_caller


@api.get("/analytics/downloads")
@require("analytics.view")
def downloads() -> dict[str, Any]:
    """Downloads and acceptances per report, organisation or week between two days."""
    period = analytics.parse_period(request.args.get("from"), request.args.get("to"))
    group = analytics.parse_group(request.args.get("group"))
    rows = analytics.downloads_by(db.session, current_caller(), period, group)
    items = [
        {"key": r.key, "label": r.label, "downloads": r.downloads, "acceptances": r.acceptances}
        for r in rows
    ]
    return {"items": items, "total": len(items)}
