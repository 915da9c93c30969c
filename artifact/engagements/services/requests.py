"""The request list (PBC, "provided by client") of an engagement and its status machine:

    open --(staff: owner or evidence)--> in_progress --(staff: ready)--> ready
    ready --(auditor: accept)--> accepted            (final)
    ready --(auditor: return, with a comment)--> returned --(staff: evidence)--> in_progress

Auditors add requests, comment, accept and return; staff assign an owner, attach evidence in
the engagement's scope and mark a request ready (open, in progress or returned, with evidence
attached). A request of a closed engagement changes no more. Every change and every read is an
audit event naming the engagement; new requests, comments, returns and due dates are mailed
through the notifications outbox (``events.emit``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.engagements.services import fields
from artifact.engagements.services.records import get_engagement, requirement_named
from artifact.engagements.services.scope import scoped_item
from artifact.identity.services.lookup import user_by_email
from artifact.kernel.caller import Caller
from artifact.kernel.errors import Conflict, NotFound, Unprocessable, ValidationFailed
from artifact.models import (
    Engagement,
    EngagementRequest,
    RequestComment,
    RequestEvidence,
    User,
)
from artifact.models.accounts import Role
from artifact.models.base import DbSession, is_id, utcnow
from artifact.models.engagements import (
    REQUEST_STATUS_LABELS,
    EngagementState,
    RequestStatus,
)
from artifact.notifications import events

TITLE_MAX, DESCRIPTION_MAX, COMMENT_MAX = 300, 10_000, 10_000
MAX_REFS = 100
# Where each step may start from.
_READY_FROM = (RequestStatus.OPEN, RequestStatus.IN_PROGRESS, RequestStatus.RETURNED)
_WORK_FROM = (RequestStatus.OPEN, RequestStatus.RETURNED)  # work starts: in progress


def _engagement(db: DbSession, caller: Caller, engagement_id: str, action: str) -> Engagement:
    return get_engagement(db, caller, engagement_id, action)


def _writable(engagement: Engagement) -> None:
    if engagement.state == EngagementState.CLOSED:
        raise Conflict("the engagement is closed: its request list changes no more")


def _load(db: DbSession, engagement: Engagement, request_id: str) -> EngagementRequest:
    if not is_id(request_id):
        raise NotFound("no such request")
    found = db.scalar(
        select(EngagementRequest)
        .where(
            EngagementRequest.id == request_id,
            EngagementRequest.engagement_id == engagement.id,
        )
        .options(
            selectinload(EngagementRequest.comments),
            selectinload(EngagementRequest.attachments),
        )
    )
    if found is None:
        raise NotFound("no such request")
    return found


def _record(
    db: DbSession,
    caller: Caller,
    action: str,
    request: EngagementRequest,
    **details: Any,
) -> None:
    audit.record(
        db,
        caller,
        action,
        target_type="engagement",
        target_id=request.engagement_id,
        details={"request_id": request.id, "number": request.number, **details},
    )


def _event_data(request: EngagementRequest, **more: Any) -> dict[str, Any]:
    return {
        "engagement_id": request.engagement_id,
        "request_id": request.id,
        "number": request.number,
        "title": request.title,
        **more,
    }


def _refs(db: DbSession, engagement: Engagement, values: dict[str, Any]) -> list[str]:
    """Requirement names inside the engagement's scope (``KEY:REF``, or just ``REF`` when the
    engagement covers one framework). Raises Unprocessable for one outside the scope."""
    names = fields.string_list(values, "requirements", limit=MAX_REFS)
    in_scope = set(db.scalars(policy.engagement_requirement_ids(engagement)))
    found: list[str] = []
    for name in names:
        if ":" not in name and engagement.framework is not None:
            name = f"{engagement.framework.key}:{name}"
        requirement = requirement_named(db, name)
        if requirement.id not in in_scope:
            raise Unprocessable(f"{requirement.name} is not in the engagement's scope")
        found.append(requirement.name)
    return list(dict.fromkeys(found))


def list_requests(
    db: DbSession, caller: Caller, engagement_id: str, *, record: bool = True
) -> tuple[Engagement, list[EngagementRequest]]:
    """The request list in number order; recorded as ``engagement.requests.view``. Raises
    NotFound."""
    engagement = _engagement(db, caller, engagement_id, "engagement.view")
    found = list(
        db.scalars(
            select(EngagementRequest)
            .where(EngagementRequest.engagement_id == engagement.id)
            .options(
                selectinload(EngagementRequest.owner),
                selectinload(EngagementRequest.attachments),
                selectinload(EngagementRequest.comments),
            )
            .order_by(EngagementRequest.number)
        )
    )
    if record:
        audit.record(
            db,
            caller,
            "engagement.requests.view",
            target_type="engagement",
            target_id=engagement.id,
        )
    return engagement, found


def get_request(
    db: DbSession, caller: Caller, engagement_id: str, request_id: str
) -> EngagementRequest:
    """One request with its thread; recorded as ``engagement.request.view``. Raises NotFound."""
    engagement = _engagement(db, caller, engagement_id, "engagement.view")
    found = _load(db, engagement, request_id)
    _record(db, caller, "engagement.request.view", found)
    return found


def create_request(
    db: DbSession, caller: Caller, engagement_id: str, values: dict[str, Any]
) -> EngagementRequest:
    """A new open request (the engagement's auditors, staff). ``values``: title, description,
    requirements (in scope), due_on, sample_size. Raises NotFound, ValidationFailed,
    Unprocessable (a requirement outside the scope), Conflict (closed engagement)."""
    engagement = _engagement(db, caller, engagement_id, "engagement.request.create")
    _writable(engagement)
    fields.no_nulls(values)
    title = fields.text(values, "title", TITLE_MAX, required=True)
    description = fields.text(values, "description", DESCRIPTION_MAX)
    due_on = fields.day(values, "due_on")
    sample_size = fields.positive_int(values, "sample_size")
    refs = _refs(db, engagement, values)
    # One number per request: concurrent adds to one engagement queue on its row (PostgreSQL;
    # SQLite serialises writers anyway), and the unique constraint backs it.
    db.execute(select(Engagement.id).where(Engagement.id == engagement.id).with_for_update())
    number = (
        db.scalar(
            select(func.max(EngagementRequest.number)).where(
                EngagementRequest.engagement_id == engagement.id
            )
        )
        or 0
    ) + 1
    request = EngagementRequest(
        engagement_id=engagement.id,
        number=number,
        title=title,
        description=description,
        requirement_refs=refs,
        due_on=due_on,
        sample_size=sample_size,
        status=RequestStatus.OPEN,
        created_by_id=caller.user_id,
    )
    db.add(request)
    db.flush()
    _record(db, caller, "engagement.request.create", request, title=title)
    events.emit(db, "engagement.request_created", _event_data(request, created_by=caller.user_id))
    return request


def update_request(
    db: DbSession,
    caller: Caller,
    engagement_id: str,
    request_id: str,
    values: dict[str, Any],
) -> EngagementRequest:
    """Staff set the ``owner`` (an active staff member's e-mail, or "" for none) and/or the
    ``due_on`` date. Assigning an owner to an open or returned request starts work on it (in
    progress). Raises NotFound, PermissionDenied, ValidationFailed, Unprocessable (an owner who
    is not active staff), Conflict (closed engagement, accepted request)."""
    engagement = _engagement(db, caller, engagement_id, "engagement.request.manage")
    _writable(engagement)
    request = _load(db, engagement, request_id)
    fields.no_nulls(values, allowed=("due_on",))
    unknown = set(values) - {"owner", "due_on"}
    if unknown or not values:
        raise ValidationFailed("send any of owner (an e-mail, or empty for none) and due_on")
    if request.status == RequestStatus.ACCEPTED:
        raise Conflict("the request is accepted: it changes no more")
    changed: dict[str, Any] = {}
    if "owner" in values:
        owner = _owner(db, values.get("owner"))
        request.owner_id = owner.id if owner else None
        changed["owner"] = owner.email if owner else None
        if owner is not None and request.status in _WORK_FROM:
            changed["status"] = _move(request, RequestStatus.IN_PROGRESS)
    if "due_on" in values:
        request.due_on = fields.day(values, "due_on")
        changed["due_on"] = request.due_on.isoformat() if request.due_on else None
    request.updated_at = utcnow()
    _record(db, caller, "engagement.request.update", request, **changed)
    return request


def _owner(db: DbSession, value: Any) -> User | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValidationFailed("owner must be an e-mail address")
    user = user_by_email(db, value)
    if user is None or not user.is_active or user.role not in (Role.STAFF, Role.ADMIN):
        raise Unprocessable("the owner must be an active staff member (their e-mail)")
    return user


def _move(request: EngagementRequest, status: RequestStatus) -> str:
    before = request.status
    request.status = status
    request.updated_at = utcnow()
    return f"{before}->{status.value}"


def _refuse(request: EngagementRequest, step: str, allowed: tuple[RequestStatus, ...]) -> None:
    if request.status not in allowed:
        now = REQUEST_STATUS_LABELS.get(request.status, request.status)
        need = " or ".join(REQUEST_STATUS_LABELS[s] for s in allowed)
        raise Conflict(f"cannot {step} a request that is {now} (it must be {need})")


def add_comment(
    db: DbSession,
    caller: Caller,
    engagement_id: str,
    request_id: str,
    body: Any,
) -> RequestComment:
    """A comment on the request's thread (auditors, staff). Raises NotFound, ValidationFailed,
    Conflict (closed engagement)."""
    engagement = _engagement(db, caller, engagement_id, "engagement.request.comment")
    _writable(engagement)
    request = _load(db, engagement, request_id)
    text = fields.text({"body": body}, "body", COMMENT_MAX, required=True)
    comment = _comment(db, caller, request, text, "comment")
    _record(db, caller, "engagement.request.comment", request, comment_id=comment.id)
    events.emit(
        db,
        "engagement.comment_added",
        _event_data(request, comment_id=comment.id, author_id=caller.user_id),
    )
    return comment


def _comment(
    db: DbSession, caller: Caller, request: EngagementRequest, body: str, kind: str
) -> RequestComment:
    comment = RequestComment(
        request_id=request.id, author_id=caller.user_id, body=body, kind=kind, created_at=utcnow()
    )
    db.add(comment)
    db.flush()
    request.comments.append(comment)
    return comment


def attach_evidence(
    db: DbSession,
    caller: Caller,
    engagement_id: str,
    request_id: str,
    evidence_id: Any,
) -> RequestEvidence:
    """Attach evidence in the engagement's scope (staff): its latest in-scope approved version
    is named. An open or returned request moves to in progress. Raises NotFound,
    PermissionDenied, ValidationFailed, Unprocessable (evidence that is not in scope: a draft,
    outside the period or not linked to an in-scope requirement), Conflict (attached already,
    accepted request, closed engagement)."""
    engagement = _engagement(db, caller, engagement_id, "engagement.request.manage")
    _writable(engagement)
    request = _load(db, engagement, request_id)
    if not isinstance(evidence_id, str) or not evidence_id.strip():
        raise ValidationFailed('send {"evidence_id": "..."}')
    if request.status in (RequestStatus.ACCEPTED, RequestStatus.READY):
        _refuse(request, "attach evidence to", _READY_FROM)
    try:
        evidence, version = scoped_item(db, engagement, evidence_id.strip())
    except NotFound:
        raise Unprocessable(
            "that evidence is not in the engagement's scope: it needs an approved version "
            "effective inside the period, linked to a requirement in scope"
        ) from None
    if any(a.evidence_id == evidence.id for a in request.attachments):
        raise Conflict("that evidence is attached to the request already")
    attachment = RequestEvidence(
        request_id=request.id,
        evidence_id=evidence.id,
        version_id=version.id,
        attached_by_id=caller.user_id,
        attached_at=utcnow(),
    )
    db.add(attachment)
    db.flush()
    request.attachments.append(attachment)
    details: dict[str, Any] = {"evidence_id": evidence.id, "version": version.number}
    if request.status in _WORK_FROM:
        details["status"] = _move(request, RequestStatus.IN_PROGRESS)
    request.updated_at = utcnow()
    _record(db, caller, "engagement.request.attach", request, **details)
    return attachment


def mark_ready(
    db: DbSession, caller: Caller, engagement_id: str, request_id: str
) -> EngagementRequest:
    """Ready for the auditor's review (staff), from open, in progress or returned, with evidence
    attached. Raises NotFound, PermissionDenied, Conflict."""
    engagement = _engagement(db, caller, engagement_id, "engagement.request.manage")
    _writable(engagement)
    request = _load(db, engagement, request_id)
    _refuse(request, "mark ready", _READY_FROM)
    if not request.attachments:
        raise Conflict("attach evidence before marking the request ready")
    step = _move(request, RequestStatus.READY)
    _record(db, caller, "engagement.request.ready", request, status=step)
    return request


def accept(db: DbSession, caller: Caller, engagement_id: str, request_id: str) -> EngagementRequest:
    """Ready -> accepted (the engagement's auditors). Raises NotFound, PermissionDenied,
    Conflict."""
    engagement = _engagement(db, caller, engagement_id, "engagement.request.review")
    _writable(engagement)
    request = _load(db, engagement, request_id)
    _refuse(request, "accept", (RequestStatus.READY,))
    step = _move(request, RequestStatus.ACCEPTED)
    _record(db, caller, "engagement.request.accept", request, status=step)
    return request


def return_request(
    db: DbSession, caller: Caller, engagement_id: str, request_id: str, comment: Any
) -> EngagementRequest:
    """Ready -> returned with a comment saying why (the engagement's auditors). Raises
    NotFound, PermissionDenied, ValidationFailed (no comment), Conflict."""
    engagement = _engagement(db, caller, engagement_id, "engagement.request.review")
    _writable(engagement)
    request = _load(db, engagement, request_id)
    _refuse(request, "return", (RequestStatus.READY,))
    text = fields.text({"comment": comment}, "comment", COMMENT_MAX, required=True)
    note = _comment(db, caller, request, text, "return")
    step = _move(request, RequestStatus.RETURNED)
    _record(db, caller, "engagement.request.return", request, status=step, comment_id=note.id)
    events.emit(
        db,
        "engagement.request_returned",
        _event_data(request, comment_id=note.id, author_id=caller.user_id),
    )
    return request


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def comment_json(comment: RequestComment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "author": comment.author.email if comment.author else None,
        "author_name": (comment.author.name or comment.author.email) if comment.author else None,
        "kind": comment.kind,
        "body": comment.body,
        "created_at": comment.created_at.isoformat(),
    }


def request_json(request: EngagementRequest, today: date, *, full: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": request.id,
        "number": request.number,
        "title": request.title,
        "description": request.description,
        "requirements": list(request.requirement_refs or []),
        "due_on": _day(request.due_on),
        "sample_size": request.sample_size,
        "status": request.status,
        "status_label": REQUEST_STATUS_LABELS.get(request.status, request.status),
        "overdue": request.is_overdue(today),
        "owner": request.owner.email if request.owner else None,
        "created_by": request.created_by.email if request.created_by else None,
        "created_at": request.created_at.isoformat(),
        "updated_at": request.updated_at.isoformat(),
        "evidence": [
            {
                "evidence_id": a.evidence_id,
                "title": a.evidence.title,
                "version": a.version.number,
                "sha256": a.version.sha256,
                "attached_at": a.attached_at.isoformat(),
            }
            for a in request.attachments
        ],
        "comments": len(request.comments),
    }
    if full:
        body["comments"] = [comment_json(c) for c in request.comments]
    return body
