"""OpenID Connect sign-in against a real provider (node's oidc-provider on loopback): just-in-
time provisioning, linking, refusals, our TOTP for staff, sign-out, and the admin API."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select

from artifact.extensions import db
from artifact.models import AuditEvent, ExternalIdentity, User
from tests.conftest import PASSWORD, csrf_token, enroll_mfa, post_form, second_factor_code
from tests.fixtures_oidc import OidcProvider


def _details(action: str) -> list[dict[str, Any]]:
    db.session.expire_all()
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action))
    return [json.loads(row.details) for row in rows]


def _user(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def test_first_sign_in_provisions_in_the_providers_organisation(
    app: Flask, make_user: Any, register_provider: Any, oidc_idp: OidcProvider, sso_sign_in: Any
) -> None:
    make_user("customer", org="Acme Health")
    provider = register_provider(oidc_idp, group_roles={"soc-readers": "auditor"})
    client = app.test_client()
    response = sso_sign_in(
        provider["id"], "Nora.New@acme.test", client, name="Nora New", groups="soc-readers,all"
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "nora.new@acme.test" in home
    user = _user("nora.new@acme.test")
    assert user is not None
    assert user.organization is not None
    assert user.organization.name == "Acme Health"
    assert user.role == "auditor"
    assert user.name == "Nora New"
    assert user.password_hash is None
    link = db.session.scalar(select(ExternalIdentity).where(ExternalIdentity.user_id == user.id))
    assert link is not None
    assert link.subject == "nora.new@acme.test"  # the provider's sub
    [provisioned] = _details("sso.provisioned")
    assert provisioned["role"] == "auditor"
    assert provisioned["groups_mapped"] == ["soc-readers"]
    assert len(_details("sso.sign_in")) == 1
    # Signing in again finds the same account through its subject.
    assert sso_sign_in(provider["id"], "nora.new@acme.test").status_code == 302
    assert db.session.scalar(select(User).where(User.email.like("%nora%"))) is not None
    assert len(_details("sso.provisioned")) == 1
    assert len(_details("sso.sign_in")) == 2


def test_an_address_of_another_domain_is_refused(
    make_user: Any, register_provider: Any, oidc_idp: OidcProvider, sso_sign_in: Any
) -> None:
    make_user("customer", org="Acme Health")
    provider = register_provider(oidc_idp)
    response = sso_sign_in(provider["id"], "eve@elsewhere.test")
    assert response.status_code == 403
    assert "does not sign in for here" in response.get_data(as_text=True)
    assert _user("eve@elsewhere.test") is None
    [refused] = _details("sso.refused")
    assert refused["reason"] == "domain_not_allowed"
    assert refused["domain"] == "elsewhere.test"


def test_an_unverified_address_is_refused(
    make_user: Any, register_provider: Any, oidc_idp: OidcProvider, sso_sign_in: Any
) -> None:
    make_user("customer", org="Acme Health")
    provider = register_provider(oidc_idp)
    response = sso_sign_in(provider["id"], "una@acme.test", email_verified=False)
    assert response.status_code == 403
    assert "did not confirm your e-mail address" in response.get_data(as_text=True)
    assert _user("una@acme.test") is None


def test_an_existing_account_is_linked_once_its_password_is_proven(
    app: Flask, make_user: Any, register_provider: Any, oidc_idp: OidcProvider, sso_sign_in: Any
) -> None:
    carla = make_user("customer", org="Acme Health", email="carla@acme.test")
    provider = register_provider(oidc_idp)
    client = app.test_client()
    response = sso_sign_in(provider["id"], "carla@acme.test", client)
    assert response.headers["Location"] == "/sso/link"
    page = client.get("/sso/link").get_data(as_text=True)
    assert "Link your account to Acme Login" in page
    assert "carla@acme.test" in page
    wrong = post_form(client, "/sso/link", {"password": "not the password"}, token_from="/sso/link")
    assert wrong.status_code == 401
    assert "not the password of this account" in wrong.get_data(as_text=True)
    assert db.session.scalar(select(ExternalIdentity)) is None
    right = post_form(client, "/sso/link", {"password": PASSWORD}, token_from="/sso/link")
    assert right.status_code == 302
    assert "carla@acme.test" in client.get("/").get_data(as_text=True)
    link = db.session.scalar(select(ExternalIdentity))
    assert link is not None
    assert link.user_id == carla.id
    assert [d["by"] for d in _details("sso.linked")] == ["password"]
    assert len(_details("sso.link_required")) == 1
    # From now on the provider signs Carla in directly.
    again = sso_sign_in(provider["id"], "carla@acme.test")
    assert again.headers["Location"] == "/"


def test_a_member_of_another_organisation_is_refused(
    make_user: Any, register_provider: Any, oidc_idp: OidcProvider, sso_sign_in: Any
) -> None:
    make_user("customer", org="Acme Health")
    make_user("customer", org="Evil Corp", email="mallory@acme.test")
    provider = register_provider(oidc_idp)
    response = sso_sign_in(provider["id"], "mallory@acme.test")
    assert response.status_code == 403
    assert "belongs to another organisation" in response.get_data(as_text=True)
    assert [d["reason"] for d in _details("sso.refused")] == ["other_organization"]


def test_require_sso_refuses_the_members_passwords(
    app: Flask, make_user: Any, register_provider: Any, oidc_idp: OidcProvider
) -> None:
    member = make_user("customer", org="Acme Health", email="carla@acme.test")
    # A member whose address is at another domain is refused too (after the password).
    other_domain = make_user("customer", org="Acme Health", email="carla@gmail.test")
    outsider = make_user("customer", org="Evil Corp")
    register_provider(oidc_idp, require_sso=True)
    for user in (member, other_domain):
        client = app.test_client()
        response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 403
        page = response.get_data(as_text=True)
        assert "Your organisation signs in through Acme Login: passwords are not accepted" in page
        assert user.email not in client.get("/").get_data(as_text=True)
    # Someone else's organisation still signs in with a password.
    client = app.test_client()
    response = post_form(client, "/login", {"email": outsider.email, "password": PASSWORD})
    assert response.status_code == 302
    refusals = [d for d in _details("auth.sign_in") if d.get("reason") == "sso_required"]
    assert len(refusals) == 2


def test_staff_still_answer_our_totp_unless_the_providers_mfa_is_trusted(
    app: Flask, make_user: Any, register_provider: Any, oidc_idp: OidcProvider, sso_sign_in: Any
) -> None:
    staff = make_user("staff", org="Acme Health", email="sam@acme.test", mfa=False)
    enroll_mfa(app, staff)
    db.session.commit()
    provider = register_provider(oidc_idp, trust_idp_mfa=True)
    admin_client = app.test_client()
    from tests.conftest import sign_in as password_sign_in

    admin = make_user("admin")
    password_sign_in(admin_client, admin.email)
    linked = admin_client.post(
        f"/api/v1/identity-providers/{provider['id']}/links",
        json={"user": "sam@acme.test", "subject": "sam@acme.test"},
        headers={"X-CSRFToken": csrf_token(admin_client)},
    )
    assert linked.status_code == 201
    # The provider did not assert MFA: our second factor is asked.
    client = app.test_client()
    response = sso_sign_in(provider["id"], "sam@acme.test", client, mfa=False)
    assert response.headers["Location"] == "/login/mfa"
    assert "sam@acme.test" not in client.get("/").get_data(as_text=True)
    code = second_factor_code("sam@acme.test")
    done = post_form(client, "/login/mfa", {"code": code}, token_from="/login/mfa")
    assert done.status_code == 302
    assert "sam@acme.test" in client.get("/").get_data(as_text=True)
    # It did, and the admin trusts it: no TOTP.
    client = app.test_client()
    response = sso_sign_in(provider["id"], "sam@acme.test", client, mfa=True)
    assert response.headers["Location"] == "/"
    assert "sam@acme.test" in client.get("/").get_data(as_text=True)
    trusted = [d["mfa_trusted"] for d in _details("sso.sign_in")]
    assert trusted == [False, True]


def test_an_untrusted_providers_mfa_does_not_skip_our_totp(
    app: Flask, make_user: Any, register_provider: Any, oidc_idp: OidcProvider, sso_sign_in: Any
) -> None:
    make_user("admin", org="Acme Health", email="ada@acme.test")  # enrolled in TOTP
    provider = register_provider(oidc_idp)  # trust_idp_mfa off
    from tests.conftest import sign_in as password_sign_in

    admin_client = app.test_client()
    password_sign_in(admin_client, make_user("admin").email)
    admin_client.post(
        f"/api/v1/identity-providers/{provider['id']}/links",
        json={"user": "ada@acme.test", "subject": "ada@acme.test"},
        headers={"X-CSRFToken": csrf_token(admin_client)},
    )
    response = sso_sign_in(provider["id"], "ada@acme.test", mfa=True)
    assert response.headers["Location"] == "/login/mfa"


def test_a_callback_is_used_once(
    app: Flask, make_user: Any, register_provider: Any, oidc_idp: OidcProvider
) -> None:
    import requests

    from tests.sso.conftest import callback, start_sign_in

    make_user("customer", org="Acme Health")
    provider = register_provider(oidc_idp)
    client = app.test_client()
    back = oidc_idp.sign_in_at_idp(
        requests.Session(), start_sign_in(client, provider["id"]), email="once@acme.test"
    )
    assert callback(client, back).status_code == 302
    again = callback(app.test_client(), back)
    assert again.status_code == 400
    assert "expired or was already used" in again.get_data(as_text=True)


def test_the_email_lookup_leads_to_the_provider_and_sign_out_offers_its_logout(
    app: Flask,
    make_user: Any,
    register_provider: Any,
    oidc_idp: OidcProvider,
    sso_sign_in: Callable[..., Any],
) -> None:
    make_user("customer", org="Acme Health")
    provider = register_provider(oidc_idp)
    client = app.test_client()
    found = post_form(client, "/sso/lookup", {"email": "someone@ACME.test"})
    # A page that moves on by itself (a redirect would break the form-action CSP in a browser).
    assert found.status_code == 200
    page = found.get_data(as_text=True)
    assert "Continue to Acme Login" in page
    target = f"/sso/oidc/{provider['id']}/login"
    assert f'<meta http-equiv="refresh" content="0;url={target}' in page
    assert f'<a class="button" href="{target}' in page
    unknown = post_form(client, "/sso/lookup", {"email": "someone@nowhere.test"})
    assert unknown.headers["Location"].startswith("/login")
    sso_sign_in(provider["id"], "lou@acme.test", client)
    signed_out = post_form(client, "/logout")
    assert signed_out.headers["Location"] == f"/login?signed_out=1&idp={provider['id']}"
    page = client.get(signed_out.headers["Location"]).get_data(as_text=True)
    assert "Also sign out of Acme Login" in page
    logout = client.get(f"/sso/oidc/{provider['id']}/logout")
    assert logout.headers["Location"].startswith(oidc_idp.issuer + "/session/end?client_id=")


def test_a_provisioned_staff_member_enrols_totp_without_a_password(
    app: Flask, make_user: Any, register_provider: Any, oidc_idp: OidcProvider, sso_sign_in: Any
) -> None:
    import re

    import pyotp

    make_user("customer", org="Acme Health")
    provider = register_provider(oidc_idp, group_roles={"trust-team": "staff"})
    client = app.test_client()
    response = sso_sign_in(provider["id"], "stella@acme.test", client, groups="trust-team")
    assert response.headers["Location"] == "/"
    user = _user("stella@acme.test")
    assert user is not None
    assert user.role == "staff"
    # The MFA gate sends staff to enrol; with no password, the fresh SSO sign-in is the proof.
    assert client.get("/").headers["Location"] == "/account/mfa"
    page = client.get("/account/mfa").get_data(as_text=True)
    assert "You signed in through your identity provider just now" in page
    assert "Your password" not in page
    started = post_form(client, "/account/mfa/start", {}, token_from="/account/mfa")
    assert started.status_code == 200
    secret = re.search(r"[A-Z2-7]{32}", started.get_data(as_text=True))
    assert secret is not None
    code = pyotp.TOTP(secret.group(0)).now()
    confirmed = post_form(client, "/account/mfa/confirm", {"code": code}, token_from="/account/mfa")
    assert confirmed.status_code == 200
    assert client.get("/").status_code == 200
