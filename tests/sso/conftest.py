"""Single sign-on fixtures: the real OpenID provider (one per test session), a tiny second
issuer that mints the bad tokens a certified provider never would, and the admin and browser
steps of a sign-in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from artifact.sso.services import oidc
from tests.conftest import csrf_token, sign_in
from tests.fixtures_oidc import OidcProvider, provider_body, running_oidc_provider
from tests.sso.issuer import BadIssuer, running_bad_issuer

CALLBACK = "http://localhost/sso/oidc/callback"


@pytest.fixture(scope="session")
def oidc_idp() -> Iterator[OidcProvider]:
    with running_oidc_provider([CALLBACK], ["http://localhost/login"]) as idp:
        yield idp


@pytest.fixture
def bad_issuer() -> Iterator[BadIssuer]:
    with running_bad_issuer(CALLBACK) as issuer:
        yield issuer


@pytest.fixture(autouse=True)
def _fresh_metadata_cache() -> Iterator[None]:
    oidc.forget_cached()
    yield
    oidc.forget_cached()


@pytest.fixture
def register_provider(app: Flask, make_user: Callable[..., Any]) -> Callable[..., dict[str, Any]]:
    """Register a provider through the admin API, as an admin would; returns its JSON."""
    admin = make_user("admin")

    def do(idp: Any, **fields: Any) -> dict[str, Any]:
        client = app.test_client()
        assert sign_in(client, admin.email).status_code == 302
        response = client.post(
            "/api/v1/identity-providers",
            json=provider_body(idp, **fields),
            headers={"X-CSRFToken": csrf_token(client)},
        )
        assert response.status_code == 201, response.get_json()
        return dict(response.get_json())

    return do


def start_sign_in(client: FlaskClient, provider_id: str, next_url: str | None = None) -> str:
    """Our login step: the URL of the provider's authorization endpoint."""
    query = {"next": next_url} if next_url else {}
    response = client.get(f"/sso/oidc/{provider_id}/login", query_string=query)
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.headers["Location"])


def callback(client: FlaskClient, url: str) -> Any:
    """The browser comes back to us: hand the provider's redirect to our app."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK, url
    return client.get(parts.path, query_string=parts.query)


@pytest.fixture
def sso_sign_in(app: Flask, oidc_idp: OidcProvider) -> Callable[..., Any]:
    """The whole browser journey through the real provider; returns our callback's answer."""

    def do(provider_id: str, email: str, client: FlaskClient | None = None, **idp: Any) -> Any:
        client = client or app.test_client()
        authorize = start_sign_in(client, provider_id)
        back = oidc_idp.sign_in_at_idp(requests.Session(), authorize, email=email, **idp)
        return callback(client, back)

    return do
