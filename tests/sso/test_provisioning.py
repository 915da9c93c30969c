"""The shared core of single sign-on: what an identity provider's verified answer leads to
(called the way the OIDC and SAML callbacks call it), and what is stored and audited."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy import select

from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.models import AuditEvent, ExternalIdentity, IdentityProvider, Organization, User
from artifact.sso.provisioning import complete_sso_sign_in
from artifact.sso.services import providers


def make_provider(app: Flask, **fields: Any) -> IdentityProvider:
    from artifact.infra.storage import store_for

    body = {
        "protocol": "oidc",
        "name": "Acme Login",
        "organization": "Acme Health",
        "domains": ["acme.test"],
        "issuer": "http://127.0.0.1:9/",
        "client_id": "artifact",
        "client_secret": "s3cret-value",
        **fields,
    }
    if db.session.scalar(select(Organization).where(Organization.name == "Acme Health")) is None:
        db.session.add(Organization(name="Acme Health"))
        db.session.flush()
    provider = providers.create_provider(
        db.session, _admin(), store_for(app).keyring, body, production=False
    )
    uow.commit(db.session)
    return provider


def _admin() -> Caller:
    from artifact.kernel.caller import CallerKind

    return Caller(CallerKind.USER, user_id=None, email="admin@test", role="admin")


def _complete(app: Flask, provider: IdentityProvider, **claims: Any) -> Any:
    defaults = {
        "subject": "sub-1",
        "email": "new.person@acme.test",
        "email_verified": True,
        "name": "New Person",
        "groups": [],
        "mfa": False,
    }
    with app.test_request_context("/sso/oidc/callback", environ_base={"REMOTE_ADDR": "127.0.0.9"}):
        app.preprocess_request()
        outcome = complete_sso_sign_in(provider, **{**defaults, **claims})
        uow.commit(db.session) if outcome.status != "refused" else uow.rollback(db.session)
    return outcome


def _events(action: str) -> list[dict[str, Any]]:
    """The details of each recorded event of ``action``."""
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action))
    return [json.loads(row.details) for row in rows]


def test_first_sign_in_provisions_in_the_providers_organisation(app: Flask) -> None:
    provider = make_provider(app, group_roles={"trust-team": "auditor"})
    outcome = _complete(app, provider, groups=["everyone", "trust-team"])
    assert outcome.status == "signed_in"
    assert outcome.provisioned
    assert outcome.response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new.person@acme.test"))
    assert user is not None
    assert user.organization is not None
    assert user.organization.name == "Acme Health"
    assert user.role == "auditor"
    assert user.password_hash is None
    link = db.session.scalar(select(ExternalIdentity).where(ExternalIdentity.user_id == user.id))
    assert link is not None
    assert link.subject == "sub-1"
    assert [e["role"] for e in _events("sso.provisioned")] == ["auditor"]
    # The second time, the same subject signs in the same account (no second one).
    again = _complete(app, provider, email="new.person@acme.test")
    assert again.status == "signed_in"
    assert not again.provisioned
    assert again.user_id == user.id


def test_another_domain_is_refused_and_recorded(app: Flask) -> None:
    provider = make_provider(app)
    outcome = _complete(app, provider, email="someone@elsewhere.test")
    assert outcome.status == "refused"
    assert outcome.reason == "domain_not_allowed"
    assert outcome.response.status_code == 403
    assert "does not sign in for here" in outcome.response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "someone@elsewhere.test")) is None
    [event] = _events("sso.refused")
    assert event["reason"] == "domain_not_allowed"


def test_an_existing_account_must_prove_its_password(app: Flask, make_user: Any) -> None:
    provider = make_provider(app)
    make_user("customer", org="Acme Health", email="carla@acme.test")
    outcome = _complete(app, provider, email="carla@acme.test")
    assert outcome.status == "link_required"
    assert outcome.response.headers["Location"] == "/sso/link"
    assert db.session.scalar(select(ExternalIdentity)) is None
    assert len(_events("sso.link_required")) == 1


def test_a_user_of_another_organisation_is_refused(app: Flask, make_user: Any) -> None:
    provider = make_provider(app)
    make_user("customer", org="Evil Corp", email="mallory@acme.test")
    outcome = _complete(app, provider, email="mallory@acme.test")
    assert outcome.status == "refused"
    assert outcome.reason == "other_organization"


def test_the_client_secret_is_sealed(app: Flask) -> None:
    from artifact.infra.storage import store_for

    provider = make_provider(app)
    assert provider.client_secret_ciphertext is not None
    assert "s3cret-value" not in provider.client_secret_ciphertext
    assert providers.client_secret(store_for(app).keyring, provider) == "s3cret-value"
    assert "client_secret" not in providers.provider_json(provider)
