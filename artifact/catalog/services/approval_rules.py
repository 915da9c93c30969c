"""Auto-approval rules: staff's standing decisions on access requests.

A rule names who (an e-mail domain, or an organisation) and what (a series or a category). A new
request from a matching requester for that series or category (or for one report in it) is
approved at once: a grant to the requester, expiring after the rule's days if it sets them, and
only once the requester holds an acceptance of the rule's agreement if it names one. Each such
approval is an audit event naming its rule; deleting a rule keeps it for the record."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select

from artifact import policy
from artifact.agreements.services import agreements
from artifact.audit.services import chain as audit
from artifact.catalog.services import taxonomy
from artifact.identity.services.accounts import find_organization
from artifact.identity.services.organizations import email_domain, normalize_domain
from artifact.kernel.caller import Caller
from artifact.kernel.errors import Conflict, NotFound, ValidationFailed
from artifact.models import AccessRequest, Agreement, ApprovalRule, Organization, User
from artifact.models.base import DbSession, is_id, utcnow

MAX_DAYS = 3650


def _expiry_days(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationFailed("expires_in_days must be a whole number of days")
    try:
        days = int(value)
    except ValueError:
        raise ValidationFailed("expires_in_days must be a whole number of days") from None
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(f"expires_in_days must be between 1 and {MAX_DAYS}")
    return days


def create_rule(
    db: DbSession,
    caller: Caller,
    *,
    domain: Any = None,
    organization: Any = None,
    series: Any = None,
    category: Any = None,
    expires_in_days: Any = None,
    requires_agreement_id: Any = None,
) -> ApprovalRule:
    """Raises PermissionDenied, ValidationFailed (what is wrong), Conflict (no such
    organisation or agreement)."""
    policy.require(caller, "approval_rule.manage")
    if bool(domain) == bool(organization):
        raise ValidationFailed("name exactly one requester: a domain or an organisation")
    if bool(series) == bool(category):
        raise ValidationFailed("name exactly one scope: a series or a category")
    rule = ApprovalRule(created_by_id=caller.user_id, expires_in_days=_expiry_days(expires_in_days))
    if domain:
        rule.domain = normalize_domain(domain)
    else:
        if not isinstance(organization, str):
            raise ValidationFailed("organization must be an organisation's id or name")
        org = _find_organization(db, organization.strip())
        if org is None:
            raise Conflict(f"no organisation {organization!r}")
        rule.organization_id = org.id
    if series:
        if not isinstance(series, str):
            raise ValidationFailed("series must be a series slug")
        rule.series = taxonomy.series_slug(db, series.strip(), show_choices=True)
    else:
        if not isinstance(category, str):
            raise ValidationFailed("category must be a category slug")
        rule.category = taxonomy.category_slug(db, category.strip())
    if requires_agreement_id not in (None, ""):
        agreement = (
            db.get(Agreement, requires_agreement_id)
            if isinstance(requires_agreement_id, str) and is_id(requires_agreement_id)
            else None
        )
        if agreement is None:
            raise Conflict(f"no agreement {requires_agreement_id!r}")
        rule.requires_agreement_id = agreement.id
    db.add(rule)
    db.flush()
    audit.record(
        db,
        caller,
        "approval_rule.create",
        target_type="approval_rule",
        target_id=rule.id,
        details=_details(rule),
    )
    return rule


def _find_organization(db: DbSession, value: str) -> Organization | None:
    if is_id(value):
        found = db.get(Organization, value)
        if found is not None:
            return found
    return find_organization(db, value)


def _details(rule: ApprovalRule) -> dict[str, Any]:
    return {
        "domain": rule.domain,
        "organization_id": rule.organization_id,
        "series": rule.series,
        "category": rule.category,
        "expires_in_days": rule.expires_in_days,
        "requires_agreement_id": rule.requires_agreement_id,
    }


def delete_rule(db: DbSession, caller: Caller, rule_id: str) -> ApprovalRule:
    policy.require(caller, "approval_rule.manage")
    rule = db.get(ApprovalRule, rule_id) if is_id(rule_id) else None
    if rule is None or rule.deleted_at is not None:
        raise NotFound("no such approval rule")
    rule.deleted_at = utcnow()
    audit.record(
        db,
        caller,
        "approval_rule.delete",
        target_type="approval_rule",
        target_id=rule.id,
        details=_details(rule),
    )
    return rule


def list_rules(db: DbSession, caller: Caller) -> list[ApprovalRule]:
    policy.require(caller, "approval_rule.manage")
    return list(
        db.scalars(
            select(ApprovalRule)
            .where(ApprovalRule.deleted_at.is_(None))
            .order_by(ApprovalRule.created_at)
        )
    )


def matching_rule(db: DbSession, caller: Caller, request: AccessRequest) -> ApprovalRule | None:
    """The oldest live rule that approves ``request`` now, if any."""
    user = db.get(User, request.user_id)
    if user is None or not caller.active:
        return None
    who = []
    domain = email_domain(user.email)
    if domain:
        who.append(ApprovalRule.domain == domain)
    if user.organization_id:
        who.append(ApprovalRule.organization_id == user.organization_id)
    if not who:
        return None
    series = request.series or (request.report.series if request.report else None)
    category = request.category or (request.report.category if request.report else None)
    what = []
    if series:
        what.append(ApprovalRule.series == series)
    if category:
        what.append(ApprovalRule.category == category)
    # A rule for a series or category does not cover a request for a whole other scope: a
    # request for a category is matched by category rules only.
    if request.category:
        what = [ApprovalRule.category == request.category]
    if not what:
        return None
    candidates = db.scalars(
        select(ApprovalRule)
        .where(ApprovalRule.deleted_at.is_(None), or_(*who), or_(*what))
        .order_by(ApprovalRule.created_at)
    )
    for rule in candidates:
        if rule.requires_agreement_id is None:
            return rule
        try:
            if agreements.terms_status(db, caller, rule.requires_agreement_id).satisfied:
                return rule
        except NotFound:
            continue
    return None


def grant_expiry(rule: ApprovalRule) -> Any:
    return utcnow() + timedelta(days=rule.expires_in_days) if rule.expires_in_days else None


def rule_json(rule: ApprovalRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "domain": rule.domain,
        "organization": rule.organization.name if rule.organization else None,
        "series": rule.series,
        "category": rule.category,
        "expires_in_days": rule.expires_in_days,
        "requires_agreement_id": rule.requires_agreement_id,
        "created_at": rule.created_at.isoformat(),
    }
