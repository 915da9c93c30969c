"""The demo's audit engagement: Ledger & Co Auditors test ISO/IEC 27001:2022 over the last
year, with the demo auditor on it and two requests (one answered and ready for review)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from artifact.engagements import services as engagements
from artifact.kernel.caller import Caller
from artifact.models import Engagement, Framework
from artifact.models.base import DbSession, utcnow

NAME = "ISO/IEC 27001:2022 surveillance audit (demo)"
FIRM = "Ledger & Co Auditors"
AUDITOR = "auditor@ledger-audit.test"
FRAMEWORK = "iso27001-2022"


def seed(db: DbSession, caller: Caller) -> Engagement | None:
    """Create the engagement if it is missing (and the framework and auditor exist)."""
    if db.scalar(select(Engagement.id).where(Engagement.name == NAME)) is not None:
        return None
    if db.scalar(select(Framework.id).where(Framework.key == FRAMEWORK)) is None:
        return None
    today = utcnow().date()
    engagement = engagements.create_engagement(
        db,
        caller,
        {
            "name": NAME,
            "organization": FIRM,
            "framework": FRAMEWORK,
            "period_start": (today - timedelta(days=365)).isoformat(),
            "period_end": today.isoformat(),
            "starts_on": (today - timedelta(days=7)).isoformat(),
            "ends_on": (today + timedelta(days=60)).isoformat(),
            "auditors": [AUDITOR],
        },
    )
    engagements.create_request(
        db,
        caller,
        engagement.id,
        {
            "title": "Information security policy and its approval",
            "description": "The current policy, the record of its approval and its review.",
            "requirements": ["A.5.1"],
            "due_on": (today + timedelta(days=14)).isoformat(),
        },
    )
    answered = engagements.create_request(
        db,
        caller,
        engagement.id,
        {
            "title": "User access reviews",
            "description": "The access reviews of the period, with the population sampled.",
            "requirements": ["A.5.15", "A.5.18"],
            "due_on": (today + timedelta(days=7)).isoformat(),
            "sample_size": 5,
        },
    )
    in_scope = [
        item
        for item in engagements.scoped_evidence(db, engagement)
        if any(link.requirement.ref == "A.5.15" for link in item.evidence.links)
    ]
    if in_scope:
        engagements.attach_evidence(db, caller, engagement.id, answered.id, in_scope[0].evidence.id)
        engagements.mark_ready(db, caller, engagement.id, answered.id)
    return engagement
