"""One request of an engagement's list: its page with the comment thread, and the steps of
its life (comment; staff: owner, evidence, ready; auditors: accept, return with a comment)."""

from __future__ import annotations

from flask import flash, render_template
from werkzeug.wrappers import Response

from artifact import policy
from artifact.engagements.forms import ActionForm, AttachForm, CommentForm, OwnerForm, ReturnForm
from artifact.engagements.services import pages, records
from artifact.engagements.services import requests as engagement_requests
from artifact.engagements.views.blueprint import back_to_request, bp, refused
from artifact.extensions import db
from artifact.kernel.errors import Conflict, Unprocessable, ValidationFailed
from artifact.models.base import utcnow
from artifact.models.engagements import REQUEST_STATUS_LABELS, RequestStatus
from artifact.web.access import require_per_object
from artifact.web.security import current_caller

_REFUSED = (ValidationFailed, Unprocessable, Conflict)


@bp.get("/<engagement_id>/requests/<request_id>")
@require_per_object("engagement.view")
def request_page(engagement_id: str, request_id: str) -> str:
    """A request, its evidence and its thread, with the steps the caller may take."""
    caller = current_caller()
    engagement = records.get_engagement(db.session, caller, engagement_id)
    found = engagement_requests.get_request(db.session, caller, engagement_id, request_id)
    manage = policy.decide(caller, "engagement.request.manage", engagement).allowed
    attach_form = AttachForm()
    if manage:
        attach_form.evidence_id.choices = [
            (item.evidence.id, f"{item.evidence.title} (version {item.version.number})")
            for item in pages.attachable(db.session, engagement, found)
        ]
    return render_template(
        "engagements/request.html",
        engagement=engagement,
        item=found,
        today=utcnow().date(),
        labels=REQUEST_STATUS_LABELS,
        statuses=RequestStatus,
        manage=manage,
        review=policy.decide(caller, "engagement.request.review", engagement).allowed,
        writable=engagement.state == "open",
        comment_form=CommentForm(),
        return_form=ReturnForm(),
        owner_form=OwnerForm(owner=found.owner.email if found.owner else ""),
        attach_form=attach_form,
        action_form=ActionForm(),
    )


@bp.post("/<engagement_id>/requests/<request_id>/comments")
@require_per_object("engagement.request.comment")
def comment(engagement_id: str, request_id: str) -> Response:
    """Add a comment to the thread."""
    form = CommentForm()
    if not form.validate_on_submit():
        flash("The comment was not added: write something first.", "error")
        return back_to_request(engagement_id, request_id)
    try:
        engagement_requests.add_comment(
            db.session, current_caller(), engagement_id, request_id, form.body.data
        )
    except _REFUSED as error:
        refused("The comment was not added", error)
    else:
        flash("Comment added.", "success")
    return back_to_request(engagement_id, request_id)


@bp.post("/<engagement_id>/requests/<request_id>/owner")
@require_per_object("engagement.request.manage")
def set_owner(engagement_id: str, request_id: str) -> Response:
    """Assign the staff member who answers the request."""
    form = OwnerForm()
    if not form.validate_on_submit():
        flash("No owner was assigned: give a staff member's e-mail.", "error")
        return back_to_request(engagement_id, request_id)
    try:
        changed = engagement_requests.update_request(
            db.session, current_caller(), engagement_id, request_id, {"owner": form.owner.data}
        )
    except _REFUSED as error:
        refused("No owner was assigned", error)
    else:
        owner = changed.owner.email if changed.owner else "nobody"
        flash(f"PBC-{changed.number} is now owned by {owner}.", "success")
    return back_to_request(engagement_id, request_id)


@bp.post("/<engagement_id>/requests/<request_id>/evidence")
@require_per_object("engagement.request.manage")
def attach(engagement_id: str, request_id: str) -> Response:
    """Attach evidence in the engagement's scope."""
    form = AttachForm()
    if not form.validate_on_submit():
        flash("Nothing was attached: choose evidence in scope.", "error")
        return back_to_request(engagement_id, request_id)
    try:
        attached = engagement_requests.attach_evidence(
            db.session, current_caller(), engagement_id, request_id, form.evidence_id.data
        )
    except _REFUSED as error:
        refused("Nothing was attached", error)
    else:
        flash(f"Attached {attached.evidence.title} (version {attached.version.number}).", "success")
    return back_to_request(engagement_id, request_id)


@bp.post("/<engagement_id>/requests/<request_id>/ready", defaults={"step": "ready"})
@bp.post("/<engagement_id>/requests/<request_id>/accept", defaults={"step": "accept"})
@require_per_object("engagement.view")
def decide(engagement_id: str, request_id: str, step: str) -> Response:
    """Staff mark a request ready for review; its auditors accept it."""
    if not ActionForm().validate_on_submit():
        flash("Nothing changed: the form expired; try again.", "error")
        return back_to_request(engagement_id, request_id)
    service = engagement_requests.mark_ready if step == "ready" else engagement_requests.accept
    try:
        changed = service(db.session, current_caller(), engagement_id, request_id)
    except _REFUSED as error:
        refused("Nothing changed", error)
    else:
        said = "is ready for the auditors' review" if step == "ready" else "is accepted"
        flash(f"PBC-{changed.number} {said}.", "success")
    return back_to_request(engagement_id, request_id)


@bp.post("/<engagement_id>/requests/<request_id>/return")
@require_per_object("engagement.request.review")
def send_back(engagement_id: str, request_id: str) -> Response:
    """Send a request back to the company with a comment saying what is missing."""
    form = ReturnForm()
    if not form.validate_on_submit():
        flash("Not returned: say what is missing.", "error")
        return back_to_request(engagement_id, request_id)
    try:
        changed = engagement_requests.return_request(
            db.session, current_caller(), engagement_id, request_id, form.body.data
        )
    except _REFUSED as error:
        refused("Not returned", error)
    else:
        flash(f"PBC-{changed.number} was returned with your comment.", "success")
    return back_to_request(engagement_id, request_id)
