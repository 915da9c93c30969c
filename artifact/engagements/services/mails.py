"""Mails of the request list, built by the notifications worker from outbox events
(``register`` adds them to its builders). Recipients are found when the mail is built: staff
hear about the company's side (the request's owner, or every staff member while it has none);
auditors hear only while the engagement is open to them, so a closed engagement mails them
nothing. A mail never carries evidence, only titles and a link."""

from __future__ import annotations

from typing import Any

from artifact import policy
from artifact.models import Engagement, EngagementRequest, RequestComment, User
from artifact.models.accounts import Role
from artifact.models.base import DbSession, is_id, utcnow
from artifact.models.engagements import PENDING_STATUSES, EngagementState
from artifact.notifications.services import mails
from artifact.notifications.services.mails import Mail

GROUP = "engagements"


def _request(db: DbSession, data: dict[str, Any]) -> EngagementRequest | None:
    rid = data.get("request_id")
    return db.get(EngagementRequest, rid) if is_id(rid) else None


def _company_side(db: DbSession, request: EngagementRequest) -> list[User]:
    """Who answers the request: its owner, or every staff member while it has none."""
    owner = mails.active_user(db, request.owner_id) if request.owner_id else None
    people = [owner] if owner is not None and owner.role in (Role.STAFF, Role.ADMIN) else []
    return mails.unmuted(db, people or mails.staff(db), GROUP)


def _auditors(db: DbSession, engagement: Engagement) -> list[User]:
    """The engagement's auditors who may see it now (none once it is closed or has ended)."""
    if not policy.engagement_open(engagement, utcnow().date()):
        return []
    users = [mails.active_user(db, a.user_id) for a in engagement.auditors]
    found = [
        u
        for u in users
        if u is not None
        and u.role == Role.AUDITOR
        and u.organization_id == engagement.organization_id
    ]
    return mails.unmuted(db, sorted(found, key=lambda u: u.email), GROUP)


def _still_pending(request: EngagementRequest) -> bool:
    return request.status in PENDING_STATUSES and request.engagement.state == EngagementState.OPEN


def _context(request: EngagementRequest, **more: Any) -> dict[str, Any]:
    engagement = request.engagement
    return {
        "engagement": engagement.name,
        "number": request.number,
        "title": request.title,
        "due_on": request.due_on.isoformat() if request.due_on else None,
        "path": f"/engagements/{engagement.id}/requests/{request.id}",
        **more,
    }


def _subject(text: str) -> str:
    return text[:150]


def request_created(db: DbSession, data: dict[str, Any]) -> list[Mail]:
    request = _request(db, data)
    if request is None:
        return []
    creator = mails.active_user(db, data.get("created_by"))
    context = _context(request, by=(creator.name or creator.email) if creator else "someone")
    subject = _subject(f"New request PBC-{request.number} in {request.engagement.name}")
    return [
        Mail(u, "engagement.request_created", GROUP, "engagement_request_created", subject, context)
        for u in _company_side(db, request)
        if creator is None or u.id != creator.id
    ]


def comment_added(db: DbSession, data: dict[str, Any]) -> list[Mail]:
    request = _request(db, data)
    cid = data.get("comment_id")
    comment = db.get(RequestComment, cid) if is_id(cid) else None
    if request is None or comment is None:
        return []
    author = comment.author
    by_auditor = author is not None and author.role == Role.AUDITOR
    people = _company_side(db, request) if by_auditor else _auditors(db, request.engagement)
    context = _context(
        request,
        by=(author.name or author.email) if author else "someone",
        body=comment.body[:2000],
    )
    subject = _subject(f"New comment on PBC-{request.number} in {request.engagement.name}")
    return [
        Mail(u, "engagement.comment_added", GROUP, "engagement_comment_added", subject, context)
        for u in people
        if author is None or u.id != author.id
    ]


def request_returned(db: DbSession, data: dict[str, Any]) -> list[Mail]:
    request = _request(db, data)
    cid = data.get("comment_id")
    comment = db.get(RequestComment, cid) if is_id(cid) else None
    if request is None:
        return []
    author = comment.author if comment else None
    context = _context(
        request,
        by=(author.name or author.email) if author else "the auditor",
        body=comment.body[:2000] if comment else "",
    )
    subject = _subject(f"Request PBC-{request.number} was returned in {request.engagement.name}")
    return [
        Mail(
            u, "engagement.request_returned", GROUP, "engagement_request_returned", subject, context
        )
        for u in _company_side(db, request)
    ]


def request_due(db: DbSession, data: dict[str, Any]) -> list[Mail]:
    request = _request(db, data)
    days = data.get("days")
    if request is None or not isinstance(days, int) or not _still_pending(request):
        return []  # answered (or the engagement closed) before the worker ran
    context = _context(request, days=days)
    when = (
        f"is overdue (due {request.due_on})"
        if days < 0
        else "is due today"
        if days == 0
        else f"is due in {days} day{'s' if days != 1 else ''}"
    )
    subject = _subject(f"Request PBC-{request.number} {when}: {request.engagement.name}")
    context["when"] = when
    return [
        Mail(u, "engagement.request_due", GROUP, "engagement_request_due", subject, context)
        for u in _company_side(db, request)
    ]


def register() -> None:
    """Add the builders to the notifications worker (idempotent)."""
    mails.register_builder("engagement.request_created", request_created)
    mails.register_builder("engagement.comment_added", comment_added)
    mails.register_builder("engagement.request_returned", request_returned)
    mails.register_builder("engagement.request_due", request_due)
