"""The engagement rules of the policy: the role matrix, and the object rule (staff always; an
auditor only on the engagement, of its firm, while it is open today)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from artifact.models import Engagement, EngagementAuditor
from artifact.models.base import utcnow
from artifact.policy import Reason, decide, engagement_open
from tests.callers import as_caller
from tests.unit.test_policy import ROLES, fake_user

ENGAGEMENT_EXPECTED = {
    "engagement.list": {"auditor", "staff", "admin"},
    "engagement.view": {"auditor", "staff", "admin"},
    "engagement.evidence": {"auditor", "staff", "admin"},
    "engagement.request.create": {"auditor", "staff", "admin"},
    "engagement.request.comment": {"auditor", "staff", "admin"},
    "engagement.request.review": {"auditor"},  # accept or return: the auditor's side only
    "engagement.request.manage": {"staff", "admin"},  # owner, evidence, ready
    "engagement.create": {"staff", "admin"},
    "engagement.close": {"staff", "admin"},
    "engagement.export": {"staff", "admin"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(ENGAGEMENT_EXPECTED))
def test_role_matrix(role: str, action: str) -> None:
    decision = decide(as_caller(fake_user(role)), action)
    assert decision.allowed is (role in ENGAGEMENT_EXPECTED[action])


def _engagement(*, state: str = "open", start: int = -1, end: int = 10) -> Engagement:
    today = utcnow().date()
    engagement = Engagement(
        id="e" * 32,
        name="Audit",
        organization_id="org-1",
        state=state,
        period_start=today - timedelta(days=90),
        period_end=today - timedelta(days=1),
        starts_on=today + timedelta(days=start),
        ends_on=today + timedelta(days=end),
    )
    engagement.auditors = [EngagementAuditor(user_id="auditor-id")]
    return engagement


@pytest.mark.parametrize(
    ("engagement", "user", "allowed"),
    [
        (_engagement(), fake_user("auditor"), True),
        (_engagement(start=0, end=0), fake_user("auditor"), True),  # both days inclusive
        (_engagement(state="closed"), fake_user("auditor"), False),
        (_engagement(start=-10, end=-1), fake_user("auditor"), False),  # ended yesterday
        (_engagement(start=1, end=10), fake_user("auditor"), False),  # starts tomorrow
        (_engagement(), fake_user("auditor", id="other-id"), False),  # not on it
        (_engagement(), fake_user("auditor", organization_id="org-2"), False),  # left the firm
        (_engagement(), fake_user("customer", id="auditor-id"), False),
        (_engagement(state="closed"), fake_user("staff"), True),
        (_engagement(start=-10, end=-1), fake_user("admin"), True),
    ],
)
def test_who_sees_an_engagement(engagement: Engagement, user, allowed: bool) -> None:
    for action in ("engagement.view", "engagement.evidence", "engagement.request.comment"):
        decision = decide(as_caller(user), action, engagement)
        assert decision.allowed is allowed, action
        if not allowed:
            assert decision.reason == Reason.NOT_VISIBLE  # answered as 404


def test_open_means_open_and_within_the_dates() -> None:
    today = utcnow().date()
    assert engagement_open(_engagement(), today)
    assert not engagement_open(_engagement(), today + timedelta(days=11))
    assert not engagement_open(_engagement(state="closed"), today)
