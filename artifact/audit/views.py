"""The audit trail for administrators: filters, CSV export, verification."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, render_template, request

from artifact.audit.filters import event_filter, int_arg
from artifact.audit.services import trail as audit_trail
from artifact.extensions import db
from artifact.web.access import require
from artifact.web.files import CSV, file_response
from artifact.web.security import current_caller

bp = Blueprint("admin_audit", __name__, url_prefix="/admin/audit")
PAGE = 100


@bp.get("/")
@require("audit.view")
def index() -> str:
    """Events, newest first, filtered by actor, action, target and time."""
    page = max(1, int_arg("page", 1))
    events, total = audit_trail.list_events(
        db.session, current_caller(), event_filter(), limit=PAGE, offset=(page - 1) * PAGE
    )
    verification = None
    if request.args.get("verify"):
        verification = audit_trail.verify(
            db.session,
            current_caller(),
            current_app.config["DATA_DIR"],
            current_app.config["AUDIT_WITNESS"],
        )
    args = {k: v for k, v in request.args.items() if k not in ("page", "verify")}
    return render_template(
        "admin_audit/index.html",
        events=events,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE)),
        args=args,
        verification=verification,
    )


@bp.get("/events.csv")
@require("audit.export")
def export_csv() -> Response:
    """The filtered trail as CSV (formula-safe cells)."""
    rows = audit_trail.export_csv(db.session, current_caller(), event_filter())
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    # Built in memory (not streamed): the rows are read inside this request's context.
    return file_response("".join(rows).encode(), filename=f"audit-{stamp}.csv", content_type=CSV)
