"""What the engagement pages ask besides the engagement services: how many engagements the
header may mention, and the choices of the staff forms."""

from __future__ import annotations

from sqlalchemy import func, select

from artifact import policy
from artifact.engagements.services.scope import ScopedEvidence, scoped_evidence
from artifact.kernel.caller import Caller
from artifact.models.base import DbSession
from artifact.models.engagements import Engagement, EngagementRequest


def visible_count(db: DbSession, caller: Caller) -> int:
    """How many engagements the caller may open now (0 for those who have none)."""
    if not policy.decide(caller, "engagement.list"):
        return 0
    stmt = policy.visible(select(Engagement.id), caller, Engagement).subquery()
    return db.scalar(select(func.count()).select_from(stmt)) or 0


def attachable(
    db: DbSession, engagement: Engagement, request: EngagementRequest
) -> list[ScopedEvidence]:
    """Evidence in the engagement's scope not yet attached to ``request`` (the staff's attach
    form; the caller has loaded the request through the service, which checked the policy)."""
    attached = {a.evidence_id for a in request.attachments}
    return [item for item in scoped_evidence(db, engagement) if item.evidence.id not in attached]
