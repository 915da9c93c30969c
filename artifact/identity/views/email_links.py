"""Sign-up, password reset and e-mail verification through single-use links sent by mail."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user

from artifact.extensions import db
from artifact.identity.forms import (
    ConfirmSignUpForm,
    NewPasswordForm,
    ResetRequestForm,
    SignUpForm,
)
from artifact.identity.forms_sign_in import ActionForm
from artifact.identity.services import email_links as account_tokens
from artifact.identity.services import signup as signups
from artifact.infra.mail import Mailer
from artifact.kernel import uow
from artifact.kernel.errors import ValidationFailed
from artifact.web.access import require
from artifact.web.ratelimit import allow, reset_limit, sign_in_limit
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
    form = ConfirmSignUpForm() if account_tokens.needs_password(db.session, token) else ActionForm()
    if form.validate_on_submit():
        try:
            user = account_tokens.verify_email(
                db.session,
                current_caller(),
                token,
                getattr(form, "password", None) and form.password.data,
            )
        except ValidationFailed as error:
            if not account_tokens.is_live(db.session, token, account_tokens.VERIFY):
                return _no_referrer(render_template("identity/link_invalid.html"), 400)
            flash(f"Not confirmed: {error.message}.", "error")
            return _no_referrer(render_template("identity/verify_email.html", form=form), 400)
        if user.self_registered and not current_user.is_authenticated:
            joined = f" You belong to {user.organization.name}." if user.organization else ""
            flash(f"Your e-mail address is confirmed: sign in.{joined}", "success")
            return redirect(url_for("auth.login"))
        flash("Your e-mail address is confirmed.", "success")
        return redirect(url_for("main.index"))
    if not account_tokens.is_live(db.session, token, account_tokens.VERIFY):
        return _no_referrer(render_template("identity/link_invalid.html"), 400)
    return _no_referrer(render_template("identity/verify_email.html", form=form))


def sign_up_and_mail(email: str, name: str, company: str, password: str) -> None:
    """Sign up (the service) and mail the outcome once committed: a confirmation link for a new
    account, a notice for an address that already has one. Raises ValidationFailed. Mail to
    one address is limited as reset mails are; past it nothing is sent, the answer the same."""
    config = current_app.config
    outcome = signups.sign_up(
        db.session,
        current_caller(),
        email=email,
        name=name,
        company=company,
        password=password,
        block_freemail=config["SIGNUP_BLOCK_FREEMAIL"],
    )
    if outcome is None:
        return
    address_key = hashlib.sha256(outcome.user.email.encode()).hexdigest()
    if not allow(config["RATELIMIT_RESET_ADDRESS"], "signup-address", address_key):
        return
    if outcome.token is not None:
        _send_after_commit(
            outcome.user.email,
            "Confirm your e-mail address to finish signing up for Artifact",
            f"Hello {outcome.user.name},\n\n"
            "Someone (hopefully you) signed up for the Artifact trust center with this "
            "address.\n\nConfirm it here to open your account (the link works once, for 24 "
            f"hours):\n{_link('identity.verify_email', outcome.token)}\n\n"
            "If it was not you, ignore this message: nothing happens without the link.\n",
        )
    else:
        _send_after_commit(
            outcome.user.email,
            "Someone tried to sign up for Artifact with your address",
            "Someone tried to sign up for the Artifact trust center with this address, which "
            "already has an account.\n\n"
            f"If it was you, sign in: {_base_link('auth.login')}\n"
            f"Forgot your password? Choose a new one: {_base_link('identity.reset_request')}\n\n"
            "If it was not you, ignore this message: your account is unchanged.\n",
        )


def _base_link(endpoint: str) -> str:
    base = current_app.config.get("BASE_URL")
    if base:
        return base + url_for(endpoint)
    return url_for(endpoint, _external=True)


@bp.route("/signup", methods=["GET", "POST"])
@sign_in_limit
def signup() -> Any:
    """Create a customer account, confirmed by an e-mailed link; the same answer whether or
    not the address has an account."""
    if not current_app.config["SIGNUP"]:
        abort(404)
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            sign_up_and_mail(
                form.email.data or "",
                form.name.data or "",
                form.company.data or "",
                form.password.data or "",
            )
        except ValidationFailed as error:
            flash(f"Not signed up: {error.message}.", "error")
            return render_template("identity/signup.html", form=form, sent=False), 400
        return render_template("identity/signup.html", form=SignUpForm(), sent=True)
    status = 400 if form.errors else 200
    return render_template("identity/signup.html", form=form, sent=False), status
