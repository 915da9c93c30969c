"""Catalog pages: browse, report detail, download, request access (staff views in
staff.py, on the same blueprint)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from artifact import policy
from artifact.agreements.services import agreements
from artifact.catalog.forms import (
    AccessRequestForm,
    DecisionForm,
    GrantForm,
    StateForm,
    TermsForm,
    UploadForm,
    set_agreement_choices,
)
from artifact.catalog.services import grants, report_terms, reports
from artifact.catalog.views.blueprint import bp
from artifact.catalog.views.serving import serve_report
from artifact.extensions import db
from artifact.kernel.errors import TermsRequired, ValidationFailed
from artifact.models.base import utcnow
from artifact.models.catalog import CATEGORY_LABELS, Category
from artifact.web.access import require
from artifact.web.links import terms_page_url
from artifact.web.ratelimit import download_budget
from artifact.web.security import current_caller


def catalog_filters() -> dict[str, Any]:
    return {
        name: (request.args.get(name) or "").strip()[:200] or None
        for name in ("category", "series", "framework", "q")
    }


@bp.get("/")
@require("report.list")
def index() -> str:
    """Browse the catalog by category and series."""
    filters = catalog_filters()
    found = reports.list_reports(db.session, current_caller(), **filters)
    groups = {c: [r for r in found if r.category == c] for c in Category}
    return render_template(
        "catalog/index.html",
        groups=groups,
        labels=CATEGORY_LABELS,
        filters=filters,
        total=len(found),
        today=utcnow().date(),
        series=sorted({r.series for r in found if r.series}),
        # Only customers see the request form (and pay for its CSRF token).
        request_form=AccessRequestForm()
        if policy.decide(current_caller(), "access_request.create")
        else None,
    )


@bp.get("/<report_id>")
@require("report.view")
def detail(report_id: str) -> str:
    """A report, its versions and what the user still needs."""
    report = reports.get_report(db.session, current_caller(), report_id)
    terms_form = TermsForm(terms_agreement_id=report.terms_agreement_id or "")
    if policy.decide(current_caller(), "report.set_terms", report):
        set_agreement_choices(
            terms_form.terms_agreement_id, agreements.list_agreements(db.session, current_caller())
        )
    return render_template(
        "catalog/detail.html",
        report=report,
        today=utcnow().date(),
        needs_terms=report_terms.needs_terms(db.session, current_caller(), report),
        terms_form=terms_form,
        versions=[v for v in reversed(report.versions) if v.purged_at is None],
        purged=[v for v in report.versions if v.purged_at is not None],
        upload_form=UploadForm(),
        state_form=StateForm(),
        grant_form=GrantForm(),
        request_form=AccessRequestForm(),
        decision_form=DecisionForm(),
    )


@bp.route("/<report_id>/download", methods=["GET", "HEAD"])
@download_budget
@require("report.download")
def download(report_id: str) -> Response:
    """A stamped copy of the latest version (``?version=N`` for another)."""
    return serve_report(report_id, on_terms=_to_terms_page)


def _to_terms_page(error: TermsRequired) -> Response:
    """Show the agreement and its accept form, then come back to this download."""
    return redirect(
        terms_page_url(str(error.details["agreement_id"]), request.full_path.rstrip("?"))
    )


@bp.post("/access-requests")
@require("access_request.create")
def request_access() -> Response:
    """Ask staff for access to a report, a series or a category."""
    form = AccessRequestForm()
    back = request.form.get("report_id") or ""
    target = url_for("catalog.detail", report_id=back) if back else url_for("catalog.index")
    if not form.validate_on_submit():
        flash("The request was not sent: check the fields.", "error")
        return redirect(target)
    try:
        grants.request_access(
            db.session,
            current_caller(),
            report_id=form.report_id.data or None,
            series=form.series.data or None,
            category=form.category.data or None,
            message=form.message.data or "",
        )
    except ValidationFailed as error:
        flash(f"The request was not sent: {error.message}.", "error")
        return redirect(target)
    flash("Your request was sent to the compliance team.", "success")
    return redirect(target)
