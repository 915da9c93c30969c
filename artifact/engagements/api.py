"""Audit engagements in the JSON API: engagements (staff create and close them; auditors read
theirs while open), the evidence and coverage in scope, and the request list (PBC)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from werkzeug.wrappers import Response

from artifact.engagements import services as engagements
from artifact.extensions import db
from artifact.infra.storage import store_for
from artifact.kernel.errors import ValidationFailed
from artifact.models.base import utcnow
from artifact.web.access import require_per_object
from artifact.web.files import file_response
from artifact.web.json_api import api
from artifact.web.ratelimit import download_budget
from artifact.web.security import current_caller

_BASE = "/engagements/<engagement_id>"
_REQUEST = _BASE + "/requests/<request_id>"


def _body(*, lists: tuple[str, ...] = (), numbers: tuple[str, ...] = ()) -> dict[str, Any]:
    """The JSON object sent, its members of the JSON types the OpenAPI document names (the
    services also take the looser shapes of a form or a CSV row: a comma-separated string for
    a list, a number as text, an empty string for none)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("send a JSON object")
    for name in lists:
        if name in body and not isinstance(body[name], list):
            raise ValidationFailed(f"{name} must be a list")
    for name in numbers:
        value = body.get(name)
        if name in body and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValidationFailed(f"{name} must be a whole number")
    return body


@api.get("/engagements")
@require_per_object("engagement.list")
def list_engagements() -> dict[str, Any]:
    """Staff: every engagement; auditors: those they are on, while open."""
    today = utcnow().date()
    found = engagements.list_engagements(db.session, current_caller())
    items = [engagements.engagement_json(e, today) for e in found]
    return {"items": items, "total": len(items)}


@api.post("/engagements")
@require_per_object("engagement.create")
def create_engagement() -> tuple[dict[str, Any], int]:
    """A new engagement (staff)."""
    body = _body(lists=("auditors", "requirements"))
    created = engagements.create_engagement(db.session, current_caller(), body)
    return engagements.engagement_json(created, utcnow().date()), 201


@api.get(_BASE)
@require_per_object("engagement.view")
def get_engagement(engagement_id: str) -> dict[str, Any]:
    """One engagement (recorded as a view)."""
    found = engagements.get_engagement(db.session, current_caller(), engagement_id, record=True)
    return engagements.engagement_json(found, utcnow().date())


@api.post(_BASE + "/close")
@require_per_object("engagement.close")
def close_engagement(engagement_id: str) -> dict[str, Any]:
    """Close it: its auditors lose access at once (staff)."""
    closed = engagements.close_engagement(db.session, current_caller(), engagement_id)
    return engagements.engagement_json(closed, utcnow().date())


@api.get(_BASE + "/evidence")
@require_per_object("engagement.evidence")
def list_engagement_evidence(engagement_id: str) -> dict[str, Any]:
    """The evidence in scope."""
    caller = current_caller()
    engagement = engagements.get_engagement(db.session, caller, engagement_id)
    found = engagements.list_evidence(db.session, caller, engagement_id)
    items = [engagements.evidence_json(s, engagement) for s in found]
    return {"items": items, "total": len(items)}


@api.get(_BASE + "/evidence/<evidence_id>")
@require_per_object("engagement.evidence")
def get_engagement_evidence(engagement_id: str, evidence_id: str) -> dict[str, Any]:
    """One evidence item in scope."""
    caller = current_caller()
    engagement = engagements.get_engagement(db.session, caller, engagement_id)
    found = engagements.get_evidence(db.session, caller, engagement_id, evidence_id)
    return engagements.evidence_json(found, engagement)


@api.get(_BASE + "/evidence/<evidence_id>/download")
@download_budget
@require_per_object("engagement.evidence")
def download_engagement_evidence(engagement_id: str, evidence_id: str) -> Response:
    """A stamped copy of the latest in-scope version (``?version=N`` for another in scope);
    HEAD makes no copy (and no receipt)."""
    number = engagements.version_number(request.args.get("version"))
    if request.method == "HEAD":
        _, version = engagements.head(
            db.session, current_caller(), engagement_id, evidence_id, number
        )
        content_type = "application/pdf" if version.file_type == "pdf" else version.content_type
        return Response(status=200, content_type=content_type)
    found = engagements.download(
        db.session,
        current_caller(),
        store_for(current_app),
        engagement_id,
        evidence_id,
        number,
    )
    return file_response(
        found.body,
        filename=found.filename,
        content_type=found.content_type,
        receipt=found.receipt,
        sha256=found.sha256,
    )


@api.get(_BASE + "/coverage")
@require_per_object("engagement.evidence")
def engagement_coverage(engagement_id: str) -> dict[str, Any]:
    """Coverage of the in-scope requirements by the evidence in scope."""
    rows = engagements.coverage(db.session, current_caller(), engagement_id)
    return {"items": rows, "total": len(rows)}


@api.get(_BASE + "/requests")
@require_per_object("engagement.view")
def list_engagement_requests(engagement_id: str) -> dict[str, Any]:
    """The request list, in number order."""
    today = utcnow().date()
    _, found = engagements.list_requests(db.session, current_caller(), engagement_id)
    items = [engagements.request_json(r, today) for r in found]
    return {"items": items, "total": len(items)}


@api.post(_BASE + "/requests")
@require_per_object("engagement.request.create")
def create_engagement_request(engagement_id: str) -> tuple[dict[str, Any], int]:
    """A new request (the engagement's auditors, staff)."""
    body = _body(lists=("requirements",), numbers=("sample_size",))
    created = engagements.create_request(db.session, current_caller(), engagement_id, body)
    return engagements.request_json(created, utcnow().date(), full=True), 201


@api.get(_REQUEST)
@require_per_object("engagement.view")
def get_engagement_request(engagement_id: str, request_id: str) -> dict[str, Any]:
    """One request with its comments."""
    found = engagements.get_request(db.session, current_caller(), engagement_id, request_id)
    return engagements.request_json(found, utcnow().date(), full=True)


@api.patch(_REQUEST)
@require_per_object("engagement.request.manage")
def update_engagement_request(engagement_id: str, request_id: str) -> dict[str, Any]:
    """Set the owner and/or the due date (staff)."""
    changed = engagements.update_request(
        db.session, current_caller(), engagement_id, request_id, _body()
    )
    return engagements.request_json(changed, utcnow().date(), full=True)


@api.post(_REQUEST + "/comments")
@require_per_object("engagement.request.comment")
def comment_engagement_request(engagement_id: str, request_id: str) -> tuple[dict[str, Any], int]:
    """Add a comment to the request's thread."""
    comment = engagements.add_comment(
        db.session, current_caller(), engagement_id, request_id, _body().get("body")
    )
    return engagements.comment_json(comment), 201


@api.post(_REQUEST + "/evidence")
@require_per_object("engagement.request.manage")
def attach_engagement_evidence(engagement_id: str, request_id: str) -> tuple[dict[str, Any], int]:
    """Attach evidence in scope (staff)."""
    caller = current_caller()
    engagements.attach_evidence(
        db.session, caller, engagement_id, request_id, _body().get("evidence_id")
    )
    found = engagements.get_request(db.session, caller, engagement_id, request_id)
    return engagements.request_json(found, utcnow().date(), full=True), 201


@api.post(_REQUEST + "/ready", defaults={"step": "ready"})
@api.post(_REQUEST + "/accept", defaults={"step": "accept"})
@require_per_object("engagement.view")
def review_engagement_request(engagement_id: str, request_id: str, step: str) -> dict[str, Any]:
    """Mark ready (staff) or accept (the engagement's auditors)."""
    act = engagements.mark_ready if step == "ready" else engagements.accept
    changed = act(db.session, current_caller(), engagement_id, request_id)
    return engagements.request_json(changed, utcnow().date(), full=True)


@api.post(_REQUEST + "/return")
@require_per_object("engagement.request.review")
def return_engagement_request(engagement_id: str, request_id: str) -> dict[str, Any]:
    """Send back to the company with a comment (the engagement's auditors)."""
    changed = engagements.return_request(
        db.session, current_caller(), engagement_id, request_id, _body().get("comment")
    )
    return engagements.request_json(changed, utcnow().date(), full=True)
