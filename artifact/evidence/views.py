"""Evidence pages (staff only; 404 to everyone else) and the coverage and freshness page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from artifact import policy
from artifact.catalog.services.upload_guard import UploadGuard
from artifact.evidence import services as evidence
from artifact.evidence.forms import (
    FILE_HINT,
    REQUIREMENTS_HINT,
    ActionForm,
    EvidenceForm,
    LinksForm,
    VersionForm,
)
from artifact.evidence.services.filetypes import Limits
from artifact.extensions import db
from artifact.frameworks import services as frameworks
from artifact.infra.storage import store_for
from artifact.kernel import uow
from artifact.kernel.errors import (
    Conflict,
    InvalidFile,
    PermissionDenied,
    TooLarge,
    Unavailable,
    UnsupportedType,
    ValidationFailed,
)
from artifact.models.base import utcnow
from artifact.models.evidence import STATE_LABELS
from artifact.web.access import require_hidden
from artifact.web.args import version_arg
from artifact.web.files import file_response, read_upload
from artifact.web.ratelimit import download_budget
from artifact.web.security import current_caller

bp = Blueprint("evidence", __name__)
_REFUSED = (TooLarge, UnsupportedType, InvalidFile, ValidationFailed, Conflict, Unavailable)


def upload_limits() -> evidence.UploadLimits:
    config = current_app.config
    return evidence.UploadLimits(
        max_bytes=config["EVIDENCE_MAX_BYTES"],
        file=Limits(
            max_pixels=config["EVIDENCE_MAX_PIXELS"],
            zip_entries=config["EVIDENCE_ZIP_MAX_ENTRIES"],
            zip_uncompressed=config["EVIDENCE_ZIP_MAX_BYTES"],
            zip_part=config["EVIDENCE_ZIP_MAX_PART_BYTES"],
        ),
        guard=UploadGuard.from_settings(config),
    )


def evidence_filters() -> dict[str, str | None]:
    return {
        name: (request.args.get(name) or "").strip()[:320] or None
        for name in ("state", "framework", "owner")
    }


def serve_evidence(evidence_id: str) -> Response:
    """The current (or ``?version=N``) file, verified against its SHA-256: the download page's
    and the API's answer."""
    found = evidence.download(
        db.session, current_caller(), store_for(current_app), evidence_id, version_arg()
    )
    return file_response(
        found.body, filename=found.filename, content_type=found.content_type, sha256=found.sha256
    )


def _detail(evidence_id: str) -> Response:
    return redirect(url_for("evidence.detail", evidence_id=evidence_id))


@bp.get("/evidence")
@require_hidden("evidence.list")
def index() -> str:
    """Evidence, filtered by state, framework and owner. The unfiltered table is rendered once
    per day and policy generation (evidence changes bump it); a filtered one at each request."""
    caller = current_caller()
    today = utcnow().date()
    filters = evidence_filters()

    def table() -> Markup:
        items = evidence.list_evidence(db.session, caller, today, **filters)
        return Markup(  # noqa: S704  (a template's output, escaped by Jinja)
            render_template(
                "evidence/_index_table.html",
                items=items,
                filters=filters,
                today=today,
                labels=STATE_LABELS,
            )
        )

    if any(filters.values()):
        shown = table()
    else:
        shown = policy.remember_page(db.session, f"evidence:{today.isoformat()}", caller, table)
    return render_template(
        "evidence/index.html",
        table=shown,
        filters=filters,
        states=evidence.state_choices(),
        labels=STATE_LABELS,
        framework_choices=frameworks.framework_choices(db.session, caller),
    )


@bp.route("/evidence/new", methods=["GET", "POST"])
@require_hidden("evidence.upload")
def new() -> Response | tuple[str, int]:
    """Upload new evidence."""
    form = EvidenceForm()
    if form.validate_on_submit():
        storage = form.file.data
        values: dict[str, Any] = {
            name: getattr(form, name).data
            for name in (
                "title",
                "description",
                "owner",
                "effective_date",
                "expires_on",
                "requirements",
            )
        }
        try:
            created = evidence.create_evidence(
                db.session,
                current_caller(),
                store_for(current_app),
                values,
                read_upload(storage, upload_limits().max_bytes),
                storage.filename,
                upload_limits(),
            )
        except _REFUSED as error:
            flash(f"The evidence was not stored: {error.message}.", "error")
        else:
            flash("Evidence stored as a draft. Submit it for review when it is ready.", "success")
            return _detail(created.id)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "evidence/new.html", form=form, file_hint=FILE_HINT, requirements_hint=REQUIREMENTS_HINT
    ), status


@bp.get("/evidence/<evidence_id>")
@require_hidden("evidence.view")
def detail(evidence_id: str) -> str:
    """One evidence item: versions, links, approvals, state actions."""
    found = evidence.get_evidence(db.session, current_caller(), evidence_id)
    links = LinksForm(requirements="\n".join(sorted(link.requirement.name for link in found.links)))
    return render_template(
        "evidence/detail.html",
        item=found,
        today=utcnow().date(),
        labels=STATE_LABELS,
        version_form=VersionForm(),
        links_form=links,
        action_form=ActionForm(),
        requirements_hint=REQUIREMENTS_HINT,
    )


@bp.post("/evidence/<evidence_id>/versions")
@require_hidden("evidence.upload")
def add_version(evidence_id: str) -> Response:
    """Upload the next version."""
    form = VersionForm()
    if not form.validate_on_submit():
        flash("Choose a file to upload (and valid dates).", "error")
        return _detail(evidence_id)
    storage = form.file.data
    try:
        version = evidence.add_version(
            db.session,
            current_caller(),
            store_for(current_app),
            evidence_id,
            read_upload(storage, upload_limits().max_bytes),
            storage.filename,
            {"effective_date": form.effective_date.data, "expires_on": form.expires_on.data},
            upload_limits(),
        )
    except _REFUSED as error:
        # A version race fails at the flush: discard the upload (its blob too) before the
        # redirect, which would otherwise commit.
        uow.rollback(db.session)
        flash(f"The file was refused: {error.message}.", "error")
    else:
        flash(
            f"Version {version.number} stored (SHA-256 {version.sha256[:16]}…); the "
            "evidence is a draft again until the new version is approved.",
            "success",
        )
    return _detail(evidence_id)


@bp.post("/evidence/<evidence_id>/requirements")
@require_hidden("evidence.edit")
def set_links(evidence_id: str) -> Response:
    """Replace the linked requirements."""
    form = LinksForm()
    if form.validate_on_submit():
        try:
            evidence.set_links(
                db.session, current_caller(), evidence_id, form.requirements.data or ""
            )
            flash("Requirements saved.", "success")
        except (ValidationFailed, Conflict) as error:
            flash(f"Not saved: {error.message}.", "error")
    return _detail(evidence_id)


@bp.post("/evidence/<evidence_id>/submit", defaults={"step": "submit"})
@bp.post("/evidence/<evidence_id>/approve", defaults={"step": "approve"})
@bp.post("/evidence/<evidence_id>/send-back", defaults={"step": "send_back"})
@require_hidden("evidence.submit")
def change_state(evidence_id: str, step: str) -> Response:
    """Submit for review, approve, or send back to draft."""
    form = ActionForm()
    if form.validate_on_submit():
        args = (db.session, current_caller(), evidence_id)
        try:
            if step == "approve":
                changed = evidence.approve(*args, note=form.note.data or "")
            else:
                changed = getattr(evidence, step)(*args)
            flash(
                f"The evidence is now {STATE_LABELS[changed.display_state(utcnow().date())]}.",
                "success",
            )
        except (Conflict, ValidationFailed, PermissionDenied) as error:
            flash(f"Not changed: {error.message}.", "error")
    return _detail(evidence_id)


@bp.get("/evidence/<evidence_id>/download")
@download_budget
@require_hidden("evidence.download")
def download(evidence_id: str) -> Response:
    """The current (or ``?version=N``) file."""
    return serve_evidence(evidence_id)


@bp.get("/frameworks/<framework_id>/coverage")
@require_hidden("coverage.freshness")
def coverage(framework_id: str) -> str:
    """Coverage and freshness of one framework (staff): its body rendered once per framework,
    status filter, day and policy generation (evidence, requirements, mappings and reports
    bump it)."""
    caller = current_caller()
    today = utcnow().date()
    wanted = (request.args.get("status") or "").strip()
    wanted = wanted if wanted in evidence.STATUSES else ""

    def page() -> tuple[str, Markup]:
        framework = frameworks.get_framework(db.session, caller, framework_id=framework_id)
        found = evidence.framework_coverage(db.session, caller, framework, today)
        return framework.title, Markup(  # noqa: S704  (a template's output, escaped by Jinja)
            render_template(
                "evidence/_coverage_body.html",
                coverage=found,
                labels=STATE_LABELS,
                wanted=wanted,
                statuses=evidence.STATUSES,
                expiring_days=evidence.EXPIRING_DAYS,
            )
        )

    # Kept under the id asked for: stored only once it named a framework (get_framework
    # raises NotFound before anything is kept).
    name = f"coverage:{framework_id}:{today.isoformat()}:{wanted}"
    title, shown = policy.remember_page(db.session, name, caller, page)
    return render_template("evidence/coverage.html", title=title, body=shown)
