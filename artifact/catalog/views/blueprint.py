"""The catalog pages' blueprint, shared by the browsing and the staff views."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

bp = Blueprint("catalog", __name__, url_prefix="/catalog")


@bp.app_context_processor
def _pending_requests() -> dict[str, Any]:
    """``pending_requests()`` in any template: the number of access requests waiting for a
    decision, for whoever may decide them (0 otherwise); counted only where a page asks."""
    from artifact.catalog.services import grants
    from artifact.extensions import db
    from artifact.web.security import current_caller

    def pending_requests() -> int:
        return grants.pending_count(db.session, current_caller())

    return {"pending_requests": pending_requests}
