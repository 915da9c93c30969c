"""The landing page."""

from __future__ import annotations

from flask import Blueprint, render_template

from artifact.catalog.services import reports
from artifact.extensions import db
from artifact.models.base import utcnow
from artifact.web.security import current_caller

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> str:
    """The trust center's front page, with the catalog the caller may see."""
    return render_template(
        "main/index.html",
        today=utcnow().date(),
        reports=reports.list_reports(db.session, current_caller()),
    )


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """Liveness for load balancers."""
    return {"status": "ok"}, 200
