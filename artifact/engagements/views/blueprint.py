"""The engagement pages' blueprint, shared by the engagement and request views."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, url_for

from artifact.kernel.errors import DomainError

bp = Blueprint("engagements", __name__, url_prefix="/engagements")


@bp.app_context_processor
def _engagement_count() -> dict[str, Any]:
    """``engagement_count()`` in any template: how many engagements the caller may open now
    (the header shows auditors the link only when they have one); counted only where asked."""
    from artifact.engagements.services import pages
    from artifact.extensions import db
    from artifact.web.security import current_caller

    def engagement_count() -> int:
        return pages.visible_count(db.session, current_caller())

    return {"engagement_count": engagement_count}


def back_to_engagement(engagement_id: str, anchor: str = "") -> Response:
    target = url_for("engagements.detail", engagement_id=engagement_id)
    return redirect(f"{target}#{anchor}" if anchor else target)  # type: ignore[return-value]


def back_to_request(engagement_id: str, request_id: str) -> Response:
    return redirect(  # type: ignore[return-value]
        url_for("engagements.request_page", engagement_id=engagement_id, request_id=request_id)
    )


def refused(what: str, error: DomainError) -> None:
    flash(f"{what}: {error.message}.", "error")
