"""Two-factor authentication: enrolment, the sign-in challenge, recovery codes, and the gate
that keeps staff and admins without a second factor out of every page but enrolment."""

from __future__ import annotations

import time
from typing import Any

import qrcode
import qrcode.image.svg
from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup

from artifact.extensions import db, limiter
from artifact.identity.forms import CodeForm, PasswordConfirmForm
from artifact.identity.forms_sign_in import ActionForm
from artifact.identity.services import accounts, mfa, sign_in
from artifact.infra.storage import store_for
from artifact.infra.storage.kek import KeyProvider
from artifact.kernel.errors import PermissionDenied, ValidationFailed
from artifact.models import User
from artifact.web.access import require
from artifact.web.errors import error_response, wants_json
from artifact.web.ratelimit import reauth_limit, sign_in_limit
from artifact.web.security import current_caller

bp = Blueprint("mfa", __name__)
CHALLENGE_SECONDS = 300
MAX_CODE_TRIES = 5
# What a staff member or admin without a second factor may still reach.
OPEN_ENDPOINTS = frozenset(
    {
        "mfa.index",
        "mfa.start",
        "mfa.confirm",
        "auth.logout",
        "static",
        "main.healthz",
        "auth.login",
        "mfa.challenge",
    }
)


def _keyring() -> KeyProvider:
    return store_for(current_app).keyring


def qr_svg(uri: str) -> Markup:
    """The otpauth:// URI as an inline SVG (no script, nothing fetched; the CSP allows it)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    svg = image.to_string(encoding="unicode")
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR code" ', 1))  # noqa: S704


SSO_REAUTH_SECONDS = 900


def _fresh_sso_without_password() -> bool:
    """An account without a password, signed in through its identity provider minutes ago:
    enrolment asks for no password (it has none to give)."""
    signed_in_at = float(session.get("sso_at") or 0)
    return (
        getattr(current_user, "password_hash", "") is None
        and time.time() - signed_in_at < SSO_REAUTH_SECONDS
    )


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(
        "mfa/index.html",
        sso_reauth=_fresh_sso_without_password(),
        enabled=mfa.is_enabled(db.session, current_user),
        required=mfa.required(current_user),
        remaining=mfa.remaining_recovery_codes(db.session, current_user),
        password_form=PasswordConfirmForm(),
        code_form=CodeForm(),
        **context,
    ), status


@bp.get("/account/mfa")
@require("account.view")
def index() -> tuple[str, int]:
    """Two-factor authentication status and enrolment."""
    return _page()


@bp.post("/account/mfa/start")
@require("account.view")
@reauth_limit
def start() -> tuple[str, int]:
    """Re-enter the password, then get a new secret as a QR code."""
    form = PasswordConfirmForm()
    reauthenticated = _fresh_sso_without_password()
    if not reauthenticated and not form.validate_on_submit():
        return _page(400)
    try:
        secret, uri = mfa.begin_enrolment(
            db.session,
            current_caller(),
            current_user,
            form.password.data or "",
            _keyring(),
            reauthenticated=reauthenticated,
        )
    except PermissionDenied as error:
        flash(f"Not started: {error.message}.", "error")
        return _page(403)
    return render_template("mfa/setup.html", secret=secret, qr=qr_svg(uri), form=CodeForm()), 200


@bp.post("/account/mfa/confirm")
@require("account.view")
def confirm() -> tuple[str, int]:
    """Confirm the enrolment with a first code; shows the recovery codes once."""
    form = CodeForm()
    if not form.validate_on_submit():
        return _page(400)
    try:
        codes = mfa.confirm_enrolment(
            db.session, current_caller(), current_user, form.code.data or "", _keyring()
        )
    except ValidationFailed as error:
        flash(f"Not enabled: {error.message}.", "error")
        return _page(400)
    flash("Two-factor authentication is on.", "success")
    return render_template("mfa/recovery_codes.html", codes=codes), 200


@bp.post("/account/mfa/recovery-codes")
@require("account.view")
@reauth_limit
def recovery_codes() -> tuple[str, int]:
    """New recovery codes (the old ones stop working)."""
    form = PasswordConfirmForm()
    if not form.validate_on_submit():
        return _page(400)
    try:
        codes = mfa.regenerate_recovery_codes(
            db.session, current_caller(), current_user, form.password.data or ""
        )
    except (PermissionDenied, ValidationFailed) as error:
        flash(f"No new codes: {error.message}.", "error")
        return _page(403 if isinstance(error, PermissionDenied) else 400)
    return render_template("mfa/recovery_codes.html", codes=codes), 200


@bp.post("/account/mfa/disable")
@require("account.view")
@reauth_limit
def disable() -> Any:
    """Turn two-factor authentication off (customers and auditors only)."""
    form = PasswordConfirmForm()
    if not form.validate_on_submit():
        return _page(400)
    try:
        mfa.disable(db.session, current_caller(), current_user, form.password.data or "")
    except PermissionDenied as error:
        flash(f"Not turned off: {error.message}.", "error")
        return _page(403)
    flash("Two-factor authentication is off.", "success")
    return redirect(url_for("mfa.index"))


def _pending_user() -> User | None:
    user_id, started = session.get("mfa_user"), session.get("mfa_started", 0)
    if not user_id or not session.get("mfa_challenge"):
        return None
    if time.time() - float(started) > CHALLENGE_SECONDS:
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.is_active else None


@bp.route("/login/mfa", methods=["GET", "POST"])
@sign_in_limit
def challenge() -> Any:
    """The second step of signing in: a TOTP code or a recovery code."""
    from artifact.identity.views.auth import _backoff, _throttled_page, finish_sign_in

    user = _pending_user()
    if user is None:
        session.clear()
        flash("Sign in again.", "error")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("mfa/challenge.html", form=form), 200
    wait = sign_in.blocked_for(db.session, user.email, request.remote_addr)
    if wait:
        return _throttled_page(form, wait, "mfa/challenge.html")
    # The tries are counted on the server (the rate-limit store), under the challenge's random
    # id: replaying an older cookie of the same challenge does not give new tries.
    tries_key = f"artifact-mfa-tries/{session['mfa_challenge']}"
    if int(limiter.storage.get(tries_key) or 0) >= MAX_CODE_TRIES:
        return _too_many_codes()
    if mfa.check_second_factor(
        db.session, current_caller(), user, form.code.data or "", _keyring()
    ):
        return finish_sign_in(user, session.get("mfa_next"))
    sign_in.register_failure(db.session, current_caller(), user.email, _backoff())
    if limiter.storage.incr(tries_key, CHALLENGE_SECONDS) >= MAX_CODE_TRIES:
        return _too_many_codes()
    flash("That code is not valid (or was already used).", "error")
    return render_template("mfa/challenge.html", form=form), 401


def _too_many_codes() -> Any:
    session.clear()
    flash("Too many wrong codes; sign in again.", "error")
    return redirect(url_for("auth.login"))


@bp.get("/admin/users/<user_id>/mfa/reset")
@require("user.reset_mfa")
def confirm_admin_reset(user_id: str) -> str:
    """Ask before removing a user's second factor (changes nothing)."""
    user = accounts.get_user(db.session, current_caller(), user_id)
    return render_template(
        "confirm.html",
        confirm_title=f"Reset two-factor authentication of {user.email}?",
        consequences=[
            f"The authenticator app and the recovery codes of {user.display_name} stop working.",
            "Until they enrol again, the account signs in with its password alone"
            + (
                "; their role requires them to enrol again at the next sign-in."
                if mfa.required(user)
                else "."
            ),
            "Do this only after checking who asks, by a channel other than e-mail: a reset "
            "is how an attacker holding the password gets in.",
        ],
        confirm_action=url_for("mfa.admin_reset", user_id=user.id),
        confirm_button="Reset two-factor authentication",
        cancel_url=url_for("admin.user_detail", user_id=user.id),
    )


@bp.post("/admin/users/<user_id>/mfa/reset")
@require("user.reset_mfa")
def admin_reset(user_id: str) -> Any:
    """Remove a user's second factor (lost device); they enrol again."""
    form = ActionForm()
    form.validate_on_submit()
    user = mfa.reset(db.session, current_caller(), user_id)
    flash(f"Two-factor authentication of {user.email} was reset.", "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.before_app_request
def require_second_factor() -> Any:
    """Staff and admins signed in through the browser must enrol before anything else."""
    if request.endpoint in OPEN_ENDPOINTS or request.endpoint is None:
        return None
    if not current_user.is_authenticated or g.get("auth_method") == "token":
        return None
    if not mfa.required(current_user):
        return None
    enabled = g.get("second_factor")  # the session check read it
    if enabled or (enabled is None and mfa.is_enabled(db.session, current_user)):
        return None
    if session.get("mfa_by_idp"):  # signed in through an identity provider trusted for MFA
        return None
    if wants_json():
        return error_response(
            403, "mfa_required", "set up two-factor authentication at /account/mfa first"
        )
    flash("Set up two-factor authentication to continue: your role requires it.", "error")
    return redirect(url_for("mfa.index"))
