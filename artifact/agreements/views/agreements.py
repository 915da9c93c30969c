"""Agreement pages: my agreements, read and accept, terminate, certificates, staff register."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from artifact import policy
from artifact.agreements.forms import AcceptForm, TerminateForm
from artifact.agreements.services import acceptance as agreements_accept
from artifact.agreements.services import agreements
from artifact.agreements.services import records as agreement_records
from artifact.agreements.services.text import paragraphs
from artifact.extensions import db
from artifact.kernel.errors import Conflict, PermissionDenied, ValidationFailed
from artifact.models import Agreement
from artifact.web.access import require
from artifact.web.files import CSV, file_response
from artifact.web.links import safe_next
from artifact.web.security import current_caller

bp = Blueprint("agreements", __name__, url_prefix="/agreements")
bp.add_app_template_filter(paragraphs, "paragraphs")


@bp.get("/")
@require("agreement.view")
def index() -> str:
    """My agreements: state, history, certificates, terminate."""
    found = agreements.list_agreements(db.session, current_caller())
    covering = agreements.covering_acceptances(db.session, current_caller(), found)
    rows = [(agreement, covering.get(agreement.id)) for agreement in found]
    return render_template(
        "agreements/index.html",
        rows=rows,
        history=agreement_records.history(db.session, current_caller()),
        terminate_form=TerminateForm(),
    )


def _show(agreement: Agreement, form: AcceptForm | None = None, status: int = 200) -> Any:
    current = agreement.current
    if form is None:
        form = AcceptForm(
            version=str(current.number),
            text_sha256=current.text_sha256,
            next=safe_next(request.args.get("next")) or "",
        )
    if not policy.decide(current_caller(), "agreement.bind_organization"):
        form.scope.choices = form.scope.choices[:1]  # type: ignore[index]
    state = agreements.terms_status(db.session, current_caller(), agreement.id)
    return render_template(
        "agreements/show.html",
        agreement=agreement,
        version=current,
        form=form,
        state=state,
        next_url=safe_next(form.next.data or None),
    ), status


@bp.get("/<agreement_id>")
@require("agreement.view")
def show(agreement_id: str) -> Any:
    """The current text with the accept form (reading never accepts)."""
    return _show(agreements.get_agreement(db.session, current_caller(), agreement_id))


@bp.post("/<agreement_id>/accept")
@require("agreement.accept")
def accept(agreement_id: str) -> Any:
    """Accept the version shown, then continue to ``next``."""
    agreement = agreements.get_agreement(db.session, current_caller(), agreement_id)
    form = AcceptForm()
    if not form.validate_on_submit():
        flash("Type your name and tick the box to accept.", "error")
        return _show(agreement, form, 400)
    try:
        agreements_accept.accept(
            db.session,
            current_caller(),
            agreement.id,
            version=form.version.data,
            typed_name=form.typed_name.data or "",
            scope=form.scope.data or "account",
            user_agent=request.headers.get("User-Agent"),
            shown_sha256=form.text_sha256.data,
        )
    except (ValidationFailed, Conflict, PermissionDenied) as error:
        status = {Conflict: 409, PermissionDenied: 403}.get(type(error), 400)
        flash(f"Not accepted: {error.message}.", "error")
        db.session.expire_all()
        fresh = AcceptForm(
            formdata=None,
            version=str(agreement.current.number),
            text_sha256=agreement.current.text_sha256,
            next=form.next.data,
            typed_name=form.typed_name.data,
        )
        return _show(agreement, fresh, status)
    flash(f"You accepted {agreement.title}, version {agreement.current.number}.", "success")
    return redirect(
        safe_next(form.next.data or None) or url_for("agreements.show", agreement_id=agreement.id)
    )


@bp.post("/<agreement_id>/terminate")
@require("agreement.terminate")
def terminate(agreement_id: str) -> WerkzeugResponse:
    """Terminate my (or my organisation's) acceptance, effective now."""
    form = TerminateForm()
    if not form.validate_on_submit():
        flash("The termination form was incomplete.", "error")
        return redirect(url_for("agreements.index"))
    try:
        ended = agreements_accept.terminate(
            db.session,
            current_caller(),
            agreement_id,
            scope=form.scope.data or "",
            reason=form.reason.data or "",
        )
    except (ValidationFailed, Conflict, PermissionDenied) as error:
        flash(f"Not terminated: {error.message}.", "error")
    else:
        flash(f"Terminated {len(ended)} acceptance(s), effective now.", "success")
    return redirect(url_for("agreements.index"))


@bp.get("/acceptances/<acceptance_id>/certificate.pdf")
@require("acceptance.certificate")
def certificate(acceptance_id: str) -> Response:
    """The acceptance certificate (acceptor and staff)."""
    data, filename = agreement_records.certificate_pdf(db.session, current_caller(), acceptance_id)
    return file_response(data, filename=filename, content_type="application/pdf")


@bp.get("/<agreement_id>/acceptances")
@require("acceptance.list_all")
def register(agreement_id: str) -> str:
    """Every acceptance of an agreement, per version (staff)."""
    agreement, rows = agreement_records.register(db.session, current_caller(), agreement_id)
    by_version = {
        version.number: [r for r in rows if r.version_number == version.number]
        for version in reversed(agreement.versions)
    }
    return render_template("agreements/register.html", agreement=agreement, by_version=by_version)


@bp.get("/<agreement_id>/acceptances.csv")
@require("acceptance.list_all")
def register_csv(agreement_id: str) -> Response:
    """The register as CSV (cells that a spreadsheet would run are neutralised)."""
    data, filename = agreement_records.export_csv(db.session, current_caller(), agreement_id)
    return file_response(data.encode(), filename=filename, content_type=CSV)
