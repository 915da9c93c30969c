"""Signing in through a company's SAML identity provider in a real browser: our sign-in link
leads to the IdP (pysaml2's, on loopback, another site than ours: "localhost" against our
127.0.0.1), its login form, and back signed in as a new member of the IdP's organisation."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR
from artifact.models import Organization
from artifact.sso.services import providers
from tests.live_server import LiveServer
from tests.saml_idp import SamlIdP

pytestmark = pytest.mark.e2e
Shot = Callable[[Any, str], Any]
DOMAIN = "harbour-saml.test"
ORG = "Harbour Logistics"


def _register(live_server: LiveServer, idp: SamlIdP) -> str:
    with live_server.app.app_context():
        db.session.add(Organization(name=ORG))
        db.session.flush()
        provider = providers.create_provider(
            db.session,
            OPERATOR,
            None,
            {
                "protocol": "saml",
                "name": "Harbour SSO",
                "organization": ORG,
                "domains": [DOMAIN],
                "metadata_xml": idp.metadata_xml,
            },
            production=False,
        )
        uow.commit(db.session)
        provider_id = provider.id
        db.session.remove()
    with urllib.request.urlopen(live_server.url + "/sso/saml/metadata", timeout=10) as sp:  # noqa: S310
        idp.trust_sp(sp.read().decode())
    return provider_id


def test_a_new_member_signs_in_through_the_saml_idp(
    page: Any, live_server: LiveServer, saml_idp: SamlIdP, screenshot: Shot
) -> None:
    provider_id = _register(live_server, saml_idp)
    person = saml_idp.add_user("ruth", f"ruth@{DOMAIN}", "Ruth Langmore")

    # The link a company's people start from (the sign-in page's button is one like it).
    page.goto(f"/sso/saml/{provider_id}/login")
    page.get_by_role("heading", name="Test IdP").wait_for()
    assert page.url.startswith(saml_idp.base_url + "/idp/sso?SAMLRequest=")
    page.get_by_label("Username").fill("ruth")
    page.get_by_label("Password").fill(person.password)
    screenshot(page, "idp-login-form")
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(live_server.url + "/")
    page.get_by_text(f"Signed in as {person.email}.").wait_for()
    assert "You are signed in as Ruth Langmore (customer, Harbour Logistics)." in (
        page.locator("main").inner_text()
    )
    screenshot(page, "signed-in")
    page.goto("/account/")
    facts = page.locator("dl.facts")
    assert person.email in facts.inner_text()
    assert ORG in facts.inner_text()
    assert "Ruth Langmore" in facts.inner_text()
    screenshot(page, "account")
