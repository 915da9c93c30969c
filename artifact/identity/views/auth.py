"""Sign-in (password, then the second factor) and sign-out."""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from artifact.extensions import db
from artifact.identity.forms_sign_in import ActionForm, LoginForm
from artifact.identity.services import mfa, sessions, sign_in, signup
from artifact.kernel.errors import Throttled
from artifact.models import User, UserSession
from artifact.web.links import safe_next
from artifact.web.ratelimit import sign_in_limit
from artifact.web.security import current_caller, current_session_id

bp = Blueprint("auth", __name__)
GENERIC_FAILURE = "Invalid e-mail or password."


def _backoff() -> sign_in.Backoff:
    config = current_app.config
    return sign_in.Backoff(config["SIGN_IN_FREE_FAILURES"], config["SIGN_IN_MAX_DELAY_SECONDS"])


def _throttled_page(form: Any, retry_after: int, template: str = "auth/login.html") -> Any:
    flash(f"Too many attempts. Wait {retry_after} seconds and try again.", "error")
    response = make_response(render_template(template, form=form), 429)
    response.headers["Retry-After"] = g.retry_after = str(max(1, retry_after))
    return response


def finish_sign_in(
    user: User, next_url: str | None, *, via_sso: bool = False, mfa_by_idp: bool = False
) -> Response:
    """Every factor passed: open the server-side session under a fresh cookie. ``via_sso``:
    an identity provider vouched for the user just now (an account without a password may then
    enrol its second factor); ``mfa_by_idp``: a provider trusted for it did the multi-factor
    step."""
    sign_in.succeeded(db.session, user.email, request.remote_addr)
    _row, secret = sessions.start(
        db.session, user, request.remote_addr, request.headers.get("User-Agent")
    )
    session.clear()  # no fixation: a fresh cookie for the new identity
    session["sid"] = secret
    if via_sso:
        session["sso_at"] = time.time()
    if mfa_by_idp:
        session["mfa_by_idp"] = True
    session.permanent = True
    login_user(user)
    flash(f"Signed in as {user.email}.", "success")
    return redirect(next_url or url_for("main.index"))


def start_second_factor(user: User, next_url: str | None) -> Response:
    """The first factor passed: ask for the second one (TOTP or a recovery code)."""
    session.clear()
    session["mfa_user"] = user.id
    session["mfa_challenge"] = secrets.token_urlsafe(16)  # its tries: on the server
    session["mfa_started"] = time.time()
    session["mfa_next"] = next_url
    return redirect(url_for("mfa.challenge"))


@bp.route("/login", methods=["GET", "POST"])
@sign_in_limit
def login() -> Any:
    """Sign in with e-mail and password (then the second factor, when the account has one)."""
    form = LoginForm()
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("main.index"))
    if request.method == "GET" and request.args.get("signed_out") == "1":
        flash("You are signed out.", "success")
    if form.validate_on_submit():
        refusal = sign_in.password_refusal(
            db.session, current_caller(), form.email.data or "", None
        )
        if refusal:
            flash(refusal, "error")
            return render_template("auth/login.html", form=form), 403
        try:
            user = sign_in.check_password(
                db.session,
                current_caller(),
                form.email.data or "",
                form.password.data or "",
                _backoff(),
            )
        except Throttled as error:
            return _throttled_page(form, int(str(error.details.get("retry_after", 1))))
        if user is not None and (
            refusal := sign_in.password_refusal(db.session, current_caller(), user.email, user)
        ):
            flash(refusal, "error")
            return render_template("auth/login.html", form=form), 403
        if user is not None and signup.awaiting_confirmation(user):
            flash(
                "Confirm your e-mail address first: open the link we mailed you when you signed "
                "up (it works for 24 hours; sign up again with the same address for a new one).",
                "error",
            )
            return render_template("auth/login.html", form=form), 403
        if user is not None:
            if mfa.is_enabled(db.session, user):
                return start_second_factor(user, next_url)
            return finish_sign_in(user, next_url)
        flash(GENERIC_FAILURE, "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    """Sign out: the server-side session ends, so every copy of the cookie stops working."""
    form = ActionForm()
    form.validate_on_submit()  # CSRF was already checked for every POST
    row_id = current_session_id()
    idp = session.get("sso_provider")  # signed in through single sign-on: offer its logout
    if row_id is not None:
        row = db.session.get(UserSession, row_id)
        if row is not None:
            sessions.end(db.session, current_caller(), row)
    logout_user()
    session.clear()
    # The browser drops what this site left behind (cached pages, cookies, storage), so no
    # cookie can carry the message: the sign-in page says it, asked by the address.
    response = redirect(url_for("auth.login", signed_out=1, idp=idp if idp else None))
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response
