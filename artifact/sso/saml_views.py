"""SAML 2.0 sign-in pages: our service provider's metadata, the start of a sign-in at an IdP
(HTTP-Redirect binding), and the assertion consumer service (HTTP-POST binding)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, redirect, request, session, url_for

from artifact.extensions import db
from artifact.sso import saml
from artifact.sso.provisioning import complete_sso_sign_in, refused_page, remember_next
from artifact.sso.saml import SamlRefused, SpSettings
from artifact.sso.services import saml_sign_in
from artifact.sso.services.saml_sign_in import SamlSettings
from artifact.web.ratelimit import sign_in_limit
from artifact.web.security import current_caller, exempt_from_csrf

bp = Blueprint("sso_saml", __name__)

SESSION_KEY = "saml_requests"
KEPT_REQUESTS = 5  # sign-ins started in other tabs stay answerable


def settings() -> SamlSettings:
    """From ARTIFACT_BASE_URL (required in production; else the address of this request)."""
    config = current_app.config
    base = (config.get("BASE_URL") or request.host_url).rstrip("/")
    contexts = config.get("SAML_MFA_CONTEXTS") or saml.DEFAULT_MFA_CONTEXTS
    return SamlSettings(
        sp=SpSettings(
            base_url=base, clock_skew=config["SAML_CLOCK_SKEW"], mfa_contexts=tuple(contexts)
        ),
        request_seconds=config["SAML_REQUEST_SECONDS"],
        metadata_ttl=config["SAML_METADATA_TTL"],
        metadata_timeout=config["SAML_METADATA_TIMEOUT"],
        production=config["ARTIFACT_ENV"] == "production",
    )


@bp.get("/sso/saml/metadata")
def metadata() -> Response:
    """Our SP metadata: the entity id (this URL) and the assertion consumer service."""
    try:
        text = saml.sp_metadata(settings().sp)
    except SamlRefused as refusal:
        return Response(refusal.message, 503, mimetype="text/plain")
    return Response(
        text,
        mimetype="application/samlmetadata+xml",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@bp.get("/sso/saml/<idp_id>/login")
@sign_in_limit
def login(idp_id: str) -> Any:
    """Send the browser to the identity provider with a new AuthnRequest."""
    try:
        request_id, location = saml_sign_in.start(
            db.session, current_caller(), idp_id, settings(), relay_state=""
        )
    except SamlRefused as refusal:
        message = refusal.message.rstrip(".")
        return refused_page(f"This identity provider cannot be used right now: {message}.", 502)
    remember_next(request.args.get("next"))
    started = [r for r in session.get(SESSION_KEY, []) if isinstance(r, str)]
    session[SESSION_KEY] = [*started, request_id][-KEPT_REQUESTS:]
    return redirect(location)


@bp.post("/sso/saml/acs")
@sign_in_limit
def acs() -> Any:
    """The IdP's answer, posted cross-site (so without our session cookie): verified, kept
    under a one-time key, and the browser sent on to finish where its session is read."""
    try:
        _, _, key = saml_sign_in.verify(
            db.session, current_caller(), settings(), request.form.get("SAMLResponse", "")
        )
    except SamlRefused as refusal:
        return refused_page(refusal.message, 400 if refusal.reason == "malformed" else 403)
    response = redirect(url_for("sso_saml.finish", key=key), 303)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/sso/saml/finish")
@sign_in_limit
def finish() -> Any:
    """Sign in (or provision, ask to link, or refuse) the person of the verified answer, if
    this browser started the sign-in."""
    started = [r for r in session.get(SESSION_KEY, []) if isinstance(r, str)]
    try:
        provider, said, request_id = saml_sign_in.finish(
            db.session, current_caller(), request.args.get("key", ""), started
        )
    except SamlRefused as refusal:
        return refused_page(refusal.message, 403)
    session[SESSION_KEY] = [r for r in started if r != request_id]
    outcome = complete_sso_sign_in(
        provider,
        subject=said.subject,
        email=said.email,
        # The IdP is authoritative for the addresses it asserts; the provider's domains (and
        # the organisation's) decide which of them it may sign in.
        email_verified=bool(said.email),
        name=said.name or None,
        groups=said.groups,
        mfa=said.mfa,
    )
    return outcome.response


# The IdP's page posts the answer here cross-site, without our CSRF token: the answer must
# name a request we made (InResponseTo), and the finishing step checks this browser started it.
exempt_from_csrf("sso_saml.acs")


def login_url(idp_id: str, next_url: str | None = None) -> str:
    return url_for("sso_saml.login", idp_id=idp_id, next=next_url)
