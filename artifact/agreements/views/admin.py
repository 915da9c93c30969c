"""Administration of agreements: create them and publish new versions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for

from artifact.agreements.forms import AgreementForm, VersionForm
from artifact.agreements.services import agreements
from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.errors import Conflict, ValidationFailed
from artifact.web.access import require
from artifact.web.input_guard import large_body
from artifact.web.security import current_caller

bp = Blueprint("agreements_admin", __name__, url_prefix="/admin/agreements")

# An agreement's full text (up to 200,000 characters) is more than an ordinary form.
AGREEMENT_BODY_MAX = 2 * 1024 * 1024


def _index(form: AgreementForm | None = None, status: int = 200) -> Any:
    return render_template(
        "agreements_admin/index.html",
        agreements=agreements.list_agreements(db.session, current_caller()),
        form=form or AgreementForm(),
    ), status


@bp.get("/")
@require("agreement.manage")
def index() -> Any:
    """Agreements and a form for a new one."""
    return _index()


@bp.post("/")
@large_body(AGREEMENT_BODY_MAX)
@require("agreement.manage")
def create() -> Any:
    """Create an agreement with its version 1."""
    form = AgreementForm()
    if not form.validate_on_submit():
        flash("The agreement needs a title, a kind and a text.", "error")
        return _index(form, 400)
    try:
        agreement = agreements.create_agreement(
            db.session,
            current_caller(),
            title=form.title.data or "",
            kind=form.kind.data or "",
            text=form.text.data or "",
        )
    except (ValidationFailed, Conflict) as error:
        # A title race fails at the flush: discard it before the page lists the agreements.
        uow.rollback(db.session)
        flash(f"Agreement not created: {error.message}.", "error")
        return _index(form, 400)
    flash(f"{agreement.title} published as version 1.", "success")
    return redirect(url_for("agreements_admin.detail", agreement_id=agreement.id))


def _detail(agreement_id: str, form: VersionForm | None = None, status: int = 200) -> Any:
    agreement = agreements.get_agreement(db.session, current_caller(), agreement_id)
    return render_template(
        "agreements_admin/detail.html",
        agreement=agreement,
        form=form or VersionForm(text=agreement.current.text),
    ), status


@bp.get("/<agreement_id>")
@require("agreement.manage")
def detail(agreement_id: str) -> Any:
    """An agreement's versions and the form to publish the next one."""
    return _detail(agreement_id)


@bp.post("/<agreement_id>/versions")
@large_body(AGREEMENT_BODY_MAX)
@require("agreement.manage")
def publish(agreement_id: str) -> Any:
    """Publish a new version: everyone must accept again."""
    form = VersionForm()
    if not form.validate_on_submit():
        flash("The new version needs a text.", "error")
        return _detail(agreement_id, form, 400)
    try:
        version = agreements.publish_version(
            db.session, current_caller(), agreement_id, form.text.data or ""
        )
    except (ValidationFailed, Conflict) as error:
        # A publishing race fails at the flush: discard it before the page reads the agreement.
        uow.rollback(db.session)
        flash(f"Version not published: {error.message}.", "error")
        return _detail(agreement_id, form, 400)
    flash(f"Version {version.number} published; acceptance is needed again.", "success")
    return redirect(url_for("agreements_admin.detail", agreement_id=agreement_id))
