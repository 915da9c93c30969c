"""Identity providers managed by admins: the JSON API (never the client secret) and the page."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy import select

from artifact.extensions import db
from artifact.models import AuditEvent, IdentityProvider
from tests.conftest import csrf_token, post_form
from tests.sso.test_provisioning import make_provider

BODY = {
    "protocol": "oidc",
    "name": "Acme Login",
    "organization": "Acme Health",
    "domains": ["Acme.test", "acme-health.test"],
    "issuer": "https://login.acme.test/",
    "client_id": "artifact",
    "client_secret": "do-not-show-me",
    "group_roles": {"trust": "auditor"},
}


def _post(client: Any, body: dict[str, Any]) -> Any:
    return client.post(
        "/api/v1/identity-providers", json=body, headers={"X-CSRFToken": csrf_token(client)}
    )


def test_admins_register_list_and_delete_providers(
    app: Flask, admin: Any, customer: Any, login_as: Any
) -> None:
    client = login_as(admin)
    created = _post(client, BODY)
    assert created.status_code == 201
    body = created.get_json()
    assert body["domains"] == ["acme-health.test", "acme.test"]
    assert body["issuer"] == "https://login.acme.test"
    assert body["has_client_secret"] is True
    assert "do-not-show-me" not in created.get_data(as_text=True)
    listed = client.get("/api/v1/identity-providers")
    assert listed.get_json()["total"] == 1
    assert "do-not-show-me" not in listed.get_data(as_text=True)
    stored = db.session.get(IdentityProvider, body["id"])
    assert stored is not None
    assert "do-not-show-me" not in (stored.client_secret_ciphertext or "")
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "sso.provider_create")
    ).all()
    assert json.loads(event.details)["domains"] == ["acme-health.test", "acme.test"]
    assert "do-not-show-me" not in event.details
    # A domain signs in through one provider only.
    again = _post(client, {**BODY, "domains": ["acme.test"], "name": "Other"})
    assert again.status_code == 409
    assert "acme.test already signs in through" in again.get_json()["error"]["message"]
    deleted = client.delete(
        f"/api/v1/identity-providers/{body['id']}", headers={"X-CSRFToken": csrf_token(client)}
    )
    assert deleted.status_code == 204
    assert client.get("/api/v1/identity-providers").get_json()["total"] == 0
    assert client.get(f"/sso/oidc/{body['id']}/login").status_code == 404


def test_bad_provider_bodies_are_refused_and_nothing_is_stored(
    admin: Any, customer: Any, login_as: Any
) -> None:
    client = login_as(admin)
    cases = [
        ({**BODY, "protocol": "ldap"}, "'protocol' must be 'oidc' or 'saml'"),
        ({**BODY, "domains": []}, "'domains' must be a non-empty list"),
        ({**BODY, "domains": ["not a domain"]}, "is not a domain name"),
        ({**BODY, "issuer": "ftp://x.test"}, "'issuer'"),
        ({**BODY, "client_id": None}, "'client_id' is required"),
        ({**BODY, "organization": "Nobody Inc"}, "no organisation named"),
        ({**BODY, "group_roles": {"g": "root"}}, "'group_roles' must map"),
        ({**BODY, "organization": None, "require_sso": True}, "'require_sso' needs"),
        ({"protocol": "saml", "name": "S", "domains": ["s.test"]}, "metadata_xml"),
    ]
    for body, message in cases:
        response = _post(client, body)
        assert response.status_code == 400, body
        assert message in response.get_json()["error"]["message"], body
    assert db.session.scalar(select(IdentityProvider)) is None


def test_only_admins_manage_providers(app: Flask, staff: Any, login_as: Any) -> None:
    client = login_as(staff)
    assert client.get("/api/v1/identity-providers").status_code == 403
    assert _post(client, BODY).status_code == 403
    assert client.get("/admin/identity-providers/").status_code == 403


def test_the_admin_page_registers_and_deletes_a_provider(
    app: Flask, admin: Any, customer: Any, login_as: Any
) -> None:
    client = login_as(admin)
    page = client.get("/admin/identity-providers/").get_data(as_text=True)
    assert "http://localhost/sso/oidc/callback" in page
    form = {
        "protocol": "oidc",
        "name": "Acme Login",
        "organization": customer.organization_id,
        "domains": "acme.test, acme-health.test",
        "require_sso": "y",
        "group_roles": "trust=auditor",
        "issuer": "https://login.acme.test",
        "client_id": "artifact",
        "client_secret": "page-secret",
    }
    created = post_form(
        client, "/admin/identity-providers/", form, token_from="/admin/identity-providers/"
    )
    assert created.status_code == 302
    page = client.get("/admin/identity-providers/").get_data(as_text=True)
    assert "Acme Login" in page
    assert "acme-health.test, acme.test" in page
    assert "passwords refused" in page
    assert "page-secret" not in page
    provider = db.session.scalar(select(IdentityProvider))
    assert provider is not None
    assert provider.group_roles == {"trust": "auditor"}
    # Without the CSRF token, nothing happens.
    assert client.post(f"/admin/identity-providers/{provider.id}/delete").status_code == 400
    path = f"/admin/identity-providers/{provider.id}/delete"
    assert post_form(client, path, token_from=path).status_code == 302
    db.session.expire_all()
    assert provider.deleted_at is not None


def test_a_listed_provider_shows_on_the_sign_in_page(app: Flask, client: Any) -> None:
    make_provider(app, show_on_sign_in=True, name="Acme Okta")
    make_provider(app, domains=["hidden.test"], name="Quiet Corp IdP")
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in with Acme Okta" in page
    assert "Quiet Corp IdP" not in page
