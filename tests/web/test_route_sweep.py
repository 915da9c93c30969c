"""Walk every registered route: anonymous callers are sent to sign in (pages) or get 401 (API);
signed-in users of each role get only what the policy grants."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from tests.conftest import csrf_token, sign_in

PUBLIC = {
    "/",
    "/login",
    "/healthz",
    "/static/<path:filename>",
    "/api/v1/openapi.json",
    "/logout",
    # sign-in's second step and the e-mailed links work without a session
    "/login/mfa",
    "/reset",
    "/reset/<token>",
    "/verify-email/<token>",
    # self sign-up (tests/web/test_signup.py)
    "/signup",
    "/api/v1/signup",
    # RFC 8058 one-click unsubscribe: a mail client posts it, signed in or not
    "/unsubscribe/<token>",
    # single sign-on: the flows start signed out (tests/sso/)
    "/sso/lookup",
    "/sso/link",
    "/sso/oidc/<idp_id>/login",
    "/sso/oidc/callback",
    "/sso/saml/metadata",
    "/sso/saml/<idp_id>/login",
    "/sso/saml/acs",
    "/sso/saml/finish",
    "/sso/oidc/<idp_id>/logout",  # after signing out: the provider's own logout
}
# The catalog is open to visitors: what they may not see answers 404 (tests/web/test_catalog_*).
PUBLIC_ROUTES = {
    ("GET", "/catalog/"),
    ("GET", "/catalog/<report_id>"),
    ("GET", "/catalog/<report_id>/download"),
    ("GET", "/api/v1/reports"),
    ("GET", "/api/v1/reports/<report_id>"),
    ("GET", "/api/v1/reports/<report_id>/download"),
    # the taxonomy: category names, and the series of reports listed to the caller
    ("GET", "/api/v1/categories"),
    ("GET", "/api/v1/series"),
    # search too: visitors find public items (tests/web/test_search_policy.py)
    ("GET", "/search"),
    ("GET", "/api/v1/search"),
    # the Atom feed of public catalog changes (tests/web/test_feed.py)
    ("GET", "/feed.atom"),
}


def _concrete(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", "00000000000000000000000000000000", rule)


def _routes(app: Flask) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((method, rule.rule))
    return routes


def test_every_non_public_route_needs_sign_in(app: Flask, client) -> None:
    token = csrf_token(client, "/login")
    checked = 0
    for method, rule in _routes(app):
        if rule in PUBLIC or (method, rule) in PUBLIC_ROUTES:
            continue
        path = _concrete(rule)
        response = client.open(path, method=method, data={"csrf_token": token})
        if rule.startswith("/api/"):
            assert response.status_code == 401, (method, rule, response.status_code)
            assert response.get_json()["error"]["code"] == "unauthenticated"
        else:
            assert response.status_code == 302, (method, rule, response.status_code)
            assert response.headers["Location"].startswith("/login?next="), (method, rule)
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("role", ["customer", "auditor", "staff"])
def test_non_admins_get_no_admin_route(app: Flask, client, make_user, role: str) -> None:
    user = make_user(role)
    sign_in(client, user.email)
    token = csrf_token(client)
    for method, rule in _routes(app):
        if not rule.startswith("/admin"):
            continue
        response = client.open(_concrete(rule), method=method, data={"csrf_token": token})
        assert response.status_code in (403, 404), (method, rule, response.status_code)
