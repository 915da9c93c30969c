"""A demo audit engagement (idempotent: left alone once it exists): the demo auditor's firm
tests the demo ISO/IEC 27001 Annex A over the last twelve months; its request list has one
request answered and ready for review, and one overdue."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from artifact.engagements import services as engagements
from artifact.identity.services.lookup import user_by_email
from artifact.kernel.caller import Caller
from artifact.models import Engagement, Evidence
from artifact.models.base import DbSession, utcnow

NAME = "ISO/IEC 27001 surveillance audit (sample)"
AUDITOR, STAFF = "auditor@ledger-audit.test", "staff@artifact.test"
FRAMEWORK = "iso27001-2022"
ANSWERED_WITH = "Quarterly access review (sample)"


def seed(db: DbSession) -> bool:
    """Create the demo engagement if it is missing; whether it was created now."""
    auditor, staff = user_by_email(db, AUDITOR), user_by_email(db, STAFF)
    if auditor is None or staff is None or auditor.organization is None:
        return False
    if db.scalar(select(Engagement.id).where(Engagement.name == NAME)) is not None:
        return False
    today = utcnow().date()
    as_staff, as_auditor = Caller.of_user(staff), Caller.of_user(auditor)
    engagement = engagements.create_engagement(
        db,
        as_staff,
        {
            "name": NAME,
            "organization": auditor.organization.name,
            "framework": FRAMEWORK,
            "period_start": (today - timedelta(days=365)).isoformat(),
            "period_end": today.isoformat(),
            "starts_on": (today - timedelta(days=7)).isoformat(),
            "ends_on": (today + timedelta(days=60)).isoformat(),
            "auditors": [auditor.email],
        },
    )
    answered = engagements.create_request(
        db,
        as_auditor,
        engagement.id,
        {
            "title": "Quarterly user access reviews",
            "description": "The access reviews of the period, with the reviewer's sign-off.",
            "requirements": ["A.5.15"],
            "due_on": (today + timedelta(days=14)).isoformat(),
            "sample_size": 2,
        },
    )
    engagements.create_request(
        db,
        as_auditor,
        engagement.id,
        {
            "title": "Backup restore test results",
            "description": "The last restore test and its ticket.",
            "requirements": ["A.8.13"],
            "due_on": (today - timedelta(days=5)).isoformat(),
        },
    )
    evidence_id = db.scalar(select(Evidence.id).where(Evidence.title == ANSWERED_WITH))
    engagements.update_request(db, as_staff, engagement.id, answered.id, {"owner": staff.email})
    if evidence_id is not None:
        engagements.attach_evidence(db, as_staff, engagement.id, answered.id, evidence_id)
        engagements.add_comment(
            db, as_staff, engagement.id, answered.id, "Q3's review is attached; Q4 follows."
        )
        engagements.mark_ready(db, as_staff, engagement.id, answered.id)
    return True
