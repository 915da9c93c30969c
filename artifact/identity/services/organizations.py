"""Organisations and the e-mail domains an admin has verified as theirs.

A verified domain decides the organisation of an account signing up with an address at it, and
approval rules may name a domain. "Verified" is the admin's word that the organisation owns the
domain (checked out of band, as a trust center does); the product never guesses it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.kernel.caller import Caller
from artifact.kernel.errors import Conflict, NotFound, ValidationFailed
from artifact.models import Organization, OrganizationDomain
from artifact.models.base import DbSession, is_id

# A DNS name as e-mail uses it: labels of letters, digits and hyphens (not at either end), at
# least two labels, the last alphabetic (punycode "xn--" labels allowed).
_MAX_DOMAIN = 253


def normalize_domain(value: Any) -> str:
    """The domain in lower case, internationalised names as punycode (IDNA). Raises
    ValidationFailed with what is wrong."""
    if not isinstance(value, str):
        raise ValidationFailed("the domain must be a text like example.com")
    text = value.strip().rstrip(".").lower()
    if text.startswith("@"):
        text = text[1:]
    if not text:
        raise ValidationFailed("the domain is empty")
    try:
        ascii_name = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValidationFailed(f"{value!r} is not a valid domain name") from None
    labels = ascii_name.split(".")
    if len(ascii_name) > _MAX_DOMAIN or len(labels) < 2:
        raise ValidationFailed(f"{value!r} is not a domain name like example.com")
    for label in labels:
        if not (1 <= len(label) <= 63) or label.startswith("-") or label.endswith("-"):
            raise ValidationFailed(f"{value!r} is not a valid domain name")
        if not all(c.isascii() and (c.isalnum() or c == "-") for c in label):
            raise ValidationFailed(f"{value!r} is not a valid domain name")
    if not (labels[-1].isalpha() or labels[-1].startswith("xn--")):
        raise ValidationFailed(f"{value!r} does not end in a top-level domain")
    return ascii_name


def email_domain(email: str) -> str:
    """The domain part of an address, normalised ('' when there is none)."""
    _, at, domain = email.rpartition("@")
    if not at:
        return ""
    try:
        return normalize_domain(domain)
    except ValidationFailed:
        return ""


def organization_for_email(db: DbSession, email: str) -> Organization | None:
    """The organisation that verified the address's domain, if any."""
    domain = email_domain(email)
    if not domain:
        return None
    row = db.scalar(select(OrganizationDomain).where(OrganizationDomain.domain == domain))
    return row.organization if row else None


def list_organizations(db: DbSession, caller: Caller) -> list[Organization]:
    policy.require(caller, "organization.manage")
    return list(db.scalars(select(Organization).order_by(Organization.name)))


def _organization(db: DbSession, organization_id: str) -> Organization:
    org = db.get(Organization, organization_id) if is_id(organization_id) else None
    if org is None:
        raise NotFound("no such organisation")
    return org


def add_domain(
    db: DbSession, caller: Caller, organization_id: str, domain: Any
) -> OrganizationDomain:
    """Mark a domain as verified for the organisation. Raises NotFound, ValidationFailed,
    Conflict (the domain belongs to another organisation)."""
    policy.require(caller, "organization.manage")
    org = _organization(db, organization_id)
    name = normalize_domain(domain)
    existing = db.scalar(select(OrganizationDomain).where(OrganizationDomain.domain == name))
    if existing is not None:
        if existing.organization_id == org.id:
            return existing
        raise Conflict(f"{name} is already a verified domain of another organisation")
    row = OrganizationDomain(organization_id=org.id, domain=name, created_by_id=caller.user_id)
    db.add(row)
    db.flush()
    audit.record(
        db,
        caller,
        "organization.domain_add",
        target_type="organization",
        target_id=org.id,
        details={"domain": name},
    )
    return row


def remove_domain(db: DbSession, caller: Caller, organization_id: str, domain: Any) -> None:
    """Raises NotFound (no such organisation, or the domain is not one of its)."""
    policy.require(caller, "organization.manage")
    org = _organization(db, organization_id)
    try:
        name = normalize_domain(domain)
    except ValidationFailed:
        raise NotFound("the organisation has no such domain") from None
    row = db.scalar(
        select(OrganizationDomain).where(
            OrganizationDomain.domain == name, OrganizationDomain.organization_id == org.id
        )
    )
    if row is None:
        raise NotFound("the organisation has no such domain")
    db.delete(row)
    audit.record(
        db,
        caller,
        "organization.domain_remove",
        target_type="organization",
        target_id=org.id,
        details={"domain": name},
    )


def organization_json(org: Organization) -> dict[str, Any]:
    return {
        "id": org.id,
        "name": org.name,
        "domains": [d.domain for d in org.domains],
        "members": len(org.members),
    }
