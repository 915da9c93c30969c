"""Admin pages for webhooks: list, register (the secret shown once), deliveries, enable again,
delete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, url_for

from artifact.extensions import db
from artifact.infra.storage import store_for
from artifact.kernel import uow
from artifact.kernel.errors import ValidationFailed
from artifact.web.access import require
from artifact.web.security import current_caller
from artifact.webhooks.forms import ConfirmForm, EndpointForm
from artifact.webhooks.services import endpoints

bp = Blueprint("webhooks_admin", __name__, url_prefix="/admin/webhooks")


def _index(form: EndpointForm | None = None, status: int = 200) -> Any:
    return render_template(
        "webhooks_admin/index.html",
        endpoints=endpoints.list_endpoints(db.session, current_caller()),
        form=form or EndpointForm(),
    ), status


@bp.get("/")
@require("webhook.manage")
def index() -> Any:
    """Registered endpoints and a form for a new one."""
    return _index()


@bp.post("/")
@require("webhook.manage")
def create() -> Any:
    """Register an endpoint and show its secret, this once."""
    form = EndpointForm()
    if not form.validate_on_submit():
        flash("The webhook needs a URL and at least one event.", "error")
        return _index(form, 400)
    try:
        endpoint, secret = endpoints.create_endpoint(
            db.session,
            current_caller(),
            store_for(current_app).keyring,
            url=form.url.data or "",
            events=list(form.events.data or []),
            production=current_app.config["ARTIFACT_ENV"] == "production",
        )
    except ValidationFailed as error:
        uow.rollback(db.session)
        form.url.errors = [error.message]
        flash(f"Webhook not registered: {error.message}.", "error")
        return _index(form, 400)
    # The secret is on this page only: no redirect that could be replayed, never cached.
    response = make_response(
        render_template("webhooks_admin/created.html", endpoint=endpoint, secret=secret), 201
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<endpoint_id>")
@require("webhook.manage")
def detail(endpoint_id: str) -> Any:
    """An endpoint and its delivery log, each try with its answer and duration."""
    caller = current_caller()
    endpoint = endpoints.get_endpoint(db.session, caller, endpoint_id)
    deliveries, total = endpoints.list_deliveries(db.session, caller, endpoint_id)
    return render_template(
        "webhooks_admin/detail.html",
        endpoint=endpoint,
        deliveries=deliveries,
        total=total,
        form=ConfirmForm(),
    )


@bp.get("/<endpoint_id>/delete")
@require("webhook.manage")
def confirm_delete(endpoint_id: str) -> Any:
    """Ask before deleting."""
    endpoint = endpoints.get_endpoint(db.session, current_caller(), endpoint_id)
    return render_template("webhooks_admin/delete.html", endpoint=endpoint, form=ConfirmForm())


@bp.post("/<endpoint_id>/delete")
@require("webhook.manage")
def delete(endpoint_id: str) -> Any:
    """Delete an endpoint; its queued deliveries are cancelled."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash("Not deleted: the form expired; try again.", "error")
        return redirect(url_for("webhooks_admin.confirm_delete", endpoint_id=endpoint_id))
    endpoint = endpoints.delete_endpoint(db.session, current_caller(), endpoint_id)
    flash(f"Webhook {endpoint.url} deleted.", "success")
    return redirect(url_for("webhooks_admin.index"))


@bp.post("/<endpoint_id>/enable")
@require("webhook.manage")
def enable(endpoint_id: str) -> Any:
    """Deliver again to an endpoint that failures disabled."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash("Not enabled: the form expired; try again.", "error")
        return redirect(url_for("webhooks_admin.detail", endpoint_id=endpoint_id))
    endpoint = endpoints.enable_endpoint(db.session, current_caller(), endpoint_id)
    flash(
        f"Webhook {endpoint.url} enabled again: new events will be sent to it. "
        "Events of the time it was disabled are not sent.",
        "success",
    )
    return redirect(url_for("webhooks_admin.detail", endpoint_id=endpoint.id))
