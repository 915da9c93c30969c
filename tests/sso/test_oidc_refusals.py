"""ID tokens Artifact must refuse, minted by a second tiny issuer on loopback (a certified
provider never mints them): another audience, expired, a stranger's signature, an old nonce,
the same token replayed. And a rotated signing key, which must still be accepted."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from artifact.extensions import db
from artifact.models import AuditEvent, User
from tests.sso.conftest import callback, start_sign_in
from tests.sso.issuer import BadIssuer


def _refusals() -> list[str]:
    db.session.expire_all()
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sso.refused"))
    return [json.loads(row.details)["reason"] for row in rows]


def _sign_in(app: Flask, provider_id: str, client: Any = None) -> Any:
    client = client or app.test_client()
    authorize = start_sign_in(client, provider_id)
    back = requests.get(authorize, allow_redirects=False, timeout=10).headers["Location"]
    return callback(client, back)


@pytest.fixture
def provider_id(make_user: Any, register_provider: Any, bad_issuer: BadIssuer) -> str:
    make_user("customer", org="Acme Health")
    return str(register_provider(bad_issuer)["id"])


def test_a_good_token_signs_in(app: Flask, provider_id: str, bad_issuer: BadIssuer) -> None:
    response = _sign_in(app, provider_id)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert db.session.scalar(select(User).where(User.email == "tess@acme.test")) is not None


@pytest.mark.parametrize(
    ("mode", "reason", "shown"),
    [
        ("audience", "wrong_audience", "aud"),
        ("expired", "expired", "exp"),
        ("signature", "bad_signature", "signature does not verify"),
    ],
)
def test_a_bad_id_token_is_refused(
    app: Flask, provider_id: str, bad_issuer: BadIssuer, mode: str, reason: str, shown: str
) -> None:
    bad_issuer.mode = mode
    response = _sign_in(app, provider_id)
    assert response.status_code == 403
    assert shown in response.get_data(as_text=True)
    assert _refusals() == [reason]
    assert db.session.scalar(select(User).where(User.email == "tess@acme.test")) is None


def test_a_token_carrying_an_earlier_sign_ins_nonce_is_refused(
    app: Flask, provider_id: str, bad_issuer: BadIssuer
) -> None:
    assert _sign_in(app, provider_id).status_code == 302
    bad_issuer.mode = "old_nonce"
    response = _sign_in(app, provider_id)
    assert response.status_code == 403
    assert _refusals() == ["nonce_mismatch"]


def test_a_replayed_callback_with_its_old_cookie_is_refused(
    app: Flask, provider_id: str, bad_issuer: BadIssuer
) -> None:
    """The session cookie from before the callback, replayed with the same token: the nonce
    was spent."""
    client = app.test_client()
    authorize = start_sign_in(client, provider_id)
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    assert cookie is not None
    back = requests.get(authorize, allow_redirects=False, timeout=10).headers["Location"]
    assert callback(client, back).status_code == 302
    # The attacker's copy: the old cookie, the same state, and (issuer-side) the same token.
    replay = app.test_client()
    replay.set_cookie(name, cookie.value)
    bad_issuer.mode = "reuse"
    bad_issuer.codes["replayed"] = {
        "nonce": bad_issuer.nonces[0],
        "code_challenge_method": "S256",
        "code_challenge": _challenge_of_first_flow(bad_issuer),
    }
    state = back.split("state=")[1]
    response = replay.get("/sso/oidc/callback", query_string={"code": "replayed", "state": state})
    assert response.status_code == 403
    assert _refusals() == ["nonce_replayed"]


def _challenge_of_first_flow(issuer: BadIssuer) -> str:
    return issuer.first_challenge


def test_a_rotated_signing_key_is_fetched_once(
    app: Flask, provider_id: str, bad_issuer: BadIssuer
) -> None:
    assert _sign_in(app, provider_id).status_code == 302
    assert bad_issuer.jwks_fetches == 1
    assert _sign_in(app, provider_id).status_code == 302
    assert bad_issuer.jwks_fetches == 1  # cached
    bad_issuer.rotate("k2")
    response = _sign_in(app, provider_id)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert bad_issuer.jwks_fetches == 2


@pytest.mark.parametrize(
    ("asked", "landed"), [("/catalog/", "/catalog/"), ("https://evil.test/", "/")]
)
def test_the_sign_in_lands_where_it_was_asked_on_this_site_only(
    app: Flask, provider_id: str, asked: str, landed: str
) -> None:
    client = app.test_client()
    authorize = start_sign_in(client, provider_id, next_url=asked)
    back = requests.get(authorize, allow_redirects=False, timeout=10).headers["Location"]
    response = callback(client, back)
    assert response.headers["Location"] == landed


def test_a_tampered_state_is_refused(app: Flask, provider_id: str) -> None:
    client = app.test_client()
    authorize = start_sign_in(client, provider_id)
    back = requests.get(authorize, allow_redirects=False, timeout=10).headers["Location"]
    response = client.get("/sso/oidc/callback", query_string={"code": "x", "state": "forged"})
    assert response.status_code == 400
    assert _refusals() == ["state_mismatch"]
    assert back  # the real answer was never used


def test_an_answer_from_another_issuer_is_refused(app: Flask, provider_id: str) -> None:
    """RFC 9207: the authorization response names its issuer; another one is a mix-up."""
    client = app.test_client()
    authorize = start_sign_in(client, provider_id)
    back = requests.get(authorize, allow_redirects=False, timeout=10).headers["Location"]
    response = client.get(back.split("localhost")[1] + "&iss=https%3A%2F%2Fevil.test")
    assert response.status_code == 403
    assert _refusals() == ["issuer_mismatch"]
