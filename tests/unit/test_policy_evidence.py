"""Evidence in the policy: staff and admins only; the uploader never approves their own."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from artifact import policy
from artifact.extensions import db
from artifact.models import Evidence
from artifact.policy import Reason, decide
from tests.callers import as_caller

ROLES = ["customer", "auditor", "staff", "admin"]
STAFF_ONLY = {"staff", "admin"}
EVIDENCE_EXPECTED = {
    action: STAFF_ONLY
    for action in (
        "evidence.list",
        "evidence.view",
        "evidence.upload",
        "evidence.edit",
        "evidence.submit",
        "evidence.approve",
        "evidence.download",
        "coverage.freshness",
    )
}


def _who(role: str) -> SimpleNamespace:
    return SimpleNamespace(
        id=f"{role}-id",
        role=role,
        is_authenticated=True,
        is_active=True,
        organization_id="org-1",
        is_org_admin=False,
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(EVIDENCE_EXPECTED))
def test_evidence_role_matrix(role: str, action: str) -> None:
    assert decide(as_caller(_who(role)), action).allowed is (role in EVIDENCE_EXPECTED[action])


def test_non_staff_asking_about_an_item_is_told_not_visible(
    make_evidence, customer, auditor
) -> None:
    item = make_evidence()
    for user in (customer, auditor):
        assert decide(as_caller(user), "evidence.view", item).reason == Reason.NOT_VISIBLE
        assert decide(as_caller(user), "evidence.download", item).reason == Reason.NOT_VISIBLE


def test_uploader_may_not_approve_but_another_staff_member_may(
    make_evidence, staff, reviewer, admin
) -> None:
    item = make_evidence(state="in_review")
    assert decide(as_caller(staff), "evidence.approve", item) == policy.Decision(
        False, Reason.OWN_EVIDENCE
    )
    assert decide(as_caller(reviewer), "evidence.approve", item)
    assert decide(as_caller(admin), "evidence.approve", item)


@pytest.mark.parametrize("role", ["customer", "auditor"])
def test_visible_lists_no_evidence_for_non_staff(make_evidence, make_user, role) -> None:
    make_evidence()
    stmt = select(Evidence.id)

    def seen(user: object) -> list[str]:
        return list(db.session.scalars(policy.visible(stmt, as_caller(user), Evidence)))

    assert seen(make_user(role)) == []
    assert seen(None) == []
    assert len(seen(make_user("staff"))) == 1
