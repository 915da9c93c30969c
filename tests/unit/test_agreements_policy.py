"""The agreement rules of the policy: who binds the organisation, who terminates, who reads a
certificate, and which acceptances a list shows."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from artifact import policy
from artifact.agreements.services import acceptance as agreements_accept
from artifact.extensions import db
from artifact.kernel.caller import Caller
from artifact.models import Acceptance
from artifact.policy import Reason, decide
from tests.callers import as_caller


def fake_user(role: str = "customer", **kw: object) -> SimpleNamespace:
    base = dict(
        id="me",
        role=role,
        is_authenticated=True,
        is_active=True,
        organization_id="org-1",
        is_org_admin=False,
    )
    base.update(kw)
    return SimpleNamespace(**base)


def test_only_org_admins_bind_the_organisation() -> None:
    assert decide(as_caller(fake_user(is_org_admin=True)), "agreement.bind_organization")
    plain = decide(as_caller(fake_user()), "agreement.bind_organization")
    assert (plain.allowed, plain.reason) == (False, Reason.NOT_ORG_ADMIN)
    no_org = decide(
        as_caller(fake_user(is_org_admin=True, organization_id=None)), "agreement.bind_organization"
    )
    assert not no_org
    assert decide(as_caller(None), "agreement.bind_organization").reason == Reason.SIGN_IN


@pytest.mark.parametrize(
    ("user", "acceptance", "allowed", "reason"),
    [
        ({}, dict(scope="account", user_id="me"), True, Reason.ALLOWED),
        ({}, dict(scope="account", user_id="other"), False, Reason.NOT_VISIBLE),
        ({"role": "admin"}, dict(scope="account", user_id="other"), False, Reason.NOT_VISIBLE),
        (
            {"is_org_admin": True},
            dict(scope="organization", organization_id="org-1"),
            True,
            Reason.ALLOWED,
        ),
        ({}, dict(scope="organization", organization_id="org-1"), False, Reason.NOT_ORG_ADMIN),
        (
            {"is_org_admin": True},
            dict(scope="organization", organization_id="org-2"),
            False,
            Reason.NOT_VISIBLE,
        ),
    ],
)
def test_terminate_rule(user: dict, acceptance: dict, allowed: bool, reason: str) -> None:
    obj = Acceptance(**{"user_id": "someone", "organization_id": "org-1", **acceptance})
    decision = decide(as_caller(fake_user(**user)), "agreement.terminate", obj)
    assert (decision.allowed, decision.reason) == (allowed, reason)


@pytest.mark.parametrize(
    ("role", "user_id", "allowed"),
    [
        ("customer", "me", True),
        ("customer", "other", False),
        ("auditor", "other", False),
        ("staff", "other", True),
        ("admin", "other", True),
    ],
)
def test_certificate_rule(role: str, user_id: str, allowed: bool) -> None:
    obj = Acceptance(user_id=user_id, scope="account")
    decision = decide(as_caller(fake_user(role)), "acceptance.certificate", obj)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.hides_existence


def test_visible_acceptances_in_sql(nda, make_user) -> None:
    org_admin = make_user("customer", org="Acme Health", org_admin=True)
    member = make_user("customer", org="Acme Health")
    outsider = make_user("customer", org="Globex")
    staff = make_user("staff")
    for user, scope in ((org_admin, "organization"), (member, "account"), (outsider, "account")):
        agreements_accept.accept(
            db.session,
            Caller.of_user(user),
            nda.id,
            version=1,
            typed_name="Carla Customer",
            scope=scope,
        )

    def count(user: object) -> int:
        stmt = policy.visible(select(Acceptance), as_caller(user), Acceptance)
        return db.session.scalar(select(func.count()).select_from(stmt.subquery()))

    assert count(staff) == 3
    assert count(member) == 2  # their own and the organisation's
    assert count(outsider) == 1
    assert count(make_user("customer", org="Acme Health")) == 1  # a newcomer sees the org's
    assert count(None) == 0
