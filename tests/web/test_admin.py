"""Admin pages: organisations, users, roles, disabling, tokens."""

from __future__ import annotations

from sqlalchemy import select

from artifact.extensions import db
from artifact.identity.services import tokens
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR
from artifact.models import ApiToken, AuditEvent, Organization, User
from tests.conftest import PASSWORD, post_form


def test_admin_creates_an_organisation_and_a_user(client, admin, login_as) -> None:
    login_as(admin)
    response = post_form(client, "/admin/organizations", {"name": "Initech"})
    assert response.status_code == 302
    assert db.session.scalar(select(Organization).where(Organization.name == "Initech"))
    response = post_form(
        client,
        "/admin/users",
        {
            "email": "Peter@Initech.test",
            "name": "Peter",
            "role": "customer",
            "organization": "Initech",
            "org_admin": "y",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "peter@initech.test"))
    assert user.organization.name == "Initech"
    assert user.is_org_admin
    assert "peter@initech.test" in client.get("/admin/").get_data(as_text=True)


def test_admin_form_errors_create_nothing(client, admin, login_as) -> None:
    login_as(admin)
    before = db.session.scalars(select(User)).all()
    response = post_form(
        client,
        "/admin/users",
        {"email": admin.email, "role": "customer", "organization": "", "password": PASSWORD},
    )
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    response = post_form(
        client,
        "/admin/users",
        {
            "email": "x@y.test",
            "role": "customer",
            "organization": "No Such Org",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 400
    assert len(db.session.scalars(select(User)).all()) == len(before)
    response = post_form(client, "/admin/organizations", {"name": "   "})
    assert response.status_code == 400


def test_admin_changes_role_disables_and_revokes(client, admin, customer, login_as) -> None:
    token, raw = tokens.create(db.session, OPERATOR, customer, "ci")
    uow.commit(db.session)
    login_as(admin)
    page = client.get(f"/admin/users/{customer.id}").get_data(as_text=True)
    assert token.prefix in page
    assert (
        post_form(client, f"/admin/users/{customer.id}/role", {"role": "auditor"}).status_code
        == 302
    )
    assert db.session.get(User, customer.id).role == "auditor"
    assert db.session.get(ApiToken, token.id).revoked_at is not None  # by the role change
    token, raw = tokens.create(db.session, OPERATOR, customer, "ci again")
    uow.commit(db.session)
    assert post_form(client, f"/admin/tokens/{token.id}/revoke").status_code == 302
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    assert post_form(client, f"/admin/users/{customer.id}/disable").status_code == 302
    assert db.session.get(User, customer.id).disabled_at is not None
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert {"user.set_role", "token.revoke_all", "token.revoke", "user.disable"} <= set(actions)


def test_admin_cannot_disable_themselves(client, admin, login_as) -> None:
    login_as(admin)
    response = post_form(client, f"/admin/users/{admin.id}/disable", follow_redirects=True)
    assert "cannot disable your own account" in response.get_data(as_text=True)
    assert db.session.get(User, admin.id).disabled_at is None


def test_unknown_user_is_404(client, admin, login_as) -> None:
    login_as(admin)
    assert client.get("/admin/users/nope").status_code == 404


def test_customer_manages_own_tokens_only(client, customer, hostile, login_as) -> None:
    other_token, _raw = tokens.create(db.session, OPERATOR, hostile, "theirs")
    uow.commit(db.session)
    login_as(customer)
    response = post_form(client, "/account/tokens", {"name": "laptop"})
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    assert "shown once" in html
    assert "art_" in html
    mine = db.session.scalars(select(ApiToken).where(ApiToken.user_id == customer.id)).one()
    assert post_form(client, f"/account/tokens/{other_token.id}/revoke").status_code == 404
    assert db.session.get(ApiToken, other_token.id).revoked_at is None
    assert post_form(client, f"/account/tokens/{mine.id}/revoke").status_code == 302
    assert db.session.get(ApiToken, mine.id).revoked_at is not None
