"""Sign-in and sign-out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from artifact.extensions import db
from artifact.models import UserSession
from artifact.services import sessions
from artifact.web.forms import ActionForm, LoginForm
from artifact.web.security import current_actor, current_session_id

bp = Blueprint("auth", __name__)
GENERIC_FAILURE = "Invalid e-mail or password."


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a relative path on this site, else None (no open redirects)."""
    if not target or len(target) > 2000:
        return None
    if any(ord(c) < 32 or c == "\\" for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """Sign in with e-mail and password."""
    form = LoginForm()
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("main.index"))
    if form.validate_on_submit():
        user = sessions.authenticate(db.session, current_actor(), form.email.data or "",
                                     form.password.data or "")
        if user is not None:
            row, secret = sessions.start(db.session, user, request.remote_addr,
                                         request.headers.get("User-Agent"))
            session.clear()  # no fixation: a fresh cookie for the new identity
            session["sid"] = secret
            session.permanent = True
            login_user(user)
            flash(f"Signed in as {user.email}.", "success")
            return redirect(next_url or url_for("main.index"))
        flash(GENERIC_FAILURE, "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    """Sign out: the server-side session ends, so every copy of the cookie stops working."""
    form = ActionForm()
    form.validate_on_submit()  # CSRF was already checked for every POST
    row_id = current_session_id()
    if row_id is not None:
        row = db.session.get(UserSession, row_id)
        if row is not None:
            sessions.end(db.session, current_actor(), row)
    logout_user()
    session.clear()
    flash("You are signed out.", "success")
    return redirect(url_for("auth.login"))
