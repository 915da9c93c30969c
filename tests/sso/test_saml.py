"""SAML 2.0 sign-in against a real IdP on loopback (pysaml2's, signing with xmlsec1): the
happy path provisions the person in the IdP's organisation; every hostile or stale answer is
refused with a page that says why, an ``sso.refused`` audit event, and no account."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select

from artifact.extensions import db
from artifact.models import AuditEvent, ExternalIdentity, IdentityProvider, User
from tests.fixtures_saml import (
    SAML_DOMAIN,
    SAML_ORG,
    SamlSetup,
    post_answer,
    start_sign_in,
    through_idp_login_page,
)
from tests.saml_idp import MFA_AC, PASSWORD_AC, Answer, SamlIdP

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
}


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _refusal_reasons() -> list[str]:
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "sso.refused").order_by(AuditEvent.seq)
    )
    return [json.loads(e.details)["reason"] for e in events]


def _assert_refused(response: Any, message: str, reason: str, email: str) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == 403, page
    assert message in page
    assert _refusal_reasons()[-1] == reason
    assert _user(email) is None


def _encode(xml: bytes) -> Answer:
    return Answer(acs_url="", saml_response=base64.b64encode(xml).decode(), relay_state="", xml="")


def test_sp_metadata_names_our_entity_and_assertion_consumer_service(client: FlaskClient) -> None:
    response = client.get("/sso/saml/metadata")
    assert response.status_code == 200
    assert response.mimetype == "application/samlmetadata+xml"
    root = etree.fromstring(response.data)
    assert root.get("entityID") == "http://localhost/sso/saml/metadata"
    sp = root.find("md:SPSSODescriptor", NS)
    assert sp.get("WantAssertionsSigned") == "true"
    acs = sp.find("md:AssertionConsumerService", NS)
    assert acs.get("Location") == "http://localhost/sso/saml/acs"
    assert acs.get("Binding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"


def test_first_sign_in_through_the_idp_page_provisions_a_member_of_its_organisation(
    client: FlaskClient, saml: SamlSetup
) -> None:
    person = saml.user("dana", name="Dana Scully")
    idp_url = start_sign_in(client, saml.provider.id)
    assert idp_url.startswith(saml.idp.base_url + "/idp/sso?SAMLRequest=")
    answer = through_idp_login_page(idp_url, "dana", person.password)
    assert answer.acs_url == "http://localhost/sso/saml/acs"

    response = post_answer(client, answer)

    assert response.status_code == 302, response.get_data(as_text=True)
    user = _user(f"dana@{SAML_DOMAIN}")
    assert user is not None
    assert user.organization.name == SAML_ORG
    assert user.role == "customer"
    assert user.name == "Dana Scully"
    link = db.session.scalar(select(ExternalIdentity).where(ExternalIdentity.user_id == user.id))
    assert link is not None
    assert link.subject == person.subject
    assert link.provider_id == saml.provider.id
    home = client.get(response.headers["Location"], follow_redirects=True)
    assert "Dana Scully" in home.get_data(as_text=True)


def test_the_answer_needs_no_session_cookie_the_finishing_step_does(
    app: Any, client: FlaskClient, saml: SamlSetup
) -> None:
    """The IdP's page posts cross-site, so a SameSite=Lax session cookie does not come with
    it: the ACS verifies without it (and sets none), the redirected GET (which carries the
    cookie) finishes in the browser that started."""
    person = saml.user("cross")
    answer = saml.idp.answer(start_sign_in(client, saml.provider.id), person)
    cookieless = app.test_client()
    posted = cookieless.post("/sso/saml/acs", data={"SAMLResponse": answer.saml_response})
    assert posted.status_code == 303
    assert "Set-Cookie" not in posted.headers
    finished = client.get(posted.headers["Location"])
    assert finished.status_code == 302, finished.get_data(as_text=True)
    assert _user(f"cross@{SAML_DOMAIN}") is not None
    again = client.get(posted.headers["Location"])  # the key works once
    assert again.status_code == 403
    assert "no longer valid" in again.get_data(as_text=True)


def test_a_second_sign_in_uses_the_link(client: FlaskClient, saml: SamlSetup) -> None:
    person = saml.user("erin")
    for _ in range(2):
        client.post("/logout", data={})
        answer = saml.idp.answer(start_sign_in(client, saml.provider.id), person)
        assert post_answer(client, answer).status_code == 302
    users = db.session.scalars(select(User).where(User.email == f"erin@{SAML_DOMAIN}")).all()
    assert len(users) == 1


def test_an_admin_configured_provider_with_metadata_xml_signs_in(
    app: Any, client: FlaskClient, saml_idp: Any, make_user: Any, login_as: Any
) -> None:
    admin = make_user("admin")
    make_user("customer", org="Initech SAML", email="boss@initech-saml.test")
    api = login_as(admin)
    created = api.post(
        "/api/v1/identity-providers",
        json={
            "protocol": "saml",
            "name": "Initech IdP",
            "organization": "Initech SAML",
            "domains": ["initech-saml.test"],
            "metadata_xml": saml_idp.metadata_xml,
        },
        headers=_csrf_header(api),
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    provider_id = created.get_json()["id"]
    api.post("/logout", data={}, headers=_csrf_header(api))
    saml_idp.trust_sp(client.get("/sso/saml/metadata").get_data(as_text=True))
    person = saml_idp.add_user("milton", "milton@initech-saml.test", "Milton W")

    answer = saml_idp.answer(start_sign_in(client, provider_id), person)
    response = post_answer(client, answer)

    assert response.status_code == 302, response.get_data(as_text=True)
    user = _user("milton@initech-saml.test")
    assert user is not None
    assert user.organization.name == "Initech SAML"


@pytest.mark.parametrize(
    ("metadata", "says"),
    [
        ("<html>not metadata</html>", "not the metadata of a SAML 2.0 identity provider"),
        (
            '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">&x;'
            "</md:EntityDescriptor>",
            "forbidden constructs",
        ),
    ],
    ids=["not-metadata", "external-entity"],
)
def test_the_admin_api_refuses_metadata_that_is_not_an_idps(
    client: FlaskClient, make_user: Any, login_as: Any, metadata: str, says: str
) -> None:
    api = login_as(make_user("admin"))
    response = api.post(
        "/api/v1/identity-providers",
        json={
            "protocol": "saml",
            "name": "Broken IdP",
            "domains": ["broken-saml.test"],
            "metadata_xml": metadata,
        },
        headers=_csrf_header(api),
    )
    assert response.status_code in (400, 422), response.get_data(as_text=True)
    assert says in response.get_json()["error"]["message"]
    assert db.session.scalar(select(IdentityProvider)) is None


def test_the_admin_page_gives_our_sp_metadata_url(
    client: FlaskClient, make_user: Any, login_as: Any
) -> None:
    page = login_as(make_user("admin")).get("/admin/identity-providers/")
    assert "give the IdP our metadata, <code>http://localhost/sso/saml/metadata</code>" in (
        page.get_data(as_text=True)
    )


def _csrf_header(client: FlaskClient) -> dict[str, str]:
    from tests.conftest import csrf_token

    return {"X-CSRFToken": csrf_token(client)}


def test_a_provider_with_a_metadata_url_fetches_the_idp_metadata(
    client: FlaskClient, saml: SamlSetup
) -> None:
    saml.provider.metadata_xml = None
    saml.provider.metadata_url = saml.idp.entity_id  # the IdP serves its metadata there
    db.session.commit()
    person = saml.user("fox")
    answer = saml.idp.answer(start_sign_in(client, saml.provider.id), person)
    assert post_answer(client, answer).status_code == 302
    assert _user(f"fox@{SAML_DOMAIN}") is not None


def test_in_production_a_metadata_url_on_loopback_is_not_fetched(saml: SamlSetup) -> None:
    from artifact.sso.saml import SamlRefused, SpSettings
    from artifact.sso.services import saml_sign_in

    saml.provider.metadata_xml = None
    saml.provider.metadata_url = saml.idp.entity_id
    settings = saml_sign_in.SamlSettings(sp=SpSettings("https://trust.example"), production=True)
    with pytest.raises(SamlRefused, match="metadata is unavailable"):
        saml_sign_in.provider_metadata(saml.provider, settings)


@pytest.mark.parametrize(
    ("authn_class", "lands_on"),
    [(MFA_AC, "/"), (PASSWORD_AC, "/login/mfa")],
    ids=["idp-did-mfa", "password-only"],
)
def test_staff_skip_our_totp_only_when_the_trusted_idp_asserts_mfa(
    client: FlaskClient, saml: SamlSetup, make_user: Any, authn_class: str, lands_on: str
) -> None:
    person = saml.user("sid")
    staff = make_user("staff", org=SAML_ORG, email=person.email)  # enrolled in our TOTP
    db.session.add(
        ExternalIdentity(provider_id=saml.provider.id, subject=person.subject, user_id=staff.id)
    )
    saml.provider.trust_idp_mfa = True
    db.session.commit()
    answer = saml.idp.answer(
        start_sign_in(client, saml.provider.id), person, authn_class=authn_class
    )
    response = post_answer(client, answer)
    assert response.status_code == 302
    assert response.headers["Location"] == lands_on


# -- refusals ------------------------------------------------------------------------------


def test_an_unsigned_assertion_is_refused(client: FlaskClient, saml: SamlSetup) -> None:
    person = saml.user("u1")
    answer = saml.idp.answer(start_sign_in(client, saml.provider.id), person, sign_assertion=False)
    _assert_refused(post_answer(client, answer), "not signed", "unsigned", f"u1@{SAML_DOMAIN}")


def test_an_assertion_signed_with_sha1_is_refused(client: FlaskClient, saml: SamlSetup) -> None:
    person = saml.user("u9")
    answer = saml.idp.answer(start_sign_in(client, saml.provider.id), person, sha1=True)
    assert "xmldsig#rsa-sha1" in answer.xml  # the IdP did sign, with SHA-1
    _assert_refused(
        post_answer(client, answer), "algorithm we do not accept", "weak_algorithm", person.email
    )


def test_a_signed_response_around_an_unsigned_assertion_is_refused(
    client: FlaskClient, saml: SamlSetup
) -> None:
    person = saml.user("u2")
    answer = saml.idp.answer(
        start_sign_in(client, saml.provider.id), person, sign_assertion=False, sign_response=True
    )
    _assert_refused(post_answer(client, answer), "not signed", "unsigned", f"u2@{SAML_DOMAIN}")


def test_an_assertion_for_another_audience_is_refused(client: FlaskClient, saml: SamlSetup) -> None:
    person = saml.user("u3")
    other_sp = (
        client.get("/sso/saml/metadata")
        .get_data(as_text=True)
        .replace("http://localhost/sso/saml/metadata", "https://other-sp.test/saml")
    )
    saml.idp.trust_sp(other_sp)  # a service provider the same IdP also serves
    answer = saml.idp.answer(
        start_sign_in(client, saml.provider.id), person, audience="https://other-sp.test/saml"
    )
    _assert_refused(
        post_answer(client, answer), "meant for another service", "audience", f"u3@{SAML_DOMAIN}"
    )


def test_an_assertion_sent_to_another_address_is_refused(
    client: FlaskClient, saml: SamlSetup
) -> None:
    person = saml.user("u11")
    answer = saml.idp.answer(
        start_sign_in(client, saml.provider.id),
        person,
        destination="https://elsewhere.test/sso/saml/acs",
    )
    _assert_refused(
        post_answer(client, answer), "sent to another address", "recipient", f"u11@{SAML_DOMAIN}"
    )


def test_an_expired_assertion_is_refused(client: FlaskClient, saml: SamlSetup) -> None:
    person = saml.user("u4")
    answer = saml.idp.answer(start_sign_in(client, saml.provider.id), person, lifetime_minutes=-10)
    _assert_refused(post_answer(client, answer), "has expired", "expired", f"u4@{SAML_DOMAIN}")


def test_a_replayed_response_is_refused(client: FlaskClient, saml: SamlSetup) -> None:
    person = saml.user("u5")
    answer = saml.idp.answer(start_sign_in(client, saml.provider.id), person)
    assert post_answer(client, answer).status_code == 302
    client.post("/logout", data={})
    user = _user(f"u5@{SAML_DOMAIN}")
    assert user is not None

    again = post_answer(client, answer)

    page = again.get_data(as_text=True)
    assert again.status_code == 403, page
    assert "already used" in page
    assert _refusal_reasons()[-1] == "replayed"


def test_a_replay_from_another_browser_is_refused(
    app: Any, client: FlaskClient, saml: SamlSetup
) -> None:
    person = saml.user("u6")
    answer = saml.idp.answer(start_sign_in(client, saml.provider.id), person)
    assert post_answer(client, answer).status_code == 302
    thief = app.test_client()
    start_sign_in(thief, saml.provider.id)  # a sign-in of its own is pending there
    response = post_answer(thief, answer)
    assert response.status_code == 403
    assert _refusal_reasons()[-1] == "replayed"


def test_an_unknown_in_response_to_is_refused(client: FlaskClient, saml: SamlSetup) -> None:
    person = saml.user("u7")
    answer = saml.idp.answer(
        start_sign_in(client, saml.provider.id), person, in_response_to="id-we-never-sent"
    )
    _assert_refused(
        post_answer(client, answer),
        "does not match a sign-in we started",
        "unknown_request",
        f"u7@{SAML_DOMAIN}",
    )


def test_a_signed_assertion_rewrapped_as_the_answer_to_another_request_is_refused(
    client: FlaskClient, saml: SamlSetup
) -> None:
    """Only the assertion is signed: the Response's InResponseTo can be rewritten. The signed
    SubjectConfirmationData names the request the IdP really answered (pysaml2 refuses this
    too; so does our own check)."""
    person = saml.user("u13")
    first = saml.idp.answer(start_sign_in(client, saml.provider.id), person)
    second_request = saml.idp.parse_request(start_sign_in(client, saml.provider.id))["id"]
    root = etree.fromstring(first.xml.encode())
    root.set("InResponseTo", second_request)
    _assert_refused(
        post_answer(client, _encode(etree.tostring(root))),
        "does not match a sign-in we started",
        "unknown_request",
        f"u13@{SAML_DOMAIN}",
    )


def test_an_answer_to_a_sign_in_started_in_another_browser_is_refused(
    app: Any, client: FlaskClient, saml: SamlSetup
) -> None:
    """Login CSRF: an attacker's own valid answer pushed into the victim's browser."""
    person = saml.user("u8")
    attacker = app.test_client()
    answer = saml.idp.answer(start_sign_in(attacker, saml.provider.id), person)
    _assert_refused(
        post_answer(client, answer),
        "started in another browser",
        "other_browser",
        f"u8@{SAML_DOMAIN}",
    )


def _moved_assertion(xml: str, same_id: bool) -> bytes:
    """The classic XSW: the signed assertion moved into the Response's Extensions, an evil
    unsigned copy (another e-mail, same or new ID) where the signed one was."""
    root = etree.fromstring(xml.encode())
    signed = root.find("saml:Assertion", NS)
    evil = copy.deepcopy(signed)
    evil.remove(evil.find("ds:Signature", NS))
    if not same_id:
        evil.set("ID", "id-evil-assertion")
    for value in evil.iter(f"{{{NS['saml']}}}AttributeValue"):
        if value.text and value.text.endswith("@" + SAML_DOMAIN):
            value.text = "ceo@" + SAML_DOMAIN
    root.remove(signed)
    extensions = etree.Element(f"{{{NS['samlp']}}}Extensions")
    extensions.append(signed)
    root.insert(1, extensions)  # after the Issuer, where the schema wants Extensions
    root.append(evil)
    return etree.tostring(root)


def _wrapped_in_evil(xml: str) -> bytes:
    """Another XSW shape: the evil assertion carries the signed one inside its Advice."""
    root = etree.fromstring(xml.encode())
    signed = root.find("saml:Assertion", NS)
    evil = copy.deepcopy(signed)
    evil.remove(evil.find("ds:Signature", NS))
    evil.set("ID", "id-evil-wrapper")
    for value in evil.iter(f"{{{NS['saml']}}}AttributeValue"):
        if value.text and value.text.endswith("@" + SAML_DOMAIN):
            value.text = "ceo@" + SAML_DOMAIN
    root.remove(signed)
    advice = etree.SubElement(evil, f"{{{NS['saml']}}}Advice")
    advice.append(signed)
    root.append(evil)
    return etree.tostring(root)


@pytest.mark.parametrize(
    "attack",
    [
        pytest.param(lambda xml: _moved_assertion(xml, same_id=False), id="moved-new-id"),
        pytest.param(lambda xml: _moved_assertion(xml, same_id=True), id="moved-same-id"),
        pytest.param(_wrapped_in_evil, id="wrapped-in-advice"),
    ],
)
def test_signature_wrapping_is_refused(client: FlaskClient, saml: SamlSetup, attack: Any) -> None:
    person = saml.user("u9")
    genuine = saml.idp.answer(start_sign_in(client, saml.provider.id), person)
    response = post_answer(client, _encode(attack(genuine.xml)))
    _assert_refused(
        response, "structure was tampered with", "signature_wrapping", f"ceo@{SAML_DOMAIN}"
    )
    assert _user(f"u9@{SAML_DOMAIN}") is None


def test_a_tampered_signed_assertion_is_refused(client: FlaskClient, saml: SamlSetup) -> None:
    person = saml.user("u10")
    genuine = saml.idp.answer(start_sign_in(client, saml.provider.id), person)
    forged = genuine.xml.replace(f"u10@{SAML_DOMAIN}", f"ceo@{SAML_DOMAIN}")
    _assert_refused(
        post_answer(client, _encode(forged.encode())),
        "signature does not verify",
        "bad_signature",
        f"ceo@{SAML_DOMAIN}",
    )


def test_an_assertion_signed_with_a_strangers_key_is_refused(
    client: FlaskClient, saml: SamlSetup, tmp_path: Any
) -> None:
    """A forger posing as the IdP (its entity id, its own key and certificate in KeyInfo):
    only the certificate of the IdP's metadata counts."""
    forger = SamlIdP(tmp_path, entity_id=saml.idp.entity_id)
    try:
        forger.trust_sp(client.get("/sso/saml/metadata").get_data(as_text=True))
        victim = forger.add_user("u12", f"ceo@{SAML_DOMAIN}", "Not The CEO")
        login_url = start_sign_in(client, saml.provider.id)
        answer = forger.answer(login_url, victim, parsed=saml.idp.parse_request(login_url))
    finally:
        forger.close()
    _assert_refused(
        post_answer(client, answer),
        "signature does not verify",
        "bad_signature",
        f"ceo@{SAML_DOMAIN}",
    )


def test_xml_with_a_dtd_is_refused_before_anything_is_parsed(
    client: FlaskClient, saml: SamlSetup
) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        b'InResponseTo="x">&b;</samlp:Response>'
    )
    response = post_answer(client, _encode(bomb))
    assert response.status_code == 400
    assert "forbidden constructs" in response.get_data(as_text=True)
    assert _refusal_reasons()[-1] == "malformed"
