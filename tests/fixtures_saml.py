"""The SAML identity provider of the tests (pysaml2's IdP on loopback, one per test session)
and an organisation whose provider it is."""

from __future__ import annotations

import os
import re
import shutil
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR
from artifact.models import IdentityProvider, Organization
from artifact.sso.services import providers, saml_sign_in
from tests.saml_idp import Answer, IdpUser, SamlIdP

SAML_DOMAIN = "acme-saml.test"
SAML_ORG = "Acme SAML Corp"
_INPUT_RE = re.compile(r'<input type=hidden name=(\w+) value="([^"]*)">')
_ACTION_RE = re.compile(r'<form method=post action="([^"]+)">')


REQUIRED = os.environ.get("SSO_REQUIRED") == "1"


@pytest.fixture(scope="session")
def saml_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamlIdP]:
    """pysaml2's IdP on loopback; skipped (failed under SSO_REQUIRED=1) without xmlsec1."""
    if shutil.which("xmlsec1") is None:
        reason = "xmlsec1 is absent (apt-get install xmlsec1): the SAML tests cannot run"
        if REQUIRED:
            pytest.fail(f"{reason}; SSO_REQUIRED=1 says the SSO tests must run", pytrace=False)
        pytest.skip(reason)
    idp = SamlIdP(Path(tmp_path_factory.mktemp("saml-idp")))
    yield idp
    idp.close()


@dataclass
class SamlSetup:
    idp: SamlIdP
    provider: IdentityProvider
    organization: Organization

    def user(
        self, local: str, name: str = "Sam L. User", groups: list[str] | None = None
    ) -> IdpUser:
        return self.idp.add_user(local, f"{local}@{SAML_DOMAIN}", name, groups)


@pytest.fixture
def saml(app: Flask, client: FlaskClient, saml_idp: SamlIdP) -> SamlSetup:
    """An organisation whose members sign in through the test IdP (metadata pasted), and the
    IdP trusting this app's service provider (from its metadata URL)."""
    saml_sign_in.forget_cached()
    org = Organization(name=SAML_ORG)
    db.session.add(org)
    db.session.flush()
    provider = providers.create_provider(
        db.session,
        OPERATOR,
        None,  # no keyring: a SAML provider has no secret
        {
            "protocol": "saml",
            "name": "Acme SAML",
            "organization": SAML_ORG,
            "domains": [SAML_DOMAIN],
            "metadata_xml": saml_idp.metadata_xml,
        },
        production=False,
    )
    uow.commit(db.session)
    saml_idp.trust_sp(client.get("/sso/saml/metadata").get_data(as_text=True))
    return SamlSetup(saml_idp, provider, org)


def start_sign_in(client: FlaskClient, provider_id: str, next_url: str | None = None) -> str:
    """The IdP URL (with the AuthnRequest) our login route sends the browser to."""
    path = f"/sso/saml/{provider_id}/login"
    response = client.get(path if next_url is None else f"{path}?next={next_url}")
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.headers["Location"])


def post_answer(client: FlaskClient, answer: Answer) -> Any:
    """Post the answer as the IdP's page makes the browser do, and follow our redirect to the
    finishing step (the one request that reads the session)."""
    response = client.post(
        "/sso/saml/acs",
        data={"SAMLResponse": answer.saml_response, "RelayState": answer.relay_state},
    )
    if response.status_code == 303:
        assert response.headers["Location"].startswith("/sso/saml/finish?key=")
        return client.get(response.headers["Location"])
    return response


def through_idp_login_page(idp_url: str, username: str, password: str) -> Answer:
    """What a browser does at the IdP: open its sign-in page, post the form, read the
    auto-posting form it answers with (real HTTP to the IdP on loopback)."""
    with urllib.request.urlopen(idp_url, timeout=10) as page:  # noqa: S310 (loopback)
        form = page.read().decode()
    token = dict(_INPUT_RE.findall(form))["token"]
    data = urllib.parse.urlencode(
        {"token": token, "username": username, "password": password}
    ).encode()
    login = urllib.parse.urljoin(idp_url, "/idp/login")
    with urllib.request.urlopen(login, data=data, timeout=10) as page:  # noqa: S310
        posting = page.read().decode()
    fields = {k: unescape(v) for k, v in _INPUT_RE.findall(posting)}
    return Answer(
        acs_url=unescape(_ACTION_RE.findall(posting)[0]),
        saml_response=fields["SAMLResponse"],
        relay_state=fields.get("RelayState", ""),
        xml="",
    )
