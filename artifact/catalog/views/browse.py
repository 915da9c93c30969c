"""Catalog pages: browse, report detail, download, request access (staff views in
staff.py, on the same blueprint)."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from artifact import policy
from artifact.agreements.services import agreements
from artifact.catalog.forms import (
    AccessRequestForm,
    DecisionForm,
    GrantForm,
    ReportDetailsForm,
    StateForm,
    TermsForm,
    UploadForm,
    set_agreement_choices,
    set_report_choices,
)
from artifact.catalog.services import grants, history, holders, report_terms, reports, taxonomy
from artifact.catalog.services.validity import STATUS_LABELS, valid_until
from artifact.catalog.views.blueprint import bp
from artifact.catalog.views.serving import serve_report
from artifact.extensions import db
from artifact.kernel.errors import Conflict, TermsRequired, ValidationFailed
from artifact.models import Report
from artifact.models.base import utcnow
from artifact.models.catalog import RequestState
from artifact.web.access import require
from artifact.web.links import terms_page_url
from artifact.web.ratelimit import download_budget
from artifact.web.security import current_caller
from artifact.web.templating import CSRF_SLOT, with_csrf


def catalog_filters() -> dict[str, Any]:
    return {
        name: (request.args.get(name) or "").strip()[:200] or None
        for name in ("category", "series", "framework", "q", "status")
    }


@bp.get("/")
@require("report.list")
def index() -> str:
    """Browse the catalog by category and series, filtered by framework and status."""
    filters = catalog_filters()
    caller = current_caller()
    # Kept per policy generation (headings only: no query once kept).
    categories = taxonomy.shown_categories(db.session, caller)
    today = utcnow().date()

    def listing() -> tuple[int, Markup]:
        found = reports.list_reports(
            db.session,
            caller,
            **filters,
            today=today,
            include_locked=True,
            public_listing=current_app.config["PUBLIC_LISTING"],
        )
        groups = [(c, [r for r in found.reports if r.category == c.slug]) for c in categories]
        return len(found.reports), Markup(  # noqa: S704  (a template's output, escaped by Jinja)
            render_template(
                "catalog/_groups.html",
                groups=groups,
                locked=found.locked,
                statuses=found.statuses,
                status_labels=STATUS_LABELS,
                valid_until=valid_until,
            )
        )

    # The unfiltered catalog is the same for every caller of one scope until the generation,
    # the day or a grant's expiry changes it: rendered once for them. A filtered one is
    # worked out at each request (its keys come from the query string).
    if any(filters.values()):
        total, shown = listing()
    else:
        total, shown = policy.remember_page(
            db.session, f"catalog:{today.isoformat()}", caller, listing
        )
    return render_template(
        "catalog/index.html",
        categories=categories,
        filters=filters,
        total=total,
        listing=shown,
        status_labels=STATUS_LABELS,
        series=taxonomy.shown_series(db.session, caller),
        # Only customers see the request form (and pay for its CSRF token).
        request_form=AccessRequestForm()
        if policy.decide(current_caller(), "access_request.create")
        else None,
    )


@bp.get("/<report_id>")
@require("report.view")
def detail(report_id: str) -> str:
    """A report, its versions and what the user still needs; for staff, the forms that change
    it, who holds access, recent downloads and its history.

    What a reader sees is the same for their account all day until the policy generation
    changes (reports, versions, grants, agreements and acceptances bump it; a grant's expiry or
    a scheduled termination ends it sooner): rendered once for them and kept, its CSRF slot
    filled at each request."""
    caller = current_caller()
    if not policy.decide(caller, "report.edit"):  # not staff: no part of the page is theirs
        today = utcnow().date().isoformat()
        kept = policy.remember_own_page(
            db.session, f"report:{report_id}:{today}", caller, lambda: _reader_page(report_id)
        )
        if kept is None:
            return _locked_page(_report_or_locked(report_id)[0])
        title, body = kept
        return render_template("catalog/detail.html", title=title, body=with_csrf(body))
    report, locked = _report_or_locked(report_id)
    if locked:
        return _locked_page(report)
    staff = policy.decide(caller, "report.edit", report)
    return render_template(
        "catalog/detail.html",
        title=report.title,
        body=with_csrf(_body(report)),
        report=report,
        **(_staff_parts(report) if staff else {}),
    )


def _report_or_locked(report_id: str) -> tuple[Report, bool]:
    return reports.get_report_or_locked(
        db.session,
        current_caller(),
        report_id,
        public_listing=current_app.config["PUBLIC_LISTING"],
    )


def _reader_page(report_id: str) -> tuple[str, Markup] | None:
    """The report's title and page body for a reader, or None when it is locked for them
    (raises NotFound when they may not know it)."""
    report, locked = _report_or_locked(report_id)
    return None if locked else (report.title, _body(report))


def _body(report: Report) -> Markup:
    """The page's body down to the staff sections, with a CSRF slot in its request form."""
    caller = current_caller()
    return Markup(  # noqa: S704  (a template's output, escaped by Jinja)
        render_template(
            "catalog/_detail_body.html",
            report=report,
            status=reports.report_status(db.session, caller, report),
            status_labels=STATUS_LABELS,
            valid_until=valid_until(report),
            bridge_letters=reports.bridge_letters(db.session, caller, report),
            needs_terms=report_terms.needs_terms(db.session, caller, report),
            versions=[v for v in reversed(report.versions) if v.purged_at is None],
            purged=[v for v in report.versions if v.purged_at is not None],
            # The request form (customers only): its token goes in the slot.
            request_form=AccessRequestForm(meta={"csrf": False})
            if policy.decide(caller, "access_request.create")
            else None,
            csrf_slot=CSRF_SLOT,
        )
    )


def _locked_page(report: Report) -> str:
    """A listed report the caller may ask for but not open: its catalog facts, what is needed
    to open it, and the request form (or a sign-in link for a visitor)."""
    caller = current_caller()
    pending = (
        [
            r
            for r in grants.my_requests(db.session, caller, "pending")
            if r.report_id == report.id or (r.series and r.series == report.series)
        ]
        if policy.decide(caller, "access_request.list_own")
        else []
    )
    return render_template(
        "catalog/locked.html",
        report=report,
        status=reports.report_status(db.session, caller, report),
        status_labels=STATUS_LABELS,
        valid_until=valid_until(report),
        pending=pending[0] if pending else None,
        request_form=AccessRequestForm()
        if policy.decide(caller, "access_request.create")
        else None,
    )


def _staff_parts(report: Report) -> dict[str, Any]:
    """What the staff sections of a report's page show."""
    caller = current_caller()
    form = ReportDetailsForm(
        data={
            **{name: getattr(report, name) for name in reports.EDITABLE},
            "frameworks": ", ".join(report.frameworks or []),
            "bridges_report_id": report.bridges_report_id or "",
        }
    )
    set_report_choices(
        form,
        taxonomy.list_categories(db.session, caller),
        taxonomy.list_series(db.session, caller),
        reports.list_reports(db.session, caller).reports,
        exclude=report.id,
    )
    terms_form = TermsForm(terms_agreement_id=report.terms_agreement_id or "")
    if policy.decide(caller, "report.set_terms", report):
        set_agreement_choices(
            terms_form.terms_agreement_id, agreements.list_agreements(db.session, caller)
        )
    return {
        "edit_form": form,
        "terms_form": terms_form,
        "upload_form": UploadForm(),
        "state_form": StateForm(),
        "grant_form": GrantForm(),
        "decision_form": DecisionForm(),
        "holders": holders.access_holders(db.session, caller, report.id),
        "downloads": holders.recent_downloads(db.session, caller, report.id),
        "changes": history.report_history(db.session, caller, report.id),
    }


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
        created = grants.request_access(
            db.session,
            current_caller(),
            report_id=form.report_id.data or None,
            series=form.series.data or None,
            category=form.category.data or None,
            message=form.message.data or "",
        )
    except Conflict:
        flash(
            "You already asked for this and the request is still pending: "
            "it is listed under My requests.",
            "error",
        )
        return redirect(url_for("catalog.my_requests"))
    except ValidationFailed as error:
        flash(f"The request was not sent: {error.message}.", "error")
        return redirect(target)
    if created.state == RequestState.APPROVED:
        flash(
            f"Access to the {created.scope_label} was approved at once by a standing rule.",
            "success",
        )
        return redirect(target)
    flash(
        "Your request was sent to the compliance team. You can follow it under My requests.",
        "success",
    )
    return redirect(target)


@bp.get("/requests/mine")
@require("access_request.list_own")
def my_requests() -> str:
    """The caller's own requests: what they asked for, when, and what was decided."""
    return render_template(
        "catalog/my_requests.html", requests=grants.my_requests(db.session, current_caller())
    )
