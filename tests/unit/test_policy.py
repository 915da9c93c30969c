"""The access policy as a matrix: role x action -> decision, plus the query filter."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from artifact import policy
from artifact.extensions import db
from artifact.kernel.caller import OPERATOR
from artifact.models import ApiToken, Organization, User
from artifact.policy import Reason, decide
from tests.callers import as_caller
from tests.unit.test_policy_catalog import CATALOG_EXPECTED
from tests.unit.test_policy_evidence import EVIDENCE_EXPECTED

ROLES = ["customer", "auditor", "staff", "admin"]
# action -> roles that hold it (with no object). Anything not listed is denied to everyone.
EXPECTED = {
    "account.view": {"customer", "auditor", "staff", "admin"},
    "account.change_password": {"customer", "auditor", "staff", "admin"},
    "token.create_own": {"customer", "auditor", "staff", "admin"},
    "session.end": {"customer", "auditor", "staff", "admin"},  # each: own sessions only
    "admin.area": {"admin"},
    "organization.create": {"admin"},
    "organization.manage": {"admin"},
    "user.create": {"admin"},
    "user.set_role": {"admin"},
    "user.disable": {"admin"},
    "token.revoke_any": {"admin"},
    "framework.view": {"customer", "auditor", "staff", "admin"},
    "framework.import": {"staff", "admin"},
    "framework.export": {"staff", "admin"},
    "analytics.view": {"staff", "admin"},  # downloads and acceptances by report, org, week
}
EXPECTED |= {
    "agreement.view": {"customer", "auditor", "staff", "admin"},
    "agreement.accept": {"customer", "auditor", "staff", "admin"},
    "agreement.terminate": {"customer", "auditor", "staff", "admin"},
    "acceptance.certificate": {"customer", "auditor", "staff", "admin"},
    "acceptance.list_all": {"staff", "admin"},
    "agreement.manage": {"admin"},
    "audit.view": {"admin"},
    "audit.verify": {"admin"},
    "audit.export": {"admin"},
    "audit.checkpoint": {"admin"},
    "user.reset_mfa": {"admin"},
    "webhook.manage": {"admin"},
    # single sign-on: identity providers and account links
    "identity_provider.manage": {"admin"},
    # notifications: one's own subscriptions; the job queue's state
    "subscription.manage": {"customer", "auditor", "staff", "admin"},
    "notifications.admin": {"admin"},
}


def fake_user(role: str, **kw: object) -> SimpleNamespace:
    base = dict(
        id=f"{role}-id",
        role=role,
        is_authenticated=True,
        is_active=True,
        organization_id="org-1",
        is_org_admin=False,
    )
    base.update(kw)
    return SimpleNamespace(**base)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_role_matrix(role: str, action: str) -> None:
    decision = decide(as_caller(fake_user(role)), action)
    assert decision.allowed is (role in EXPECTED[action])
    if not decision.allowed:
        assert decision.reason == Reason.ROLE


def test_a_session_is_ended_by_its_own_user_only() -> None:
    from artifact.models import UserSession

    mine = UserSession(user_id="customer-id")
    assert decide(as_caller(fake_user("customer")), "session.end", mine).allowed
    for other in ("admin", "staff"):
        denied = decide(as_caller(fake_user(other)), "session.end", mine)
        assert denied.reason == Reason.NOT_VISIBLE


def test_table_has_no_unexpected_grants() -> None:
    from tests.unit.test_policy_engagements import ENGAGEMENT_EXPECTED

    object_rules_only = {"user.view", "token.revoke", "agreement.bind_organization"}
    assert set(EXPECTED) | set(CATALOG_EXPECTED) | set(EVIDENCE_EXPECTED) | set(
        ENGAGEMENT_EXPECTED
    ) | object_rules_only == set(policy.ALL_ACTIONS)


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_anonymous_is_told_to_sign_in(action: str) -> None:
    anonymous = SimpleNamespace(is_authenticated=False)
    assert decide(as_caller(anonymous), action) == policy.Decision(False, Reason.SIGN_IN)
    assert decide(as_caller(None), action).reason == Reason.SIGN_IN


@pytest.mark.parametrize("role", ROLES)
def test_disabled_users_get_nothing(role: str) -> None:
    assert (
        decide(as_caller(fake_user(role, is_active=False)), "account.view").reason
        == Reason.DISABLED
    )


def test_unknown_role_and_unknown_action_are_denied() -> None:
    assert decide(as_caller(fake_user("wizard")), "account.view").reason == Reason.UNKNOWN_ROLE
    assert not decide(as_caller(fake_user("admin")), "no.such.action")


def test_operator_may_do_anything() -> None:
    assert decide(OPERATOR, "user.create").reason == Reason.OPERATOR


@pytest.mark.parametrize(
    ("viewer", "target", "allowed"),
    [
        (dict(role="customer"), dict(id="customer-id"), True),  # self
        (dict(role="customer"), dict(id="other"), False),
        (dict(role="customer", is_org_admin=True), dict(id="other", organization_id="org-1"), True),
        (
            dict(role="customer", is_org_admin=True),
            dict(id="other", organization_id="org-2"),
            False,
        ),
        (
            dict(role="customer", is_org_admin=True, organization_id=None),
            dict(id="other", organization_id=None),
            False,
        ),
        (dict(role="staff"), dict(id="other"), False),
        (dict(role="admin"), dict(id="other", organization_id="org-9"), True),
    ],
)
def test_user_view_rule(viewer: dict, target: dict, allowed: bool) -> None:
    user = fake_user(**{"role": "customer", **viewer})
    obj = User(id=target["id"], organization_id=target.get("organization_id", "org-1"))
    decision = decide(as_caller(user), "user.view", obj)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.hides_existence


def test_token_revoke_rule() -> None:
    own = ApiToken(id="t1", user_id="customer-id")
    other = ApiToken(id="t2", user_id="someone-else")
    assert decide(as_caller(fake_user("customer")), "token.revoke", own)
    assert (
        decide(as_caller(fake_user("customer")), "token.revoke", other).reason == Reason.NOT_VISIBLE
    )
    assert decide(as_caller(fake_user("admin")), "token.revoke", other)


def _count(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.subquery()))


def test_visible_filters_in_sql(make_user) -> None:
    alice = make_user("customer", org="Acme Health", org_admin=True)
    make_user("customer", org="Acme Health")
    make_user("customer", org="Globex")
    admin = make_user("admin")
    assert _count(policy.visible(select(User), as_caller(admin), User)) == 4
    assert _count(policy.visible(select(User), as_caller(alice), User)) == 2
    plain = make_user("customer", org="Globex")
    assert _count(policy.visible(select(User), as_caller(plain), User)) == 1
    assert _count(policy.visible(select(Organization), as_caller(plain), Organization)) == 1
    assert _count(policy.visible(select(User), as_caller(None), User)) == 0
    with pytest.raises(TypeError):
        policy.visible(select(User), as_caller(admin), int)
