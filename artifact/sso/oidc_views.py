"""OpenID Connect sign-in: the redirect to the provider, its callback, and RP-initiated logout."""

from __future__ import annotations

import hmac
import time
from typing import Any

from flask import Blueprint, current_app, redirect, request, session, url_for
from werkzeug.wrappers import Response

from artifact.extensions import db
from artifact.infra.storage import store_for
from artifact.models import IdentityProvider
from artifact.sso.provisioning import complete_sso_sign_in, refused_page, remember_next
from artifact.sso.services import accounts, oidc, providers
from artifact.web.ratelimit import sign_in_limit
from artifact.web.security import current_caller

bp = Blueprint("sso_oidc", __name__, url_prefix="/sso/oidc")
FLOW_SECONDS = 600  # the provider's sign-in must come back within this
UNREACHABLE = "Your identity provider could not be reached. Try again in a moment."


def callback_url() -> str:
    """The redirect URI to register at the provider (from ARTIFACT_BASE_URL when set)."""
    base = current_app.config.get("BASE_URL")
    if base:
        return str(base) + url_for("sso_oidc.callback")
    return url_for("sso_oidc.callback", _external=True)


def _secret(provider: IdentityProvider) -> str | None:
    try:
        return providers.client_secret(store_for(current_app).keyring, provider)
    except ValueError as error:  # secretbox.MissingKey too: the operator's problem
        current_app.logger.error("the client secret of provider %s: %s", provider.id, error)
        raise oidc.OidcError("misconfigured", "the client secret cannot be opened") from error


def _refuse(provider: IdentityProvider, error: oidc.OidcError, status: int) -> Response:
    accounts.refuse(db.session, current_caller(), provider, error.reason, error.message)
    session.pop("sso_oidc", None)
    if error.reason in ("provider_unreachable", "misconfigured"):
        return refused_page(UNREACHABLE, 502)
    return refused_page(f"Single sign-on refused: {error.message}.", status)


@bp.get("/<idp_id>/login")
@sign_in_limit
def login(idp_id: str) -> Response:
    """Start signing in at the provider (authorization code flow with PKCE)."""
    provider = providers.active_provider(db.session, idp_id, "oidc")
    try:
        url, flow = oidc.begin(provider, _secret(provider), callback_url())
    except oidc.OidcError as error:
        return _refuse(provider, error, 502)
    remember_next(request.args.get("next"))
    session["sso_oidc"] = flow.as_dict()
    response = redirect(url)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/callback")
@sign_in_limit
def callback() -> Any:
    """The provider sends the browser back with a code: redeem it, verify the ID token, and
    sign in (or link, or refuse)."""
    flow = oidc.Flow.from_dict(session.pop("sso_oidc", None))
    if flow is None or time.time() - flow.started > FLOW_SECONDS:
        return refused_page("This sign-in expired or was already used: start again.", 400)
    provider = db.session.get(IdentityProvider, flow.provider_id)
    if provider is None or not provider.is_active or provider.protocol != "oidc":
        return refused_page("This identity provider no longer signs anyone in.", 400)
    state = request.args.get("state", "")
    if not hmac.compare_digest(state.encode(), flow.state.encode()):
        return _refuse(provider, oidc.OidcError("state_mismatch", "the state does not match"), 400)
    answered_by = request.args.get("iss")  # RFC 9207: which issuer answered (mix-up defence)
    if answered_by is not None and answered_by.rstrip("/") != (provider.issuer or "").rstrip("/"):
        error = oidc.OidcError("issuer_mismatch", "another issuer answered")
        return _refuse(provider, error, 403)
    if request.args.get("error"):
        error = oidc.OidcError("provider_error", "your identity provider did not sign you in")
        return _refuse(provider, error, 403)
    code = request.args.get("code", "")
    if not code or len(code) > 2000:
        return _refuse(provider, oidc.OidcError("no_code", "the answer holds no code"), 400)
    try:
        claims = oidc.finish(db.session, provider, _secret(provider), callback_url(), flow, code)
    except oidc.OidcError as error:
        return _refuse(provider, error, 403)
    outcome = complete_sso_sign_in(provider, **oidc.assertion_of(provider, claims))
    if outcome.status == "signed_in":
        session["sso_provider"] = provider.id  # sign-out offers the provider's logout too
    return outcome.response


@bp.get("/<idp_id>/logout")
def logout(idp_id: str) -> Response:
    """RP-initiated logout: sign out at the provider too (offered after signing out here)."""
    provider = providers.active_provider(db.session, idp_id, "oidc")
    target = oidc.logout_url(provider, _login_url())
    return redirect(target or url_for("auth.login", signed_out=1))


def _login_url() -> str:
    base = current_app.config.get("BASE_URL")
    if base:
        return str(base) + url_for("auth.login")
    return url_for("auth.login", _external=True)


def logout_offer(provider_id: str | None) -> dict[str, str] | None:
    """The signed-out page's "also sign out of <provider>" link, when it offers logout."""
    if not provider_id:
        return None
    try:
        provider = providers.active_provider(db.session, provider_id, "oidc")
    except Exception:  # noqa: BLE001 - a stale or forged id: no offer
        return None
    if oidc.logout_url(provider, "x") is None:
        return None
    return {"name": provider.name, "url": url_for("sso_oidc.logout", idp_id=provider.id)}
