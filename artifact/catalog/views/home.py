"""The landing page."""

from __future__ import annotations

from flask import Blueprint, render_template

from artifact.catalog.services import reports
from artifact.catalog.services.validity import STATUS_LABELS, valid_until
from artifact.extensions import db
from artifact.web.security import current_caller

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> str:
    """The trust center's front page, with the catalog the caller may see."""
    found = reports.list_reports(db.session, current_caller())
    return render_template(
        "main/index.html",
        reports=found.reports,
        statuses=found.statuses,
        status_labels=STATUS_LABELS,
        valid_until=valid_until,
    )


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """Liveness for load balancers."""
    return {"status": "ok"}, 200
