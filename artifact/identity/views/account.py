"""The signed-in user's own account: password, personal API tokens, signed-in sessions."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from artifact import policy
from artifact.extensions import db
from artifact.identity.forms_sign_in import ActionForm, PasswordChangeForm, TokenForm
from artifact.identity.services import accounts, sessions, tokens
from artifact.kernel.errors import PermissionDenied, ValidationFailed
from artifact.models import ApiToken
from artifact.web.access import require
from artifact.web.ratelimit import reauth_limit
from artifact.web.security import current_caller, current_session_id

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(new_token: str | None = None, status: int = 200) -> tuple[str, int]:
    own_tokens = db.session.scalars(
        policy.visible(select(ApiToken), current_caller(), ApiToken)
        .where(ApiToken.user_id == current_user.id)
        .order_by(ApiToken.created_at.desc())
    ).all()
    config = current_app.config
    own_sessions = sessions.list_active(
        db.session,
        current_caller(),
        idle=config["SESSION_IDLE_TIMEOUT"],
        absolute=config["SESSION_ABSOLUTE_TIMEOUT"],
    )
    return render_template(
        "account/index.html",
        password_form=PasswordChangeForm(),
        token_form=TokenForm(),
        action_form=ActionForm(),
        tokens=own_tokens,
        new_token=new_token,
        sessions=own_sessions,
        current_session_id=current_session_id(),
    ), status


@bp.get("/")
@require("account.view")
def index() -> tuple[str, int]:
    """My account."""
    return _page()


@bp.post("/password")
@require("account.change_password")
@reauth_limit
def change_password() -> Response | tuple[str, int]:
    """Change my password; every other session of mine ends."""
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        if form.current.data and form.new.data:  # only the current one can be too long
            flash("Password not changed: the current password is wrong.", "error")
        else:
            flash("Fill in both password fields.", "error")
        return _page(status=400)
    try:
        accounts.change_password(
            db.session,
            current_caller(),
            current_user,
            form.current.data or "",
            form.new.data or "",
            keep_session_id=current_session_id(),
        )
    except (PermissionDenied, ValidationFailed) as error:
        flash(f"Password not changed: {error.message}.", "error")
        return _page(status=400)
    flash("Password changed; your other sessions were signed out.", "success")
    return redirect(url_for("account.index"))


@bp.post("/tokens")
@require("token.create_own")
def create_token() -> tuple[str, int]:
    """Create a personal API token, shown once."""
    form = TokenForm()
    form.validate_on_submit()
    _token, raw = tokens.create(db.session, current_caller(), current_user, form.name.data or "")
    flash("Token created. Copy it now: it will not be shown again.", "success")
    return _page(new_token=raw, status=201)


@bp.get("/tokens/<token_id>/revoke")
@require("account.view")
def confirm_revoke_token(token_id: str) -> str:
    """Ask before revoking one of my tokens (changes nothing)."""
    token = tokens.get_token(db.session, current_caller(), token_id)
    return render_template(
        "confirm.html",
        confirm_title=f"Revoke your token {token.prefix}\u2026?",
        consequences=[
            f"Programs using the token \u201c{token.name or token.prefix}\u201d get 401 from "
            "now on.",
            "A revoked token cannot be restored; you can create a new one.",
        ],
        confirm_action=url_for("account.revoke_token", token_id=token.id),
        confirm_button="Revoke token",
        cancel_url=url_for("account.index"),
    )


@bp.post("/tokens/<token_id>/revoke")
@require("account.view")
def revoke_token(token_id: str) -> Response:
    """Revoke one of my tokens."""
    tokens.revoke(db.session, current_caller(), token_id)
    flash("Token revoked.", "success")
    return redirect(url_for("account.index"))


@bp.post("/sessions/<session_id>/end")
@require("session.end")
def end_session(session_id: str) -> Response:
    """End one of my sessions; ending this one signs me out here."""
    ActionForm().validate_on_submit()  # CSRF was already checked for every POST
    this_one = session_id == current_session_id()
    sessions.end_own(db.session, current_caller(), session_id)
    if this_one:
        logout_user()
        session.clear()
        flash("This session has ended; you are signed out.", "success")
        return redirect(url_for("auth.login"))
    flash("That session has ended: it is signed out wherever it was.", "success")
    return redirect(url_for("account.index"))
