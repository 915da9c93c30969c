"""Single sign-on: identity providers (OpenID Connect, SAML 2.0), linking and just-in-time
provisioning of accounts, and the sign-in flows."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Passwords of organisations that require SSO are refused; the sign-in page lists the
    providers shown there."""
    from artifact.identity.services import sign_in
    from artifact.sso import oidc_views, views

    sign_in.register_password_gate(views.password_gate)
    app.jinja_env.globals["sso_sign_in_providers"] = views.sign_in_providers
    app.jinja_env.globals["sso_logout_offer"] = oidc_views.logout_offer
