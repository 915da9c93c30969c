"""Agreement pages: my agreements, read and accept, terminate, certificates, staff register."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from markupsafe import Markup
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
from artifact.web.templating import CSRF_SLOT, with_csrf

bp = Blueprint("agreements", __name__, url_prefix="/agreements")
bp.add_app_template_filter(paragraphs, "paragraphs")


@bp.get("/")
@require("agreement.view")
def index() -> str:
    """My agreements: state, history, certificates, terminate. The page's body is rendered
    once per account and policy generation (acceptances, terminations, agreements and users
    bump it; a scheduled termination ends it when it takes effect): it holds no form."""
    caller = current_caller()

    def body() -> Markup:
        found = agreements.list_agreements(db.session, caller)
        covering = agreements.covering_acceptances(db.session, caller, found)
        rows = [(agreement, covering.get(agreement.id)) for agreement in found]
        history = agreement_records.history(db.session, caller)
        return Markup(  # noqa: S704  (a template's output, escaped by Jinja)
            render_template("agreements/_index_body.html", rows=rows, history=history)
        )

    policy.require(caller, "agreement.view")
    shown = policy.remember_own_page(db.session, "my_agreements", caller, body)
    return render_template("agreements/index.html", body=shown)


def _signer(agreement: Agreement) -> dict[str, Any]:
    """Who is signing and for whom, as the page states it."""
    caller = current_caller()
    return {
        "name": agreements_accept.signer_name(caller),
        "email": caller.email,
        "organization": caller.organization_name,
        "may_bind": bool(policy.decide(caller, "agreement.bind_organization")),
    }


def _show(agreement: Agreement, form: AcceptForm, status: int) -> Any:
    """The page with ``form`` as posted (its errors shown): never kept."""
    return render_template(
        "agreements/show.html",
        title=agreement.title,
        body=with_csrf(_show_body(agreement, form)),
    ), status


def _fresh_form(agreement: Agreement, next_target: str) -> AcceptForm:
    """The accept form for the current version (its CSRF token goes in the page's slot)."""
    current = agreement.current
    return AcceptForm(
        meta={"csrf": False},
        version=str(current.number),
        text_sha256=current.text_sha256,
        next=next_target,
    )


def _show_body(agreement: Agreement, form: AcceptForm) -> Markup:
    caller = current_caller()
    signer = _signer(agreement)
    if not signer["may_bind"]:
        form.scope.choices = form.scope.choices[:1]  # type: ignore[index]
    covering = agreements.covering_acceptance(db.session, caller, agreement)
    state = agreements.status_of(caller, agreement, covering)
    return Markup(  # noqa: S704  (a template's output, escaped by Jinja)
        render_template(
            "agreements/_show_body.html",
            agreement=agreement,
            version=agreement.current,
            form=form,
            state=state,
            covering=covering if state.satisfied else None,
            signer=signer,
            next_url=safe_next(form.next.data or None),
            csrf_slot=CSRF_SLOT,
        )
    )


@bp.get("/<agreement_id>")
@require("agreement.view")
def show(agreement_id: str) -> Any:
    """The current text with the accept form (reading never accepts). What a caller sees is
    the same until the policy generation changes (agreements, their versions, acceptances and
    terminations bump it; a scheduled termination ends it sooner): rendered once per account
    and ``next`` target and kept, its CSRF slot filled at each request."""
    caller = current_caller()

    next_target = safe_next(request.args.get("next")) or ""

    def page() -> tuple[str, Markup]:
        agreement = agreements.get_agreement(db.session, caller, agreement_id)
        return agreement.title, _show_body(agreement, _fresh_form(agreement, next_target))

    title, body = policy.remember_own_page(
        db.session, f"agreement:{agreement_id}:{next_target}", caller, page
    )
    return render_template("agreements/show.html", title=title, body=with_csrf(body))


@bp.get("/<agreement_id>/print")
@require("agreement.view")
def printable(agreement_id: str) -> str:
    """The current text laid out for paper, with its hash and a place for the record."""
    agreement = agreements.get_agreement(db.session, current_caller(), agreement_id)
    return render_template(
        "agreements/print.html",
        agreement=agreement,
        version=agreement.current,
        signer=_signer(agreement),
    )


@bp.get("/<agreement_id>/text.txt")
@require("agreement.view")
def plain_text(agreement_id: str) -> Response:
    """The current text exactly as hashed (UTF-8), so anyone can check the SHA-256."""
    agreement = agreements.get_agreement(db.session, current_caller(), agreement_id)
    return file_response(
        agreement.current.text.encode("utf-8"),
        filename=f"agreement-{agreement.id}-v{agreement.current.number}.txt",
        content_type="text/plain; charset=utf-8",
        sha256=agreement.current.text_sha256,
    )


def _already_accepted(agreement: Agreement, next_target: str | None) -> WerkzeugResponse | None:
    covering = agreements.covering_acceptance(db.session, current_caller(), agreement)
    if covering is None or covering.version_number != agreement.current.number:
        return None
    when = covering.accepted_at.strftime("%Y-%m-%d %H:%M UTC")
    who = (
        "Your organisation already accepted"
        if covering.scope == "organization"
        else "You already accepted"
    )
    flash(f"{who} this version on {when}.", "info")
    return redirect(
        url_for("agreements.acceptance", acceptance_id=covering.id, next=safe_next(next_target))
    )


@bp.post("/<agreement_id>/accept")
@require("agreement.accept")
def accept(agreement_id: str) -> Any:
    """Accept the version shown, then show the record (which continues to ``next``)."""
    agreement = agreements.get_agreement(db.session, current_caller(), agreement_id)
    form = AcceptForm()
    if not form.validate_on_submit():
        flash("Type your name and tick the box to accept.", "error")
        return _show(agreement, form, 400)
    if form.version.data == str(agreement.current.number) and (
        done := _already_accepted(agreement, form.next.data)
    ):
        return done
    try:
        acceptance = agreements_accept.accept(
            db.session,
            current_caller(),
            agreement.id,
            version=form.version.data,
            typed_name=form.typed_name.data or "",
            scope=form.scope.data or "account",
            user_agent=request.headers.get("User-Agent"),
            shown_sha256=form.text_sha256.data,
        )
    except agreements_accept.NameMismatch:
        expected = agreements_accept.signer_name(current_caller())
        form.typed_name.errors = [
            f"Type your name as it is on your account: \u201c{expected}\u201d "
            "(case and spacing do not matter)."
        ]
        flash("Not accepted: the typed name is not the name on your account.", "error")
        db.session.expire_all()
        return _show(agreement, form, 400)
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
        url_for(
            "agreements.acceptance",
            acceptance_id=acceptance.id,
            next=safe_next(form.next.data or None),
        )
    )


@bp.get("/acceptances/<acceptance_id>")
@require("acceptance.certificate")
def acceptance(acceptance_id: str) -> str:
    """The record of one acceptance (acceptor and staff), with the way on to ``next``."""
    row = agreement_records.get_acceptance(
        db.session, current_caller(), acceptance_id, "acceptance.certificate"
    )
    return render_template(
        "agreements/accepted.html",
        row=row,
        next_url=safe_next(request.args.get("next")),
    )


@bp.get("/<agreement_id>/terminate")
@require("agreement.terminate")
def confirm_terminate(agreement_id: str) -> str:
    """Ask before terminating: names what stops working (changes nothing)."""
    agreement = agreements.get_agreement(db.session, current_caller(), agreement_id)
    scope = request.args.get("scope", "account")
    if scope not in ("account", "organization"):
        raise ValidationFailed("unknown scope")
    organization = current_caller().organization_name or "your organisation"
    whom = f"every member of {organization}" if scope == "organization" else "you"
    gated = agreement_records.gated_reports(db.session, current_caller(), agreement.id)
    consequences = [
        f"The acceptance of {agreement.title} ends for {whom}, effective now"
        + (", including people who join later." if scope == "organization" else "."),
        (
            "Downloads that need this agreement stop until it is accepted again: "
            + "; ".join(gated)
            + "."
            if gated
            else "Reports that need this agreement cannot be downloaded until it is accepted again."
        ),
        "The acceptance record and its certificate are kept; the termination is a new record. "
        "It cannot be undone, but the agreement can be accepted again.",
    ]
    return render_template(
        "agreements/confirm_terminate.html",
        confirm_title=f"Terminate {agreement.title}"
        + (f" for {organization}" if scope == "organization" else "")
        + "?",
        consequences=consequences,
        confirm_action=url_for("agreements.terminate", agreement_id=agreement.id),
        confirm_button=f"Terminate {agreement.title}",
        cancel_url=url_for("agreements.index"),
        hidden={"scope": scope},
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
