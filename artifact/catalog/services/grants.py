"""Grants (who may see a restricted report, series or category) and access requests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.catalog.services import announce, approval_rules, taxonomy
from artifact.catalog.services.reports import get_report_or_locked
from artifact.identity.services.accounts import find_organization
from artifact.identity.services.lookup import user_by_email
from artifact.kernel.caller import Caller
from artifact.kernel.errors import Conflict, NotFound, ValidationFailed
from artifact.kernel.text import check_text
from artifact.models import AccessRequest, ApprovalRule, Grant
from artifact.models.base import DbSession, is_id, utcnow
from artifact.models.catalog import RequestState
from artifact.search import indexer


def parse_expiry(value: Any) -> datetime | None:
    """An expiry in the future, in UTC (ISO 8601 or RFC 3339; a date means its end; no zone
    means UTC). Raises ValidationFailed."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        # RFC 3339 allows a lower-case "t" and "z", which fromisoformat does not.
        text = str(value).strip().upper()
        try:
            moment = datetime.fromisoformat(text + ("T23:59:59" if len(text) == 10 else ""))
        except ValueError:
            raise ValidationFailed("the expiry must be a date or time like 2026-12-31") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        # Only the first and the last day Python can hold, with a zone moving them out of it.
        moment = datetime.min.replace(tzinfo=UTC) if moment.year == 1 else _NEVER
    if moment <= utcnow():
        raise ValidationFailed("the expiry must be in the future")
    return moment


_NEVER = datetime.max.replace(tzinfo=UTC)


def _scope(
    db: DbSession, caller: Caller, report_id: str | None, series: str | None, category: str | None
) -> dict[str, Any]:
    given = [x for x in (report_id, series, category) if x not in (None, "")]
    if len(given) != 1:
        raise ValidationFailed("name exactly one of a report, a series or a category")
    if report_id:
        # A locked report (listed, not the caller's to open) is what one asks for; a report
        # the caller may not know of is not found.
        report, _locked = get_report_or_locked(db, caller, report_id)
        return {"report_id": report.id}
    if series:
        cleaned = " ".join(series.split())
        if not cleaned or len(cleaned) > 80:
            raise ValidationFailed("the series name is empty or too long")
        staff = bool(policy.decide(caller, "taxonomy.manage"))
        return {"series": taxonomy.series_slug(db, cleaned, show_choices=staff)}
    return {"category": taxonomy.category_slug(db, category)}


def create_grant(
    db: DbSession,
    caller: Caller,
    *,
    report_id: str | None = None,
    series: str | None = None,
    category: str | None = None,
    user_email: str | None = None,
    organization: str | None = None,
    expires_at: Any = None,
) -> Grant:
    """Raises PermissionDenied, NotFound (report), Conflict (no such user or organisation),
    ValidationFailed."""
    policy.require(caller, "grant.create")
    scope = _scope(db, caller, report_id, series, category)
    if bool(user_email) == bool(organization):
        raise ValidationFailed("name exactly one grantee: a user (e-mail) or an organisation")
    grantee: dict[str, Any] = {}
    # A grantee that does not exist: well formed, but naming no one (Conflict, as for the
    # report's agreement); an unknown report is NotFound, like one the caller may not see.
    if user_email:
        user = user_by_email(db, user_email)
        if user is None:
            raise Conflict(f"no user with e-mail {user_email!r}")
        grantee["user_id"] = user.id
    else:
        org = find_organization(db, str(organization).strip())
        if org is None:
            raise Conflict(f"no organisation named {organization!r}")
        grantee["organization_id"] = org.id
    grant = Grant(
        **scope, **grantee, expires_at=parse_expiry(expires_at), created_by_id=caller.user_id
    )
    db.add(grant)
    db.flush()
    _record_grant(db, caller, "grant.create", grant)
    return grant


def _record_grant(db: DbSession, caller: Caller, action: str, grant: Grant) -> None:
    """The audit event of a grant made or revoked; a report grant has its report reindexed
    (the index names the grantees of grants without an expiry: ``policy.standing_grantees``)."""
    if grant.report_id:
        indexer.note(db, "report", grant.report_id, full=False)
    audit.record(
        db,
        caller,
        action,
        target_type="grant",
        target_id=grant.id,
        details={
            "report_id": grant.report_id,
            "series": grant.series,
            "category": grant.category,
            "user_id": grant.user_id,
            "organization_id": grant.organization_id,
            "expires_at": grant.expires_at.isoformat() if grant.expires_at else None,
        },
    )


def get_grant(db: DbSession, caller: Caller, grant_id: str) -> Grant:
    """A live grant (for the confirmation step). Raises NotFound, PermissionDenied."""
    policy.require(caller, "grant.revoke")
    grant = db.get(Grant, grant_id) if is_id(grant_id) else None
    if grant is None or grant.revoked_at is not None:
        raise NotFound("no such grant")
    return grant


def revoke_grant(db: DbSession, caller: Caller, grant_id: str) -> Grant:
    policy.require(caller, "grant.revoke")
    grant = db.get(Grant, grant_id) if is_id(grant_id) else None
    if grant is None or grant.revoked_at is not None:
        raise NotFound("no such grant")
    grant.revoked_at = utcnow()
    _record_grant(db, caller, "grant.revoke", grant)
    return grant


def list_grants(db: DbSession, caller: Caller, report_id: str | None = None) -> list[Grant]:
    """Live grants, newest first; with ``report_id``, those covering that report (for it, its
    series or its category). Raises NotFound for an unknown report."""
    policy.require(caller, "grant.list")
    stmt = select(Grant).where(Grant.revoked_at.is_(None)).order_by(Grant.created_at.desc())
    if report_id:
        report = get_report_or_locked(db, caller, report_id)[0]
        covering = [Grant.report_id == report.id, Grant.category == report.category]
        if report.series:
            covering.append(Grant.series == report.series)
        stmt = stmt.where(or_(*covering))
    return list(db.scalars(stmt))


def request_access(
    db: DbSession,
    caller: Caller,
    *,
    report_id: str | None = None,
    series: str | None = None,
    category: str | None = None,
    message: str = "",
) -> AccessRequest:
    """A customer asks for access; a rule may approve it at once. Raises Conflict (with
    ``existing_id``) when the same request is already pending, ValidationFailed, NotFound."""
    policy.require(caller, "access_request.create")
    scope = _scope(db, caller, report_id, series, category)
    check_text(message or "", "message", multiline=True)
    message = (message or "").strip()
    if len(message) > 2000 or "\x00" in message:
        raise ValidationFailed("the message is too long (at most 2000 characters)")
    existing = db.scalar(
        select(AccessRequest).filter_by(user_id=caller.user_id, state=RequestState.PENDING, **scope)
    )
    if existing is not None:
        raise Conflict(
            "you already asked for this: that request is still pending",
            existing_id=existing.id,
        )
    request = AccessRequest(user_id=caller.user_id, message=message, **scope)
    db.add(request)
    db.flush()
    audit.record(
        db,
        caller,
        "access_request.create",
        target_type="access_request",
        target_id=request.id,
        details=scope,
    )
    announce.access_request_created(db, request)
    rule = approval_rules.matching_rule(db, caller, request)
    if rule is not None:
        _approve_by_rule(db, caller, request, rule)
        # The requester hears of the decision; staff hear of nothing left to decide (the
        # staff mail is built only while the request is pending).
        announce.access_request_decided(db, request)
    return request


def _approve_by_rule(
    db: DbSession, caller: Caller, request: AccessRequest, rule: ApprovalRule
) -> None:
    """The rule decides at once: a grant to the requester, as a person approving would give."""
    expiry = approval_rules.grant_expiry(rule)
    grant = Grant(
        report_id=request.report_id,
        series=request.series,
        category=request.category,
        user_id=request.user_id,
        expires_at=expiry,
        created_by_id=None,
    )
    db.add(grant)
    db.flush()
    _record_grant(db, caller, "grant.create", grant)
    request.grant_id = grant.id
    request.state = RequestState.APPROVED
    request.decided_at = utcnow()
    request.expires_at = expiry
    request.approved_by_rule_id = rule.id
    audit.record(
        db,
        caller,
        "access_request.auto_approve",
        target_type="access_request",
        target_id=request.id,
        details={"rule_id": rule.id, "expires_at": expiry.isoformat() if expiry else None},
    )


def decide_request(
    db: DbSession, caller: Caller, request_id: str, approve: bool, expires_at: Any = None
) -> AccessRequest:
    """Approve (a grant to the requester, optionally expiring) or deny. Raises NotFound,
    Conflict (already decided), ValidationFailed."""
    policy.require(caller, "access_request.decide")
    request = db.get(AccessRequest, request_id) if is_id(request_id) else None
    if request is None:
        raise NotFound("no such access request")
    if request.state != RequestState.PENDING:
        raise Conflict(f"the request was already {request.state}")
    expiry = parse_expiry(expires_at) if approve else None
    if approve:
        grant = Grant(
            report_id=request.report_id,
            series=request.series,
            category=request.category,
            user_id=request.user_id,
            expires_at=expiry,
            created_by_id=caller.user_id,
        )
        db.add(grant)
        db.flush()
        _record_grant(db, caller, "grant.create", grant)
        request.grant_id = grant.id
    request.state = RequestState.APPROVED if approve else RequestState.DENIED
    request.decided_at = utcnow()
    request.decided_by_id = caller.user_id
    request.expires_at = expiry
    audit.record(
        db,
        caller,
        f"access_request.{'approve' if approve else 'deny'}",
        target_type="access_request",
        target_id=request.id,
        details={"expires_at": expiry.isoformat() if expiry else None},
    )
    announce.access_request_decided(db, request)
    return request


def list_requests(
    db: DbSession, caller: Caller, state: str | None = RequestState.PENDING
) -> list[AccessRequest]:
    policy.require(caller, "access_request.list")
    stmt = select(AccessRequest).order_by(AccessRequest.created_at)
    if state:
        stmt = stmt.where(AccessRequest.state == state)
    return list(db.scalars(stmt))


def my_requests(db: DbSession, caller: Caller, state: str | None = None) -> list[AccessRequest]:
    """The caller's own requests, newest first, in one state or all."""
    policy.require(caller, "access_request.list_own")
    stmt = (
        select(AccessRequest)
        .where(AccessRequest.user_id == caller.user_id)
        .order_by(AccessRequest.created_at.desc())
    )
    if state:
        stmt = stmt.where(AccessRequest.state == state)
    return list(db.scalars(stmt))


def pending_count(db: DbSession, caller: Caller) -> int:
    """How many requests wait for a decision (0 for whoever may not decide them)."""
    if not policy.decide(caller, "access_request.decide"):
        return 0

    def ask() -> int:
        stmt = (
            select(func.count())
            .select_from(AccessRequest)
            .where(AccessRequest.state == RequestState.PENDING)
        )
        return int(db.scalar(stmt) or 0)

    # Shown in every staff page's header: kept per policy generation (requests bump it).
    return policy.remember(db, ("pending_requests",), ask)


def requester_history(db: DbSession, caller: Caller, user_ids: list[str]) -> dict[str, Any]:
    """Per requester, the counts of their earlier decided requests by state (for the queue)."""
    policy.require(caller, "access_request.list")
    if not user_ids:
        return {}
    rows = db.execute(
        select(AccessRequest.user_id, AccessRequest.state, func.count())
        .where(
            AccessRequest.user_id.in_(user_ids),
            AccessRequest.state != RequestState.PENDING,
        )
        .group_by(AccessRequest.user_id, AccessRequest.state)
    )
    history: dict[str, dict[str, int]] = {uid: {} for uid in user_ids}
    for user_id, state, count in rows:
        history[user_id][state] = count
    return history


def request_json(request: AccessRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "state": request.state,
        "report_id": request.report_id,
        "series": request.series,
        "category": request.category,
        "user": request.user.email if request.user else None,
        "message": request.message,
        "created_at": request.created_at.isoformat(),
        "decided_at": request.decided_at.isoformat() if request.decided_at else None,
        "expires_at": request.expires_at.isoformat() if request.expires_at else None,
        "auto_approved": request.approved_by_rule_id is not None,
    }


def grant_json(grant: Grant) -> dict[str, Any]:
    return {
        "id": grant.id,
        "report_id": grant.report_id,
        "series": grant.series,
        "category": grant.category,
        "user": grant.user.email if grant.user else None,
        "organization": grant.organization.name if grant.organization else None,
        "expires_at": grant.expires_at.isoformat() if grant.expires_at else None,
    }
