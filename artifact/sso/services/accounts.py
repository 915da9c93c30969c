"""Who an identity provider's assertion signs in: the linked account, a new account made just
in time in the provider's organisation, an existing account that must prove its password before
it is linked, or nobody (refused, with the reason). Every outcome is an audit event; refusals
are recorded durably (kept when the request that met them rolls back)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.identity.services import mfa as mfa_service
from artifact.identity.services.lookup import user_by_email
from artifact.identity.services.organizations import email_domain, organization_for_email
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.kernel.errors import PermissionDenied, ValidationFailed
from artifact.models import ExternalIdentity, IdentityProvider, User
from artifact.models.accounts import Role
from artifact.models.base import DbSession, is_id, utcnow

ROLE_RANK = (Role.CUSTOMER, Role.AUDITOR, Role.STAFF, Role.ADMIN)


class Result(enum.StrEnum):
    SIGNED_IN = "signed_in"  # sign the user in (then maybe our TOTP)
    LINK_REQUIRED = "link_required"  # an account with that address exists: prove the password
    REFUSED = "refused"


@dataclass(frozen=True)
class Assertion:
    """What the provider vouched for, whatever the protocol."""

    subject: str
    email: str
    email_verified: bool
    name: str | None = None
    groups: list[str] = field(default_factory=list)
    mfa: bool = False


@dataclass(frozen=True)
class Decision:
    result: Result
    message: str  # what the person reads
    user: User | None = None
    reason: str | None = None  # the refusal's code (also in the audit trail)
    provisioned: bool = False
    # Our TOTP is still asked (when enrolled; staff and admins must enrol) unless this is set.
    mfa_by_idp: bool = False


REFUSALS = {
    "provider_deleted": "This identity provider no longer signs anyone in.",
    "domain_not_allowed": "Your identity provider vouched for an address whose domain it does "
    "not sign in for here. Ask your administrator.",
    "email_unverified": "Your identity provider did not confirm your e-mail address.",
    "disabled": "This account is disabled.",
    "other_organization": "This account belongs to another organisation than your identity "
    "provider's. Ask your administrator to link it.",
    "linked_elsewhere": "This account is already linked to another identity at your provider.",
    "bad_assertion": "Your identity provider's answer lacks a subject or an e-mail address.",
}


def _who(caller: Caller, user: User | None) -> Caller:
    return Caller.of_user(user, ip_address=caller.ip_address) if user is not None else caller


def _refuse(
    db: DbSession,
    caller: Caller,
    provider: IdentityProvider,
    assertion: Assertion,
    reason: str,
    user: User | None = None,
) -> Decision:
    details = {
        "reason": reason,
        "provider": provider.id,
        "protocol": provider.protocol,
        "domain": email_domain(assertion.email),
    }
    target = user.id if user is not None else None

    def record(session: DbSession) -> None:
        audit.record(
            session,
            caller,
            "sso.refused",
            target_type="user" if target else "identity_provider",
            target_id=target or provider.id,
            outcome="denied",
            details=details,
        )

    uow.durable(db, record)
    return Decision(Result.REFUSED, REFUSALS[reason], user=user, reason=reason)


def refuse(
    db: DbSession, caller: Caller, provider: IdentityProvider, reason: str, message: str
) -> None:
    """Record a refusal met before any assertion was read (bad state, bad token ...), durably.
    ``reason`` is a short code; ``message`` is not recorded (it may quote the provider)."""
    uow.durable(
        db,
        lambda session: audit.record(
            session,
            caller,
            "sso.refused",
            target_type="identity_provider",
            target_id=provider.id,
            outcome="denied",
            details={"reason": reason, "provider": provider.id, "protocol": provider.protocol},
        ),
    )


def _mapped_role(provider: IdentityProvider, groups: list[str]) -> Role:
    mapped = [Role(provider.group_roles[g]) for g in groups if g in provider.group_roles]
    return max(mapped, key=ROLE_RANK.index, default=Role.CUSTOMER)


def _signed_in(
    db: DbSession,
    caller: Caller,
    provider: IdentityProvider,
    link: ExternalIdentity,
    assertion: Assertion,
    provisioned: bool = False,
) -> Decision:
    user = link.user
    link.last_sign_in_at = utcnow()
    trusted = assertion.mfa and provider.trust_idp_mfa
    audit.record(
        db,
        _who(caller, user),
        "sso.sign_in",
        target_type="user",
        target_id=user.id,
        details={
            "provider": provider.id,
            "protocol": provider.protocol,
            "idp_mfa": assertion.mfa,
            "mfa_trusted": trusted,
        },
    )
    return Decision(
        Result.SIGNED_IN,
        f"Signed in through {provider.name}.",
        user=user,
        provisioned=provisioned,
        mfa_by_idp=trusted,
    )


def _provision(
    db: DbSession, caller: Caller, provider: IdentityProvider, assertion: Assertion
) -> Decision:
    org_id = provider.organization_id
    if org_id is None:  # a global provider: the organisation of the verified domain, if any
        org = organization_for_email(db, assertion.email)
        org_id = org.id if org else None
    role = _mapped_role(provider, assertion.groups)
    user = User(
        email=assertion.email.strip().lower(),
        name=(assertion.name or "")[:200],
        role=role.value,
        organization_id=org_id,
        password_hash=None,
        email_verified_at=utcnow(),
    )
    db.add(user)
    db.flush()
    link = ExternalIdentity(provider_id=provider.id, subject=assertion.subject, user_id=user.id)
    link.user = user
    db.add(link)
    db.flush()
    audit.record(
        db,
        caller,
        "sso.provisioned",
        target_type="user",
        target_id=user.id,
        details={
            "provider": provider.id,
            "protocol": provider.protocol,
            "role": role.value,
            "organization": org_id,
            "groups_mapped": sorted(g for g in assertion.groups if g in provider.group_roles),
        },
    )
    return _signed_in(db, caller, provider, link, assertion, provisioned=True)


def _in_other_organization(provider: IdentityProvider, user: User) -> bool:
    return provider.organization_id is not None and user.organization_id not in (
        None,
        provider.organization_id,
    )


def decide(
    db: DbSession, caller: Caller, provider: IdentityProvider, assertion: Assertion
) -> Decision:
    """What the assertion of a verified provider answer leads to (see the module's doc).
    The caller has already checked the answer itself (signature, audience, expiry, replay)."""
    if not provider.is_active:
        return _refuse(db, caller, provider, assertion, "provider_deleted")
    if not assertion.subject or not assertion.email or "@" not in assertion.email:
        return _refuse(db, caller, provider, assertion, "bad_assertion")
    if email_domain(assertion.email) not in provider.domains:
        return _refuse(db, caller, provider, assertion, "domain_not_allowed")
    link = db.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.provider_id == provider.id,
            ExternalIdentity.subject == assertion.subject,
        )
    )
    if link is not None:
        if not link.user.is_active:
            return _refuse(db, caller, provider, assertion, "disabled", link.user)
        if _in_other_organization(provider, link.user):
            return _refuse(db, caller, provider, assertion, "other_organization", link.user)
        return _signed_in(db, caller, provider, link, assertion)
    if not assertion.email_verified:
        return _refuse(db, caller, provider, assertion, "email_unverified")
    user = user_by_email(db, assertion.email)
    if user is None:
        return _provision(db, caller, provider, assertion)
    if not user.is_active:
        return _refuse(db, caller, provider, assertion, "disabled", user)
    if _in_other_organization(provider, user):
        return _refuse(db, caller, provider, assertion, "other_organization", user)
    if _link_of(db, provider, user) is not None:
        return _refuse(db, caller, provider, assertion, "linked_elsewhere", user)
    audit.record(
        db,
        _who(caller, user),
        "sso.link_required",
        target_type="user",
        target_id=user.id,
        details={"provider": provider.id, "protocol": provider.protocol},
    )
    message = (
        f"An account with the address {user.email} already exists. Enter its password once to "
        f"link it to {provider.name}; from then on you sign in through {provider.name}."
        if user.password_hash
        else f"An account with the address {user.email} already exists and has no password: "
        f"ask an administrator to link it to {provider.name}."
    )
    return Decision(Result.LINK_REQUIRED, message, user=user)


def _link_of(db: DbSession, provider: IdentityProvider, user: User) -> ExternalIdentity | None:
    return db.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.provider_id == provider.id, ExternalIdentity.user_id == user.id
        )
    )


def link_account(
    db: DbSession,
    caller: Caller,
    provider: IdentityProvider,
    user: User,
    subject: str,
    *,
    by: str,
) -> ExternalIdentity:
    """Link ``user`` to ``subject`` at ``provider``; ``by`` is "password" (the user proved it;
    the caller checked it) or "admin". Raises ValidationFailed when either side is linked."""
    if not subject or len(subject) > 400:
        raise ValidationFailed("the subject must be 1 to 400 characters")
    taken = db.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.provider_id == provider.id, ExternalIdentity.subject == subject
        )
    )
    if taken is not None or _link_of(db, provider, user) is not None:
        raise ValidationFailed("that account or that identity is already linked")
    link = ExternalIdentity(provider_id=provider.id, subject=subject, user_id=user.id)
    link.user = user
    db.add(link)
    db.flush()
    audit.record(
        db,
        caller,
        "sso.linked",
        target_type="user",
        target_id=user.id,
        details={"provider": provider.id, "protocol": provider.protocol, "by": by},
    )
    return link


def admin_link(
    db: DbSession, caller: Caller, provider: IdentityProvider, user_id: Any, subject: Any
) -> ExternalIdentity:
    """An admin links an account (e-mail or id) to a provider's subject. Raises
    PermissionDenied, ValidationFailed."""
    policy.require(caller, "identity_provider.manage")
    if not isinstance(user_id, str):
        raise ValidationFailed("'user' must be an account's e-mail or id")
    user = db.get(User, user_id) if is_id(user_id) else user_by_email(db, user_id)
    if user is None:
        raise ValidationFailed(f"no account {user_id!r}")
    if not isinstance(subject, str):
        raise ValidationFailed("'subject' must be a text")
    if _in_other_organization(provider, user):
        raise PermissionDenied("the account belongs to another organisation than the provider")
    return link_account(db, caller, provider, user, subject.strip(), by="admin")


def needs_totp(db: DbSession, user: User, decision: Decision) -> bool:
    """Whether our second factor is asked now (the account has one, and the provider's MFA is
    not trusted). Staff and admins without one are sent to enrol by the MFA gate."""
    return not decision.mfa_by_idp and mfa_service.is_enabled(db, user)
