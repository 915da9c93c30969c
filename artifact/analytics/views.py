"""The analytics page (staff): counts, a chart, CSV export."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response

from artifact.analytics import services as analytics
from artifact.analytics.chart import bar_chart
from artifact.extensions import db
from artifact.kernel.errors import ValidationFailed
from artifact.models.base import utcnow
from artifact.web.access import require
from artifact.web.files import CSV, file_response
from artifact.web.security import current_caller

bp = Blueprint("analytics", __name__, url_prefix="/analytics")


def _quarter_start(today: date) -> date:
    return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)


def _arguments() -> dict[str, str]:
    """The query as sent; with none at all, this quarter by report."""
    if not any(request.args.get(k) for k in ("from", "to", "group")):
        today = utcnow().date()
        return {
            "from": _quarter_start(today).isoformat(),
            "to": today.isoformat(),
            "group": "report",
        }
    return {k: request.args.get(k, "") for k in ("from", "to", "group")}


@bp.get("/")
@require("analytics.view")
def index() -> Any:
    """Downloads and acceptances by report, organisation or week."""
    args = _arguments()
    try:
        period = analytics.parse_period(args["from"], args["to"])
        group = analytics.parse_group(args["group"] or "report")
        rows = analytics.downloads_by(db.session, current_caller(), period, group)
    except ValidationFailed as error:
        return render_template(
            "analytics/index.html",
            args=args,
            error=error.message,
            rows=[],
            chart=None,
            groups=analytics.GROUP_TITLES,
        ), 400
    span = " to ".join(d.isoformat() for d in (period.start, period.end) if d) or "all time"
    title = f"Downloads and acceptances by {analytics.GROUP_TITLES[group].lower()}, {span}"
    description = (
        "; ".join(
            f"{r.label}: {r.downloads} downloads, {r.acceptances} acceptances" for r in rows[:60]
        )
        or "No downloads or acceptances in this period."
    )
    return render_template(
        "analytics/index.html",
        args=args,
        error=None,
        rows=rows,
        group=group,
        title=title,
        chart=bar_chart(rows, title, description) if rows else None,
        totals=(sum(r.downloads for r in rows), sum(r.acceptances for r in rows)),
        groups=analytics.GROUP_TITLES,
    )


@bp.get("/downloads.csv")
@require("analytics.view")
def export() -> Response:
    """The same counts as CSV."""
    args = _arguments()
    period = analytics.parse_period(args["from"], args["to"])
    data, filename = analytics.export_csv(
        db.session, current_caller(), period, analytics.parse_group(args["group"] or "report")
    )
    return file_response(data.encode("utf-8"), filename=filename, content_type=CSV)
