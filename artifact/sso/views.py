"""Single sign-on pages shared by the protocols: find the provider of an e-mail address, and
link an existing account to a provider by proving its password."""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from artifact.extensions import db
from artifact.identity.services import mfa, sign_in
from artifact.identity.views.auth import finish_sign_in, start_second_factor
from artifact.kernel.errors import NotFound, Throttled, ValidationFailed
from artifact.models import User
from artifact.models.base import DbSession
from artifact.sso.forms import LinkForm, LookupForm
from artifact.sso.provisioning import LINK_SECONDS
from artifact.sso.services import accounts, providers
from artifact.web.links import safe_next
from artifact.web.ratelimit import sign_in_limit
from artifact.web.security import current_caller

bp = Blueprint("sso", __name__)


def login_url(provider_id: str, protocol: str, next_url: str | None = None) -> str:
    """Where a provider's sign-in starts."""
    endpoint = "sso_oidc.login" if protocol == "oidc" else "sso_saml.login"
    try:
        return url_for(endpoint, idp_id=provider_id, next=safe_next(next_url))
    except BuildError:  # that protocol's flow is not installed
        return url_for("auth.login")


@bp.post("/sso/lookup")
@sign_in_limit
def lookup() -> Any:
    """The sign-in page's "continue with my company's sign-in": an address at a domain of a
    provider goes to that provider."""
    form = LookupForm()
    if form.validate_on_submit():
        provider = providers.provider_for_email(db.session, form.email.data or "")
        if provider is not None:
            # A page that moves on, not a redirect: the page's Content-Security-Policy
            # (form-action 'self') would stop a form's redirect chain at the provider's origin.
            target = login_url(provider.id, provider.protocol, request.args.get("next"))
            return render_template("sso/continue.html", provider=provider, target=target)
    flash("No single sign-on is set up for that address: sign in with your password.", "error")
    return redirect(url_for("auth.login", next=safe_next(request.args.get("next"))))


def _pending() -> tuple[dict[str, Any], User] | None:
    pending = session.get("sso_link")
    if (
        not isinstance(pending, dict)
        or time.time() - float(pending.get("started", 0)) > LINK_SECONDS
    ):
        return None
    user = db.session.get(User, str(pending.get("user")))
    return (pending, user) if user is not None and user.is_active else None


@bp.route("/sso/link", methods=["GET", "POST"])
@sign_in_limit
def link() -> Any:
    """An account with the provider's address exists: its password links it (once)."""
    found = _pending()
    if found is None:
        session.pop("sso_link", None)
        flash("Sign in through your identity provider again.", "error")
        return redirect(url_for("auth.login"))
    pending, user = found
    try:
        provider = providers.active_provider(db.session, str(pending["provider"]))
    except NotFound:
        session.pop("sso_link", None)
        return redirect(url_for("auth.login"))
    form = LinkForm()
    page = {"form": form, "provider": provider, "user": user}
    if not user.password_hash:
        return render_template("sso/link.html", no_password=True, **page), 409
    if not form.validate_on_submit():
        return render_template("sso/link.html", **page), 400 if request.method == "POST" else 200
    backoff = sign_in.Backoff(
        current_app.config["SIGN_IN_FREE_FAILURES"], current_app.config["SIGN_IN_MAX_DELAY_SECONDS"]
    )
    caller = current_caller()
    try:
        proven = sign_in.check_password(
            db.session, caller, user.email, form.password.data or "", backoff
        )
    except Throttled as error:
        flash(f"Too many attempts. {error.message}.", "error")
        return render_template("sso/link.html", **page), 429
    if proven is None or proven.id != user.id:
        flash("That is not the password of this account.", "error")
        return render_template("sso/link.html", **page), 401
    try:
        accounts.link_account(
            db.session, caller, provider, user, str(pending["subject"]), by="password"
        )
    except ValidationFailed as error:
        flash(f"Not linked: {error.message}.", "error")
        return render_template("sso/link.html", **page), 409
    return _sign_in_linked(
        user, provider.trust_idp_mfa and bool(pending.get("mfa")), pending.get("next")
    )


def _sign_in_linked(user: User, mfa_by_idp: bool, next_url: Any) -> Response:
    session.pop("sso_link", None)
    target = safe_next(next_url if isinstance(next_url, str) else None)
    flash("Your account is now linked to your identity provider.", "success")
    if not mfa_by_idp and mfa.is_enabled(db.session, user):
        return start_second_factor(user, target)
    return finish_sign_in(user, target, via_sso=True, mfa_by_idp=mfa_by_idp)


def password_gate(db_session: DbSession, email: str, user: User | None) -> str | None:
    """The message refusing a password when the address's (or the account's) organisation
    signs in through its identity provider only."""
    provider = providers.required_provider(db_session, email, user)
    if provider is None:
        return None
    return (
        f"Your organisation signs in through {provider.name}: passwords are not accepted. "
        f"Use \u201cSign in with {provider.name}\u201d (type your work address under "
        "\u201cSingle sign-on\u201d)."
    )


def sign_in_providers() -> list[dict[str, str]]:
    """The buttons of the sign-in page: providers an admin chose to show there."""
    next_url = safe_next(request.args.get("next"))
    return [
        {"name": p.name, "url": login_url(p.id, p.protocol, next_url)}
        for p in providers.active_providers(db.session)
        if p.show_on_sign_in
    ]
