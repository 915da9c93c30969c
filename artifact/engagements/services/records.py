"""Engagements: create, close, list and read them; who sees one is the policy's
(``policy.decide(..., "engagement.view", engagement)`` and ``policy.visible``).

To anyone but staff and the engagement's auditors (while it is open) every engagement id is a
NotFound; reading one is an audit event naming it."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.engagements.services import fields
from artifact.identity.services.lookup import user_by_email
from artifact.kernel.caller import Caller
from artifact.kernel.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unprocessable,
    ValidationFailed,
)
from artifact.models import (
    AuditEvent,
    Engagement,
    EngagementAuditor,
    EngagementRequirement,
    Framework,
    Organization,
    Requirement,
    User,
)
from artifact.models.accounts import Role
from artifact.models.base import DbSession, is_id, utcnow
from artifact.models.engagements import EngagementState
from artifact.models.frameworks import ref_key

NAME_MAX = 200
MAX_AUDITORS = 50
MAX_REQUIREMENTS = 2000
_FIELDS = ("name", "organization", "framework", "requirements", "auditors")
_DATES = ("period_start", "period_end", "starts_on", "ends_on")


def require(caller: Caller, action: str, obj: Any = None) -> None:
    """Engagements hide themselves: a denial about one engagement is a NotFound; one about the
    action in general is 401 (sign in), 404 for roles that have no engagements at all, else
    403 (an auditor asking for what only staff do)."""
    decision = policy.decide(caller, action, obj)
    if decision:
        return
    if decision.reason == policy.Reason.SIGN_IN:
        raise Unauthenticated("sign in required")
    if obj is not None or not policy.decide(caller, "engagement.list"):
        raise NotFound("not found")
    raise PermissionDenied(f"not allowed: {decision.reason.replace('_', ' ')}")


def get_engagement(
    db: DbSession,
    caller: Caller,
    engagement_id: str,
    action: str = "engagement.view",
    *,
    record: bool = False,
) -> Engagement:
    """The engagement if ``caller`` may do ``action`` to it now (recorded as
    ``engagement.view`` when ``record``). Raises NotFound when absent or not visible,
    PermissionDenied when visible but not the caller's to do (an auditor closing it)."""
    require(caller, "engagement.view")
    if not is_id(engagement_id):
        raise NotFound("no such engagement")
    stmt = select(Engagement).where(Engagement.id == engagement_id)
    engagement: Engagement | None = db.scalar(policy.visible(stmt, caller, Engagement))
    if engagement is None or not policy.decide(caller, "engagement.view", engagement):
        raise NotFound("no such engagement")
    if action != "engagement.view":
        decision = policy.decide(caller, action, engagement)
        if not decision:
            raise PermissionDenied("this is not yours to do on the engagement")
    if record:
        audit.record(
            db, caller, "engagement.view", target_type="engagement", target_id=engagement.id
        )
    return engagement


def list_engagements(db: DbSession, caller: Caller) -> list[Engagement]:
    """The engagements ``caller`` may see now (staff: all; auditors: theirs while open), the
    most recent first. Raises NotFound for roles without engagements."""
    require(caller, "engagement.list")
    stmt = policy.visible(select(Engagement), caller, Engagement).options(
        selectinload(Engagement.auditors).selectinload(EngagementAuditor.user),
        selectinload(Engagement.requests),
    )
    return list(db.scalars(stmt.order_by(Engagement.starts_on.desc(), Engagement.name)))


def _organization(db: DbSession, value: Any) -> Organization:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed("organization (the audit firm's name) is required")
    name = " ".join(value.split())
    found = db.get(Organization, name) if is_id(name) else None
    if found is None and "\x00" not in name:
        found = db.scalar(select(Organization).where(func.lower(Organization.name) == name.lower()))
    if found is None:
        raise Unprocessable(f"there is no organisation named {name!r}")
    return found


def _scope(db: DbSession, values: dict[str, Any]) -> tuple[Framework | None, list[Requirement]]:
    key = values.get("framework")
    names = fields.string_list(values, "requirements", limit=MAX_REQUIREMENTS)
    if key not in (None, "") and names:
        raise ValidationFailed("give either a framework or a list of requirements, not both")
    if key not in (None, ""):
        if not isinstance(key, str) or "\x00" in key:
            raise ValidationFailed("framework must be a framework key")
        framework = db.scalar(select(Framework).where(Framework.key == key.strip()))
        if framework is None:
            raise Unprocessable(f"there is no framework with key {key.strip()!r}")
        return framework, []
    if not names:
        raise ValidationFailed(
            "the scope is required: a framework key, or requirements like iso27001-2022:A.5.15"
        )
    return None, [requirement_named(db, name) for name in names]


def requirement_named(db: DbSession, name: str) -> Requirement:
    """``KEY:REF`` (the ref compared case-insensitively). Raises Unprocessable."""
    key, sep, ref = name.partition(":")
    if not sep or not ref.strip() or "\x00" in name:
        raise Unprocessable(f"{name!r} is not a requirement name (KEY:REF)")
    found = db.scalar(
        select(Requirement)
        .join(Framework, Framework.id == Requirement.framework_id)
        .where(Framework.key == key.strip(), Requirement.ref_key == ref_key(ref))
    )
    if found is None:
        raise Unprocessable(f"there is no requirement {name.strip()!r}")
    return found


def _auditors(db: DbSession, values: dict[str, Any], firm: Organization) -> list[User]:
    emails = fields.string_list(values, "auditors", limit=MAX_AUDITORS)
    if not emails:
        raise ValidationFailed("auditors (a list of e-mail addresses) is required")
    found: list[User] = []
    for email in emails:
        user = user_by_email(db, email)
        if user is None or not user.is_active:
            raise Unprocessable(f"{email} is not an active user")
        if user.role != Role.AUDITOR:
            raise Unprocessable(f"{email} does not have the auditor role")
        if user.organization_id != firm.id:
            raise Unprocessable(f"{email} is not a member of {firm.name}")
        if user not in found:
            found.append(user)
    return found


def _dates(values: dict[str, Any]) -> dict[str, date]:
    days = {name: fields.required_day(values, name) for name in _DATES}
    if days["period_end"] < days["period_start"]:
        raise ValidationFailed("period_end is before period_start")
    if days["ends_on"] < days["starts_on"]:
        raise ValidationFailed("ends_on is before starts_on")
    return days


def create_engagement(db: DbSession, caller: Caller, values: dict[str, Any]) -> Engagement:
    """A new open engagement (staff). ``values``: name, organization (the firm's name),
    framework (key) or requirements (``KEY:REF`` names), period_start, period_end, starts_on,
    ends_on, auditors (e-mails of auditors of the firm). Raises ValidationFailed (400) for
    missing or malformed fields, Unprocessable (422) for an unknown firm, framework or
    requirement and for an auditor who is not an active auditor of the firm; nothing is written
    then."""
    require(caller, "engagement.create")
    fields.no_nulls(values)
    name = fields.text(values, "name", NAME_MAX, required=True)
    days = _dates(values)
    firm = _organization(db, values.get("organization"))
    framework, requirements = _scope(db, values)
    auditors = _auditors(db, values, firm)
    engagement = Engagement(
        name=name,
        organization_id=firm.id,
        framework_id=framework.id if framework else None,
        state=EngagementState.OPEN,
        created_by_id=caller.user_id,
        **days,
    )
    engagement.auditors = [EngagementAuditor(user_id=u.id) for u in auditors]
    engagement.scope = [EngagementRequirement(requirement_id=r.id) for r in requirements]
    db.add(engagement)
    db.flush()
    audit.record(
        db,
        caller,
        "engagement.create",
        target_type="engagement",
        target_id=engagement.id,
        details={
            "name": name,
            "organization": firm.name,
            "framework": framework.key if framework else None,
            "requirements": [r.name for r in requirements],
            "auditors": [u.email for u in auditors],
            **{k: v.isoformat() for k, v in days.items()},
        },
    )
    return engagement


def close_engagement(db: DbSession, caller: Caller, engagement_id: str) -> Engagement:
    """Open -> closed (staff): the auditors lose access at once; nothing else changes.
    Raises NotFound, PermissionDenied, Conflict when it is closed already."""
    require(caller, "engagement.close")
    engagement = get_engagement(db, caller, engagement_id, "engagement.close")
    if engagement.state == EngagementState.CLOSED:
        raise Conflict("the engagement is closed already")
    engagement.state = EngagementState.CLOSED
    engagement.closed_at = utcnow()
    engagement.closed_by_id = caller.user_id
    audit.record(db, caller, "engagement.close", target_type="engagement", target_id=engagement.id)
    return engagement


def trail(db: DbSession, caller: Caller, engagement_id: str) -> list[AuditEvent]:
    """The audit events naming the engagement, in order: what was done to it and through it,
    and the refused attempts on its routes (``access.denied``, whose target is the route and
    the engagement's id). For staff and the command line (the package export). Raises
    NotFound, PermissionDenied."""
    engagement = get_engagement(db, caller, engagement_id, "engagement.export")
    stmt = select(AuditEvent).where(AuditEvent.target_id == engagement.id)
    return list(db.scalars(stmt.order_by(AuditEvent.seq)))


def in_scope_requirements(db: DbSession, engagement: Engagement) -> list[Requirement]:
    """The requirements under audit, in document order."""
    stmt = (
        select(Requirement)
        .where(Requirement.id.in_(policy.engagement_requirement_ids(engagement)))
        .options(selectinload(Requirement.framework))
        .order_by(Requirement.framework_id, Requirement.seq)
    )
    return list(db.scalars(stmt))


def access(engagement: Engagement, today: date) -> str:
    """What the auditors have now: ``open``, ``not_started``, ``ended`` or ``closed``."""
    if engagement.state == EngagementState.CLOSED:
        return "closed"
    if today < engagement.starts_on:
        return "not_started"
    return "ended" if today > engagement.ends_on else "open"


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def engagement_json(engagement: Engagement, today: date) -> dict[str, Any]:
    statuses = Counter(r.status for r in engagement.requests)
    return {
        "id": engagement.id,
        "name": engagement.name,
        "organization": engagement.organization.name,
        "framework": engagement.framework.key if engagement.framework else None,
        "requirements": sorted(s.requirement.name for s in engagement.scope),
        "period_start": _day(engagement.period_start),
        "period_end": _day(engagement.period_end),
        "starts_on": _day(engagement.starts_on),
        "ends_on": _day(engagement.ends_on),
        "state": engagement.state,
        "access": access(engagement, today),
        "auditors": sorted(a.user.email for a in engagement.auditors),
        "created_at": engagement.created_at.isoformat(),
        "closed_at": engagement.closed_at.isoformat() if engagement.closed_at else None,
        "closed_by": engagement.closed_by.email if engagement.closed_by else None,
        "requests": {
            "total": len(engagement.requests),
            "by_status": dict(sorted(statuses.items())),
            "overdue": sum(r.is_overdue(today) for r in engagement.requests),
        },
    }
