"""Password reset and e-mail verification through single-use links sent by mail."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, url_for
from flask_login import current_user

from artifact.extensions import db
from artifact.identity.forms import NewPasswordForm, ResetRequestForm
from artifact.identity.forms_sign_in import ActionForm
from artifact.identity.services import email_links as account_tokens
from artifact.infra.mail import Mailer
from artifact.kernel import uow
from artifact.kernel.errors import ValidationFailed
from artifact.web.access import require
from artifact.web.ratelimit import allow, reset_limit
from artifact.web.security import current_caller

bp = Blueprint("identity", __name__)
NEUTRAL = (
    "If an account exists for that address, we have sent it a link to choose a new "
    "password. The link works once, for one hour."
)


def _link(endpoint: str, token: str) -> str:
    base = current_app.config.get("BASE_URL")
    if base:
        return base + url_for(endpoint, token=token)
    return url_for(endpoint, token=token, _external=True)


def _send_after_commit(to: str, subject: str, body: str) -> None:
    """Mail a link once the request has committed its token (never if it rolls back)."""
    mailer = Mailer.from_config(current_app.config)

    def send() -> None:
        mailer.send_later(to, subject, body)

    uow.after_commit(db.session, send)


def _no_referrer(body: str, status: int = 200) -> Any:
    """Pages whose URL holds a token must not leak it through the Referer header, nor stay in
    a cache (a shared computer's back button, a proxy)."""
    response = make_response(body, status)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/reset", methods=["GET", "POST"])
@reset_limit
def reset_request() -> Any:
    """Ask for a password-reset link; the answer is the same for every address."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        email = form.email.data or ""
        # Per address as well as per source: no flood of mail to one inbox from many
        # addresses. Past the limit no mail goes out; the answer stays the same.
        address_key = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        issued = account_tokens.request_reset(
            db.session,
            current_caller(),
            email,
            address_allowed=allow(
                current_app.config["RATELIMIT_RESET_ADDRESS"], "reset-address", address_key
            ),
        )
        if issued is not None:
            user, token = issued
            _send_after_commit(
                user.email,
                "Choose a new Artifact password",
                "Someone (hopefully you) asked to reset the password of this account.\n\n"
                f"Choose a new one here (the link works once, for one hour):\n"
                f"{_link('identity.reset_password', token)}\n\n"
                "If it was not you, ignore this message: your password stays as it is.\n",
            )
        flash(NEUTRAL, "success")
        return render_template("identity/reset_request.html", form=ResetRequestForm(), sent=True)
    return render_template("identity/reset_request.html", form=form, sent=False)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@reset_limit
def reset_password(token: str) -> Any:
    """Choose a new password with a reset link."""
    form = NewPasswordForm()
    if not account_tokens.is_live(db.session, token, account_tokens.RESET):
        return _no_referrer(render_template("identity/link_invalid.html"), 400)
    if form.validate_on_submit():
        try:
            account_tokens.reset_password(
                db.session, current_caller(), token, form.password.data or ""
            )
        except ValidationFailed as error:
            flash(f"Password not changed: {error.message}.", "error")
            return _no_referrer(render_template("identity/reset_password.html", form=form), 400)
        flash("Your password was changed and every session signed out. Sign in again.", "success")
        return redirect(url_for("auth.login"))
    return _no_referrer(render_template("identity/reset_password.html", form=form))


@bp.post("/account/verify-email")
@require("account.view")
def send_verification() -> Any:
    """Send a verification link to my address."""
    ActionForm().validate_on_submit()
    token = account_tokens.request_verification(db.session, current_caller(), current_user)
    if token is not None:
        _send_after_commit(
            current_user.email,
            "Confirm your e-mail address for Artifact",
            f"Confirm this address here (the link works once, for 24 hours):\n"
            f"{_link('identity.verify_email', token)}\n",
        )
    flash("We sent a confirmation link to your address.", "success")
    return redirect(url_for("account.index"))


@bp.route("/verify-email/<token>", methods=["GET", "POST"])
def verify_email(token: str) -> Any:
    """Confirm an address: a button, so a mail scanner fetching the link confirms nothing."""
    form = ActionForm()
    if form.validate_on_submit():
        try:
            account_tokens.verify_email(db.session, current_caller(), token)
        except ValidationFailed:
            return _no_referrer(render_template("identity/link_invalid.html"), 400)
        flash("Your e-mail address is confirmed.", "success")
        return redirect(url_for("main.index"))
    if not account_tokens.is_live(db.session, token, account_tokens.VERIFY):
        return _no_referrer(render_template("identity/link_invalid.html"), 400)
    return _no_referrer(render_template("identity/verify_email.html", form=form))
