"""Pages: my subscriptions, one-click unsubscribe (RFC 8058) and the job queue (admins)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from artifact.extensions import db
from artifact.models import ReportCategory, ReportSeries, Role
from artifact.notifications.forms import SubscriptionForm
from artifact.notifications.queue_state import queue_state
from artifact.notifications.services import subscriptions
from artifact.web.access import require
from artifact.web.security import current_caller, exempt_from_csrf

bp = Blueprint("notifications", __name__)
# Which of the other notification kinds a role can receive at all.
_STAFF_ONLY = {"access_requests", "evidence", "validity"}
_NOT_FOR_CUSTOMERS = {"engagements"}  # staff and auditors work engagements


def _choices(form: SubscriptionForm) -> None:
    series = db.session.scalars(select(ReportSeries).order_by(ReportSeries.name)).all()
    categories = db.session.scalars(
        select(ReportCategory).order_by(ReportCategory.position, ReportCategory.name)
    ).all()
    form.series.choices = [(s.slug, s.name) for s in series]
    form.categories.choices = [(c.slug, c.name) for c in categories]
    role = current_caller().role
    staff = role in (Role.STAFF, Role.ADMIN)
    form.receive.choices = [
        (group, subscriptions.GROUPS[group])
        for group in subscriptions.MUTABLE
        if (staff or group not in _STAFF_ONLY)
        and (role != Role.CUSTOMER or group not in _NOT_FOR_CUSTOMERS)
    ]


@bp.route("/subscriptions", methods=["GET", "POST"])
@require("subscription.manage")
def subscriptions_page() -> Any:
    """Pick the series and categories to hear about, and the other notifications."""
    caller = current_caller()
    current = subscriptions.get_subscriptions(db.session, caller)
    form = SubscriptionForm()
    _choices(form)
    if form.validate_on_submit():
        offered = {value for value, _label in form.receive.choices}  # type: ignore[union-attr]
        kept = [g for g in current["muted"] if g not in offered]
        muted = kept + [g for g in offered if g not in (form.receive.data or [])]
        subscriptions.put_subscriptions(
            db.session,
            caller,
            {
                "all_reports": bool(form.all_reports.data),
                "series": form.series.data or [],
                "categories": form.categories.data or [],
                "muted": muted,
            },
        )
        flash("Your subscriptions are saved.", "success")
        return redirect(url_for("notifications.subscriptions_page"))
    if request.method == "GET":
        form.all_reports.data = current["all_reports"]
        form.series.data = current["series"]
        form.categories.data = current["categories"]
        form.receive.data = [
            g
            for g, _label in form.receive.choices
            if g not in current["muted"]  # type: ignore[union-attr]
        ]
    return render_template("notifications/subscriptions.html", form=form), (
        400 if form.errors else 200
    )


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> Any:
    """GET: a page to confirm; POST (RFC 8058 one-click, no sign-in, no CSRF token: the signed
    link is the authority and can only turn notifications off): unsubscribed."""
    secret = str(current_app.config["SECRET_KEY"])
    if request.method == "GET":
        _user, group = subscriptions.read_unsubscribe_token(db.session, secret, token)
    else:
        _user, group = subscriptions.unsubscribe(db.session, current_caller(), secret, token)
    page = render_template(
        "notifications/unsubscribe.html",
        group=subscriptions.GROUPS[group],
        done=request.method == "POST",
    )
    response = make_response(page)
    # The link's token must not leak through the Referer header nor stay in a cache.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


exempt_from_csrf("notifications.unsubscribe")


@bp.get("/admin/queue")
@require("notifications.admin")
def queue_page() -> str:
    """Queued and failed jobs, unprocessed outbox events and failed sends."""
    state = queue_state(current_app._get_current_object(), db.session)  # type: ignore[attr-defined]
    return render_template("notifications/queue.html", state=state)
