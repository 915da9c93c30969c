"""Engagement pages: the list, the create form (staff), one engagement (scope, evidence,
coverage, request list), evidence downloads, closing (after a confirmation), the request list
as CSV (export and import) and the package ZIP (staff)."""

from __future__ import annotations

import io
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from artifact import policy
from artifact.engagements.forms import (
    AUDITORS_HINT,
    CSV_HINT,
    REQUIREMENTS_HINT,
    ActionForm,
    EngagementForm,
    ImportForm,
    PackageForm,
    RequestForm,
)
from artifact.engagements.services import csv_io, package, records, scope
from artifact.engagements.services import requests as engagement_requests
from artifact.engagements.views.blueprint import back_to_engagement, bp, refused
from artifact.extensions import db
from artifact.frameworks import services as frameworks
from artifact.infra.storage import store_for
from artifact.kernel import uow
from artifact.kernel.errors import Conflict, Unprocessable, ValidationFailed
from artifact.models.base import utcnow
from artifact.models.engagements import REQUEST_STATUS_LABELS
from artifact.web.access import require_hidden, require_per_object
from artifact.web.args import version_arg
from artifact.web.files import CSV, file_response, read_upload
from artifact.web.ratelimit import download_budget
from artifact.web.security import current_caller

_REFUSED = (ValidationFailed, Unprocessable, Conflict)
ACCESS_LABELS = {
    "open": "open",
    "not_started": "not started yet",
    "ended": "access ended",
    "closed": "closed",
}


@bp.get("/")
@require_hidden("engagement.list")
def index() -> str:
    """Staff: every engagement. Auditors: the engagements they are on, while open."""
    items = records.list_engagements(db.session, current_caller())
    today = utcnow().date()
    return render_template(
        "engagements/index.html",
        items=items,
        overdue={e.id: sum(r.is_overdue(today) for r in e.requests) for e in items},
        today=today,
        access=records.access,
        access_labels=ACCESS_LABELS,
    )


def _framework_choices() -> list[tuple[str, str]]:
    found = frameworks.list_frameworks(db.session, current_caller())
    return [("", "(the requirements listed below instead)")] + [
        (framework.key, framework.title) for framework, _count in found
    ]


def _new_page(form: EngagementForm, status: int) -> tuple[str, int]:
    return render_template(
        "engagements/new.html",
        form=form,
        auditors_hint=AUDITORS_HINT,
        requirements_hint="Only when no framework is chosen: requirement names such as "
        "iso27001-2022:A.5.15, one a line.",
    ), status


@bp.route("/new", methods=["GET", "POST"])
@require_hidden("engagement.create")
def new() -> Response | tuple[str, int]:
    """Create an engagement (staff)."""
    form = EngagementForm()
    form.framework.choices = _framework_choices()
    if not form.validate_on_submit():
        if request.method == "POST":
            flash("The engagement was not created: check the fields marked below.", "error")
        return _new_page(form, 400 if request.method == "POST" else 200)
    values: dict[str, Any] = {
        name: getattr(form, name).data
        for name in ("name", "organization", "framework", "auditors", "requirements")
    }
    for name in ("period_start", "period_end", "starts_on", "ends_on"):
        values[name] = getattr(form, name).data
    if not values["framework"]:
        values.pop("framework")
    values = {name: value for name, value in values.items() if value is not None}
    try:
        created = records.create_engagement(db.session, current_caller(), values)
    except _REFUSED as error:
        refused("The engagement was not created", error)
        return _new_page(form, 400 if isinstance(error, ValidationFailed) else 422)
    flash(
        f"Engagement {created.name} created: its auditors see it from "
        f"{created.starts_on.isoformat()} to {created.ends_on.isoformat()}.",
        "success",
    )
    return back_to_engagement(created.id)


@bp.get("/<engagement_id>")
@require_per_object("engagement.view")
def detail(engagement_id: str) -> str:
    """One engagement: its scope, the evidence in scope, coverage and the request list."""
    caller = current_caller()
    engagement = records.get_engagement(db.session, caller, engagement_id, record=True)
    _engagement, requests = engagement_requests.list_requests(db.session, caller, engagement_id)
    staff = policy.decide(caller, "engagement.export", engagement).allowed
    package_form = PackageForm()
    package_form.auditor.choices = [(u.email, u.email) for u in package.recipients(engagement)]
    today = utcnow().date()
    return render_template(
        "engagements/detail.html",
        engagement=engagement,
        requests=requests,
        evidence=scope.list_evidence(db.session, caller, engagement_id),
        coverage=scope.coverage(db.session, caller, engagement_id),
        today=today,
        access=records.access(engagement, today),
        access_labels=ACCESS_LABELS,
        labels=REQUEST_STATUS_LABELS,
        staff=staff,
        request_form=RequestForm(),
        import_form=ImportForm(),
        package_form=package_form,
        action_form=ActionForm(),
        requirements_hint=REQUIREMENTS_HINT,
        csv_hint=CSV_HINT,
        overdue=sum(r.is_overdue(today) for r in requests),
    )


@bp.get("/<engagement_id>/evidence/<evidence_id>/download")
@download_budget
@require_per_object("engagement.evidence")
def download(engagement_id: str, evidence_id: str) -> Response:
    """A copy of evidence in scope: PDFs stamped with the caller's identity and a receipt."""
    found = scope.download(
        db.session,
        current_caller(),
        store_for(current_app),
        engagement_id,
        evidence_id,
        version_arg(),
    )
    return file_response(
        found.body,
        filename=found.filename,
        content_type=found.content_type,
        receipt=found.receipt,
        sha256=found.sha256,
    )


@bp.post("/<engagement_id>/requests")
@require_per_object("engagement.request.create")
def add_request(engagement_id: str) -> Response:
    """Add a request to the list (auditors, staff)."""
    form = RequestForm()
    if not form.validate_on_submit():
        flash("The request was not added: it needs a title (and valid dates and numbers).", "error")
        return back_to_engagement(engagement_id, "add-request")
    values = {  # a field left empty is left out (the service refuses nulls)
        name: getattr(form, name).data
        for name in ("title", "description", "requirements", "due_on", "sample_size")
        if getattr(form, name).data is not None
    }
    try:
        created = engagement_requests.create_request(
            db.session, current_caller(), engagement_id, values
        )
    except _REFUSED as error:
        refused("The request was not added", error)
        return back_to_engagement(engagement_id, "add-request")
    flash(f"Request PBC-{created.number} added.", "success")
    return back_to_engagement(engagement_id, "requests")


@bp.get("/<engagement_id>/close")
@require_hidden("engagement.close")
def confirm_close(engagement_id: str) -> str:
    """Ask before closing an engagement (changes nothing)."""
    engagement = records.get_engagement(
        db.session, current_caller(), engagement_id, "engagement.close"
    )
    emails = sorted(a.user.email for a in engagement.auditors)
    names = ", ".join(emails) or "Its auditors"
    verb = "loses" if len(emails) == 1 else "lose"
    return render_template(
        "confirm.html",
        confirm_title=f"Close {engagement.name}?",
        consequences=[
            f"{names} {verb} access to the engagement at once: its evidence, coverage and "
            "request list answer 'not found' to them from now on.",
            "The request list changes no more: no new requests, comments, evidence or decisions.",
            "Closing cannot be undone. The request list, its threads and the audit trail of "
            "what the auditors saw and downloaded are kept, and staff can still export the "
            "engagement package.",
        ],
        confirm_action=url_for("engagements.close", engagement_id=engagement.id),
        confirm_button="Close engagement",
        cancel_url=url_for("engagements.detail", engagement_id=engagement.id),
    )


@bp.post("/<engagement_id>/close")
@require_hidden("engagement.close")
def close(engagement_id: str) -> Response:
    """Close the engagement (after the confirmation step)."""
    if not ActionForm().validate_on_submit():
        flash("Not closed: the form expired; try again.", "error")
        return redirect(url_for("engagements.confirm_close", engagement_id=engagement_id))
    try:
        closed = records.close_engagement(db.session, current_caller(), engagement_id)
    except Conflict as error:
        refused("Not closed", error)
        return back_to_engagement(engagement_id)
    flash(f"{closed.name} is closed: its auditors no longer have access.", "success")
    return back_to_engagement(engagement_id)


@bp.get("/<engagement_id>/requests.csv")
@require_per_object("engagement.view")
def export_csv(engagement_id: str) -> Response:
    """The request list as CSV."""
    filename, text = csv_io.export_requests(db.session, current_caller(), engagement_id)
    return file_response(text.encode("utf-8"), filename=filename, content_type=CSV)


@bp.post("/<engagement_id>/requests/import")
@require_per_object("engagement.request.create")
def import_csv(engagement_id: str) -> Response:
    """Add the requests of a CSV file; one bad row and nothing is imported."""
    form = ImportForm()
    if not form.validate_on_submit():
        flash("Nothing was imported: choose a CSV file.", "error")
        return back_to_engagement(engagement_id, "import")
    data = read_upload(form.file.data, csv_io.MAX_BYTES)
    try:
        result = csv_io.import_requests(db.session, current_caller(), engagement_id, data)
    except _REFUSED as error:
        uow.rollback(db.session)  # rows added before the bad one go too, before the redirect
        refused("The request list was not imported", error)
        return back_to_engagement(engagement_id, "import")
    created = len(result.created)
    message = f"Imported {created} request{'s' if created != 1 else ''}"
    if result.unchanged:
        message += f"; {len(result.unchanged)} already on the list were left as they are"
    flash(message + ".", "success")
    return back_to_engagement(engagement_id, "requests")


@bp.post("/<engagement_id>/package")
@require_hidden("engagement.export")
def download_package(engagement_id: str) -> Response:
    """The engagement package (ZIP) for one of its auditors (staff)."""
    caller = current_caller()
    engagement = records.get_engagement(db.session, caller, engagement_id, "engagement.export")
    form = PackageForm()
    form.auditor.choices = [(u.email, u.email) for u in package.recipients(engagement)]
    if not form.validate_on_submit():
        flash("No package was made: choose the auditor who receives it.", "error")
        return back_to_engagement(engagement_id, "package")
    out = io.BytesIO()
    try:
        package.write_package(
            db.session,
            caller,
            store_for(current_app),
            engagement_id,
            out,
            auditor_email=form.auditor.data,
            data_dir=current_app.config["DATA_DIR"],
            witness=current_app.config["AUDIT_WITNESS"],
        )
    except ValidationFailed as error:
        refused("No package was made", error)
        return back_to_engagement(engagement_id, "package")
    return file_response(
        out.getvalue(), filename=package.package_name(engagement), content_type="application/zip"
    )
