"""The landing page."""

from __future__ import annotations

from flask import Blueprint, render_template
from markupsafe import Markup

from artifact import policy
from artifact.catalog.services import reports
from artifact.catalog.services.validity import STATUS_LABELS, valid_until
from artifact.extensions import db
from artifact.models.base import utcnow
from artifact.web.security import current_caller

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> str:
    """The trust center's front page, with the catalog the caller may see. The list is the
    same for every caller of one scope (``policy.scope_key``) until the policy generation, the
    day (statuses) or a grant's expiry changes it: rendered once for them
    (``policy.remember_page``), as the regulation pages are."""
    caller = current_caller()
    today = utcnow().date()

    def listing() -> Markup:
        found = reports.list_reports(db.session, caller, today=today)
        return Markup(  # noqa: S704  (a template's output, escaped by Jinja)
            render_template(
                "main/_catalog_list.html",
                reports=found.reports,
                statuses=found.statuses,
                status_labels=STATUS_LABELS,
                valid_until=valid_until,
            )
        )

    catalog = policy.remember_page(db.session, f"home:{today.isoformat()}", caller, listing)
    return render_template("main/index.html", catalog=catalog)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """Liveness for load balancers."""
    return {"status": "ok"}, 200
