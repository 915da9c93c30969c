"""Staff views of the catalog: create and edit reports, upload versions, publish/retire, grant,
decide access requests, purge versions, manage the categories and series."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from artifact.agreements.services import agreements
from artifact.catalog.forms import (
    ApprovalRuleForm,
    DecisionForm,
    GrantForm,
    ReportDetailsForm,
    ReportForm,
    StateForm,
    TaxonomyForm,
    TermsForm,
    UploadForm,
    set_agreement_choices,
    set_report_choices,
    set_rule_choices,
)
from artifact.catalog.services import approval_rules, grants, report_terms, reports, taxonomy
from artifact.catalog.services.upload_guard import UploadGuard
from artifact.catalog.views.blueprint import bp
from artifact.catalog.views.serving import serve_original
from artifact.extensions import db
from artifact.identity.services.organizations import email_domain
from artifact.infra.storage import store_for
from artifact.kernel import uow
from artifact.kernel.errors import (
    Conflict,
    InvalidFile,
    NotFound,
    TooLarge,
    Unavailable,
    UnsupportedType,
    ValidationFailed,
)
from artifact.web.access import require, require_hidden
from artifact.web.files import read_upload
from artifact.web.ratelimit import download_budget
from artifact.web.security import current_caller


def _detail(report_id: str) -> Response:
    return redirect(url_for("catalog.detail", report_id=report_id))


def _with_choices(form: ReportDetailsForm, exclude: str | None = None) -> ReportDetailsForm:
    caller = current_caller()
    set_report_choices(
        form,
        taxonomy.list_categories(db.session, caller),
        taxonomy.list_series(db.session, caller),
        reports.list_reports(db.session, caller).reports,
        exclude=exclude,
    )
    return form


@bp.route("/new", methods=["GET", "POST"])
@require("report.create")
def new() -> Response | tuple[str, int]:
    """Create a report (draft, restricted unless chosen otherwise)."""
    form = _with_choices(ReportForm())
    assert isinstance(form, ReportForm)
    set_agreement_choices(
        form.terms_agreement_id, agreements.list_agreements(db.session, current_caller())
    )
    if form.validate_on_submit():
        try:
            report = reports.create_report(
                db.session,
                current_caller(),
                {**form.values(), "terms_agreement_id": form.terms_agreement_id.data},
            )
        except (ValidationFailed, Conflict) as error:
            flash(f"The report was not created: {error.message}.", "error")
        else:
            flash("Report created as a draft. Upload a PDF, then publish it.", "success")
            return _detail(report.id)
    status = 400 if request.method == "POST" else 200
    return render_template("catalog/new.html", form=form), status


@bp.post("/<report_id>/edit")
@require("report.edit")
def edit(report_id: str) -> Response:
    """Change a report's details; the change is recorded in its history."""
    form = _with_choices(ReportDetailsForm(), exclude=report_id)
    if not form.validate_on_submit():
        problems = "; ".join(
            f"{getattr(form, name).label.text}: {' '.join(errors)}"
            for name, errors in form.errors.items()
        )
        flash(f"Not changed: {problems or 'check the fields'}.", "error")
        return _detail(report_id)
    try:
        edited = reports.update_report(db.session, current_caller(), report_id, form.values())
    except ValidationFailed as error:
        flash(f"Not changed: {error.message}.", "error")
    else:
        if edited.fields:
            names = ", ".join(name.replace("_", " ") for name in edited.fields)
            flash(f"Saved ({names}); the change is in the report's history.", "success")
        else:
            flash("Nothing was changed.", "info")
    return _detail(report_id)


@bp.post("/<report_id>/versions")
@require("report.upload")
def upload(report_id: str) -> Response:
    """Upload the next version (a PDF)."""
    form = UploadForm()
    if not form.validate_on_submit():
        flash("Choose a PDF file to upload.", "error")
        return _detail(report_id)
    storage = form.file.data
    limit = current_app.config["REPORT_MAX_BYTES"]
    try:
        version = reports.add_version(
            db.session,
            current_caller(),
            store_for(current_app),
            report_id,
            read_upload(storage, limit),
            storage.filename,
            limit,
            release_notes=form.release_notes.data,
            guard=UploadGuard.from_settings(current_app.config),
        )
    except (
        TooLarge,
        UnsupportedType,
        InvalidFile,
        ValidationFailed,
        Conflict,
        Unavailable,
    ) as error:
        # A version race fails at the flush: discard the upload (its blob too) before the
        # redirect, which would otherwise commit.
        uow.rollback(db.session)
        flash(f"The file was refused: {error.message}.", "error")
        return _detail(report_id)
    flash(f"Version {version.number} stored (SHA-256 {version.sha256[:16]}…).", "success")
    if version.removed_content:
        flash(
            "Copies handed out will not carry what this PDF contains: "
            + "; ".join(version.removed_content)
            + ". The original is kept as uploaded.",
            "warning",
        )
    if version.pdf_warnings:
        count = len(version.pdf_warnings)
        flash(
            f"The PDF is damaged in ways readers tolerate: {count} repair"
            f"{'s' if count > 1 else ''} by qpdf (listed with the version).",
            "warning",
        )
    return _detail(report_id)


@bp.get("/<report_id>/versions/<int:number>/original")
@download_budget
@require_hidden("report.original")
def original(report_id: str, number: int) -> Response:
    """A version's file exactly as uploaded (staff)."""
    return serve_original(report_id, number)


@bp.get("/<report_id>/retire")
@require("report.set_state")
def confirm_retire(report_id: str) -> str:
    """Ask before retiring a report (changes nothing)."""
    report = reports.get_report(db.session, current_caller(), report_id, "report.set_state")
    return render_template(
        "confirm.html",
        confirm_title=f"Retire {report.title}?",
        consequences=[
            "Customers and visitors no longer see it in the catalog or in search, and its "
            "download links stop working.",
            "Its versions, grants and download receipts are kept; staff can publish it again.",
        ],
        confirm_action=url_for("catalog.set_state", report_id=report.id),
        confirm_button="Retire report",
        cancel_url=url_for("catalog.detail", report_id=report.id),
        hidden={"state": "retired", "confirmed": "yes"},
    )


@bp.post("/<report_id>/state")
@require("report.set_state")
def set_state(report_id: str) -> Response:
    """Publish, mark outdated, retire (after the confirmation step), or return to draft."""
    form = StateForm()
    if form.state.data == "retired" and request.form.get("confirmed") != "yes":
        return redirect(url_for("catalog.confirm_retire", report_id=report_id))
    if form.validate_on_submit():
        try:
            report = reports.set_state(
                db.session, current_caller(), report_id, form.state.data or ""
            )
            flash(f"The report is now {report.state}.", "success")
        except (ValidationFailed, Conflict) as error:
            flash(f"Not changed: {error.message}.", "error")
    return _detail(report_id)


@bp.post("/<report_id>/terms")
@require("report.set_terms")
def set_terms(report_id: str) -> Response:
    """Require acceptance of an agreement before downloads (or no longer)."""
    form = TermsForm()
    set_agreement_choices(
        form.terms_agreement_id, agreements.list_agreements(db.session, current_caller())
    )
    if not form.validate_on_submit():
        flash("Choose one of the published agreements.", "error")
        return _detail(report_id)
    try:
        report = report_terms.set_terms(
            db.session, current_caller(), report_id, form.terms_agreement_id.data or None
        )
    except (ValidationFailed, Conflict) as error:
        flash(f"Not changed: {error.message}.", "error")
    else:
        flash(
            "Downloads now need acceptance of " + report.terms_agreement.title + "."
            if report.terms_agreement
            else "Downloads no longer need an agreement.",
            "success",
        )
    return _detail(report_id)


@bp.post("/<report_id>/grants")
@require("grant.create")
def grant(report_id: str) -> Response:
    """Grant access to this report, its series or its category."""
    form = GrantForm()
    report = reports.get_report(db.session, current_caller(), report_id)
    if form.validate_on_submit():
        scope = {
            "report": {"report_id": report.id},
            "series": {"series": report.series},
            "category": {"category": report.category},
        }.get(form.scope.data or "", {})
        try:
            grants.create_grant(
                db.session,
                current_caller(),
                **scope,
                user_email=form.user.data or None,
                organization=form.organization.data or None,
                expires_at=form.expires_at.data,
            )
            flash("Access granted.", "success")
        except (ValidationFailed, NotFound, Conflict) as error:
            flash(f"Not granted: {error.message}.", "error")
    return _detail(report_id)


@bp.get("/requests")
@require("access_request.list")
def access_requests() -> str:
    """The queue: pending requests with who asks (organisation, domain, earlier decisions),
    the auto-approval rules, and live grants."""
    return _requests_page(ApprovalRuleForm())


def _requests_page(rule_form: ApprovalRuleForm, status: int = 200) -> Any:
    caller = current_caller()
    pending = grants.list_requests(db.session, caller)
    set_rule_choices(
        rule_form,
        taxonomy.list_series(db.session, caller),
        taxonomy.list_categories(db.session, caller),
        agreements.list_agreements(db.session, caller),
    )
    page = render_template(
        "catalog/requests.html",
        pending=pending,
        history=grants.requester_history(db.session, caller, [r.user_id for r in pending]),
        domain_of=email_domain,
        rules=approval_rules.list_rules(db.session, caller),
        rule_form=rule_form,
        live_grants=grants.list_grants(db.session, caller),
        decision_form=DecisionForm(),
    )
    return (page, status) if status != 200 else page


@bp.post("/approval-rules")
@require("approval_rule.manage")
def create_rule() -> Any:
    """A standing decision: approve at once the requests it matches."""
    form = ApprovalRuleForm()
    caller = current_caller()
    set_rule_choices(
        form,
        taxonomy.list_series(db.session, caller),
        taxonomy.list_categories(db.session, caller),
        agreements.list_agreements(db.session, caller),
    )
    if not form.validate_on_submit():
        flash("The rule was not saved: check the fields.", "error")
        return _requests_page(form, 400)
    try:
        approval_rules.create_rule(
            db.session,
            caller,
            domain=form.domain.data or None,
            organization=form.organization.data or None,
            series=form.series.data or None,
            category=form.category.data or None,
            expires_in_days=form.expires_in_days.data,
            requires_agreement_id=form.requires_agreement_id.data or None,
        )
    except (ValidationFailed, Conflict) as error:
        flash(f"The rule was not saved: {error.message}.", "error")
        return _requests_page(form, 400)
    flash("Rule saved: matching requests are approved at once from now on.", "success")
    return redirect(url_for("catalog.access_requests"))


@bp.post("/approval-rules/<rule_id>/delete")
@require("approval_rule.manage")
def delete_rule(rule_id: str) -> Response:
    """Stop a rule (what it approved stays approved)."""
    if DecisionForm().validate_on_submit():
        approval_rules.delete_rule(db.session, current_caller(), rule_id)
        flash("Rule stopped: new requests it matched wait for a decision again.", "success")
    return redirect(url_for("catalog.access_requests"))


@bp.post("/requests/<request_id>/approve", defaults={"decision": "approve"})
@bp.post("/requests/<request_id>/deny", defaults={"decision": "deny"})
@require("access_request.decide")
def decide(request_id: str, decision: str) -> Response:
    """Approve (optionally until a date) or deny a request."""
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            grants.decide_request(
                db.session,
                current_caller(),
                request_id,
                decision == "approve",
                form.expires_at.data,
            )
            flash(f"Request {decision}d.", "success")
        except (ValidationFailed, Conflict) as error:
            flash(f"Not decided: {error.message}.", "error")
    return redirect(url_for("catalog.access_requests"))


@bp.get("/grants/<grant_id>/revoke")
@require("grant.revoke")
def confirm_revoke(grant_id: str) -> str:
    """Ask before revoking a grant (changes nothing)."""
    grant = grants.get_grant(db.session, current_caller(), grant_id)
    return render_template(
        "confirm.html",
        confirm_title=f"Revoke the grant of {grant.scope_label} to {grant.grantee_label}?",
        consequences=[
            f"{grant.grantee_label} can no longer see or download {grant.scope_label}, "
            "unless another grant or an approved request still covers it.",
            "Copies already downloaded stay out there; their receipts remain in the audit trail.",
            "A revoked grant cannot be restored; grant access again if needed.",
        ],
        confirm_action=url_for("catalog.revoke", grant_id=grant.id),
        confirm_button="Revoke grant",
        cancel_url=url_for("catalog.access_requests"),
    )


@bp.post("/grants/<grant_id>/revoke")
@require("grant.revoke")
def revoke(grant_id: str) -> Response:
    """Revoke a grant."""
    if DecisionForm().validate_on_submit():
        grants.revoke_grant(db.session, current_caller(), grant_id)
        flash("Grant revoked.", "success")
    return redirect(url_for("catalog.access_requests"))


@bp.get("/<report_id>/versions/<int:number>/purge")
@require("report.purge_version")
def confirm_purge(report_id: str, number: int) -> str:
    """Ask before destroying a version's data key (changes nothing)."""
    report = reports.get_report(db.session, current_caller(), report_id, "report.purge_version")
    reports.find_version(report, number)
    return render_template(
        "confirm.html",
        confirm_title=f"Purge version {number} of {report.title}?",
        consequences=[
            f"The data key of version {number} is destroyed: its file can never be decrypted "
            "again, by anyone, from any backup made after this.",
            "The version's record, hash and download receipts are kept.",
            "This cannot be undone.",
        ],
        confirm_action=url_for("catalog.purge", report_id=report.id, number=number),
        confirm_button=f"Purge version {number}",
        cancel_url=url_for("catalog.detail", report_id=report.id),
    )


@bp.post("/<report_id>/versions/<int:number>/purge")
@require("report.purge_version")
def purge(report_id: str, number: int) -> Response:
    """Destroy a version's data key (irreversible)."""
    if DecisionForm().validate_on_submit():
        reports.purge_version(
            db.session, current_caller(), store_for(current_app), report_id, number
        )
        flash(f"Version {number} purged; its file can no longer be decrypted.", "success")
    return _detail(report_id)


@bp.get("/taxonomy")
@require("taxonomy.manage")
def taxonomy_page() -> str:
    """The categories and series, with forms to add, rename, describe and reorder them."""
    caller = current_caller()
    return render_template(
        "catalog/taxonomy.html",
        categories=taxonomy.list_categories(db.session, caller),
        series=taxonomy.list_series(db.session, caller),
        form=TaxonomyForm(),
    )


_KINDS = {"categories": "category", "series": "series"}


@bp.post("/taxonomy/categories", defaults={"kind": "categories"})
@bp.post("/taxonomy/series", defaults={"kind": "series"})
@require("taxonomy.manage")
def taxonomy_create(kind: str) -> Response:
    """Add a category or a series."""
    form = TaxonomyForm()
    if form.validate_on_submit():
        create = taxonomy.create_category if kind == "categories" else taxonomy.create_series
        try:
            record = create(db.session, current_caller(), _taxonomy_values(form, with_slug=True))
        except (ValidationFailed, Conflict) as error:
            flash(f"The {_KINDS[kind]} was not added: {error.message}.", "error")
        else:
            flash(f"{_KINDS[kind].capitalize()} {record.name} added.", "success")
    else:
        flash(f"The {_KINDS[kind]} was not added: it needs a name.", "error")
    return redirect(url_for("catalog.taxonomy_page"))


@bp.post("/taxonomy/categories/<record_id>", defaults={"kind": "categories"})
@bp.post("/taxonomy/series/<record_id>", defaults={"kind": "series"})
@require("taxonomy.manage")
def taxonomy_update(kind: str, record_id: str) -> Response:
    """Rename, describe or move a category or a series."""
    form = TaxonomyForm()
    if form.validate_on_submit():
        update = taxonomy.update_category if kind == "categories" else taxonomy.update_series
        try:
            record = update(db.session, current_caller(), record_id, _taxonomy_values(form))
        except (ValidationFailed, NotFound) as error:
            flash(f"Not changed: {error.message}.", "error")
        else:
            flash(f"{_KINDS[kind].capitalize()} {record.name} saved.", "success")
    else:
        flash("Not changed: a name is required.", "error")
    return redirect(url_for("catalog.taxonomy_page"))


def _taxonomy_values(form: TaxonomyForm, with_slug: bool = False) -> dict[str, object]:
    values: dict[str, object] = {
        "name": form.name.data,
        "description": form.description.data or "",
    }
    if form.position.data is not None:
        values["position"] = form.position.data
    if with_slug and form.slug.data:
        values["slug"] = form.slug.data
    return values
