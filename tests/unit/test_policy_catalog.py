"""The catalog's policy: the role table, and visibility as SQL (decide() uses the same filter)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from artifact import policy
from artifact.catalog.services import grants
from artifact.extensions import db
from artifact.kernel.caller import OPERATOR
from artifact.models import Grant, Report
from artifact.models.base import utcnow
from artifact.policy import Reason, decide
from tests.callers import as_caller

CATALOG_EXPECTED = {
    "report.list": {"anonymous", "customer", "auditor", "staff", "admin"},
    "report.view": {"anonymous", "customer", "auditor", "staff", "admin"},
    "report.download": {"anonymous", "customer", "auditor", "staff", "admin"},
    "access_request.create": {"customer", "auditor", "staff", "admin"},
    "access_request.list_own": {"customer", "auditor", "staff", "admin"},
    "report.create": {"staff", "admin"},
    "report.upload": {"staff", "admin"},
    "report.original": {"staff", "admin"},
    "report.set_state": {"staff", "admin"},
    "report.set_terms": {"staff", "admin"},
    "report.edit": {"staff", "admin"},
    "report.history": {"staff", "admin"},
    "report.access": {"staff", "admin"},
    "taxonomy.view": {"anonymous", "customer", "auditor", "staff", "admin"},
    "taxonomy.manage": {"staff", "admin"},
    "grant.list": {"staff", "admin"},
    "grant.create": {"staff", "admin"},
    "grant.revoke": {"staff", "admin"},
    "access_request.list": {"staff", "admin"},
    "access_request.decide": {"staff", "admin"},
    "approval_rule.manage": {"staff", "admin"},
    "report.purge_version": {"admin"},
    "keys.manage": {"admin"},
}


def _who(role: str) -> SimpleNamespace:
    if role == "anonymous":
        return SimpleNamespace(is_authenticated=False)
    return SimpleNamespace(
        id=f"{role}-id",
        role=role,
        is_authenticated=True,
        is_active=True,
        organization_id="org-1",
        is_org_admin=False,
    )


@pytest.mark.parametrize("role", ["anonymous", "customer", "auditor", "staff", "admin"])
@pytest.mark.parametrize("action", sorted(CATALOG_EXPECTED))
def test_catalog_role_matrix(role: str, action: str) -> None:
    assert decide(as_caller(_who(role)), action).allowed is (role in CATALOG_EXPECTED[action])


def _visible_titles(user) -> set[str]:
    return set(db.session.scalars(policy.visible(select(Report.title), as_caller(user), Report)))


def test_visibility_by_role_state_and_grant(make_report, customer, hostile, staff) -> None:
    make_report("Public ISO", visibility="public", category="certifications", series="ISO")
    make_report("Customers SOC 3", visibility="customers")
    make_report("Restricted SOC 2", visibility="restricted")
    make_report("Draft PCI", visibility="public", state="draft", series="PCI")
    make_report("Retired ISO", visibility="public", state="retired", series="ISO")
    make_report("Outdated", visibility="public", state="outdated", series="ISO")
    assert _visible_titles(None) == {"Public ISO", "Outdated"}
    assert _visible_titles(customer) == {"Public ISO", "Outdated", "Customers SOC 3"}
    assert _visible_titles(hostile) == _visible_titles(customer)
    everything = {
        "Public ISO",
        "Customers SOC 3",
        "Restricted SOC 2",
        "Draft PCI",
        "Retired ISO",
        "Outdated",
    }
    assert _visible_titles(staff) == everything
    assert _visible_titles(OPERATOR) == everything


@pytest.mark.parametrize("scope", ["report", "series", "category"])
@pytest.mark.parametrize("grantee", ["user", "organization"])
def test_grants_open_restricted_reports(
    make_report, customer, hostile, scope: str, grantee: str
) -> None:
    secret = make_report("Restricted SOC 2", series="SOC", category="reports")
    other = make_report("Restricted PCI", series="PCI", category="certifications")
    target = {
        "report": {"report_id": secret.id},
        "series": {"series": "SOC"},
        "category": {"category": "reports"},
    }[scope]
    who = {"user_email": customer.email} if grantee == "user" else {"organization": "Acme Health"}
    assert not decide(as_caller(customer), "report.download", secret)
    grants.create_grant(db.session, OPERATOR, **target, **who)
    assert decide(as_caller(customer), "report.download", secret)
    assert decide(as_caller(customer), "report.view", other).reason == Reason.NOT_VISIBLE
    assert "Restricted SOC 2" in _visible_titles(customer)
    assert "Restricted SOC 2" not in _visible_titles(hostile)
    assert not decide(as_caller(hostile), "report.view", secret)


def test_expired_and_revoked_grants_count_for_nothing(make_report, customer) -> None:
    secret = make_report("Restricted SOC 2")
    grant = grants.create_grant(
        db.session,
        OPERATOR,
        report_id=secret.id,
        user_email=customer.email,
        expires_at=(utcnow() + timedelta(days=1)).isoformat(),
    )
    assert decide(as_caller(customer), "report.view", secret)
    # time passes: the grant expires
    db.session.get(Grant, grant.id).expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert not decide(as_caller(customer), "report.view", secret)
    live = grants.create_grant(db.session, OPERATOR, report_id=secret.id, user_email=customer.email)
    assert decide(as_caller(customer), "report.view", secret)
    grants.revoke_grant(db.session, OPERATOR, live.id)
    assert not decide(as_caller(customer), "report.view", secret)


def test_disabled_users_and_transient_reports_see_nothing(make_report, customer) -> None:
    public = make_report("Public ISO", visibility="public")
    disabled = SimpleNamespace(
        id=customer.id,
        role="customer",
        is_authenticated=True,
        is_active=False,
        organization_id=None,
    )
    assert decide(as_caller(disabled), "report.view", public).reason == Reason.DISABLED
    assert not decide(as_caller(customer), "report.view", Report(title="not stored"))
    assert not decide(as_caller(customer), "report.view", "not a report")
