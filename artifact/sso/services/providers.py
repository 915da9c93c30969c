"""Identity providers: register, list and delete them (admins); find the one for an e-mail
domain; whether an organisation requires SSO. The OIDC client secret is sealed with the
keyring (as webhook secrets and TOTP seeds are) and never shown again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.identity.services.organizations import email_domain, normalize_domain
from artifact.infra import webhook_http
from artifact.infra.storage.kek import KeyProvider
from artifact.kernel.caller import Caller
from artifact.kernel.errors import Conflict, NotFound, ValidationFailed
from artifact.models import IdentityProvider, Organization, User
from artifact.models.accounts import ROLE_VALUES
from artifact.models.base import DbSession, is_id, new_id, utcnow
from artifact.models.sso import Protocol
from artifact.sso import saml
from artifact.sso.services import secrets

METADATA_MAX = 1_000_000
COMMON_FIELDS = frozenset(
    {
        "protocol",
        "name",
        "organization",
        "domains",
        "require_sso",
        "show_on_sign_in",
        "name_claim",
        "group_claim",
        "group_roles",
        "trust_idp_mfa",
    }
)
OIDC_FIELDS = frozenset({"issuer", "client_id", "client_secret"})
SAML_FIELDS = frozenset({"metadata_xml", "metadata_url", "entity_id"})


def _text(body: dict[str, Any], key: str, *, limit: int, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        if required:
            raise ValidationFailed(f"'{key}' is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(f"'{key}' must be a non-empty text")
    if len(value) > limit or "\x00" in value:
        raise ValidationFailed(f"'{key}' must be at most {limit} characters")
    return value.strip()


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise ValidationFailed(f"'{key}' must be true or false")
    return value


def _url(body: dict[str, Any], key: str, *, production: bool, required: bool) -> str | None:
    value = _text(body, key, limit=2000, required=required)
    if value is None:
        return None
    try:
        webhook_http.check_url(value, production=production)
    except webhook_http.TargetRefused as error:
        raise ValidationFailed(f"'{key}': {error}") from error
    return value.rstrip("/") if key == "issuer" else value


def _organization(db: DbSession, value: Any) -> Organization | None:
    """By id or by name; None (absent) for a global provider."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationFailed("'organization' must be an organisation's name or id")
    org = db.get(Organization, value) if is_id(value) else None
    org = org or db.scalar(select(Organization).where(Organization.name == value.strip()))
    if org is None:
        raise ValidationFailed(f"no organisation named {value!r}")
    return org


def _domains(db: DbSession, value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ValidationFailed("'domains' must be a non-empty list of e-mail domains")
    domains = sorted({normalize_domain(d) for d in value})
    for provider in active_providers(db):
        taken = set(provider.domains) & set(domains)
        if taken:
            raise Conflict(f"{sorted(taken)[0]} already signs in through {provider.name!r}")
    return domains


def _group_roles(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k and len(k) <= 200 and v in ROLE_VALUES for k, v in value.items()
    ):
        raise ValidationFailed(
            f"'group_roles' must map group names to a role: {', '.join(ROLE_VALUES)}"
        )
    return dict(value)


def create_provider(
    db: DbSession,
    caller: Caller,
    keyring: KeyProvider,
    body: dict[str, Any],
    *,
    production: bool,
) -> IdentityProvider:
    """Register a provider. Raises PermissionDenied, ValidationFailed, Conflict (a domain
    already signs in through another provider)."""
    policy.require(caller, "identity_provider.manage")
    protocol = body.get("protocol")
    if protocol not in tuple(Protocol):
        raise ValidationFailed("'protocol' must be 'oidc' or 'saml'")
    # Members another protocol (or nobody) uses are ignored, as everywhere in the API.
    org = _organization(db, body.get("organization"))
    require_sso = _flag(body, "require_sso")
    if require_sso and org is None:
        raise ValidationFailed("'require_sso' needs an 'organization' whose members it binds")
    provider = IdentityProvider(
        id=new_id(),
        name=_text(body, "name", limit=200, required=True),
        protocol=protocol,
        organization_id=org.id if org else None,
        domains=_domains(db, body.get("domains")),
        require_sso=require_sso,
        show_on_sign_in=_flag(body, "show_on_sign_in"),
        name_claim=_text(body, "name_claim", limit=100) or "name",
        group_claim=_text(body, "group_claim", limit=100) or "groups",
        group_roles=_group_roles(body.get("group_roles")),
        trust_idp_mfa=_flag(body, "trust_idp_mfa"),
        created_by_id=caller.user_id,
    )
    if protocol == Protocol.OIDC:
        provider.issuer = _url(body, "issuer", production=production, required=True)
        provider.client_id = _text(body, "client_id", limit=400, required=True)
        secret = _text(body, "client_secret", limit=600)
        if secret is not None:
            provider.client_secret_ciphertext = seal_secret(keyring, provider.id, secret)
    else:
        provider.metadata_xml = _text(body, "metadata_xml", limit=METADATA_MAX)
        provider.metadata_url = _url(body, "metadata_url", production=production, required=False)
        provider.entity_id = _text(body, "entity_id", limit=2000)
        if (provider.metadata_xml is None) == (provider.metadata_url is None):
            raise ValidationFailed("give one of 'metadata_xml' or 'metadata_url'")
        if provider.metadata_xml is not None:
            try:
                provider.entity_id = saml.idp_entity_id(provider.metadata_xml)
            except saml.SamlRefused as error:
                raise ValidationFailed(f"'metadata_xml': {error.message}") from error
    db.add(provider)
    db.flush()
    audit.record(
        db,
        caller,
        "sso.provider_create",
        target_type="identity_provider",
        target_id=provider.id,
        details={
            "protocol": protocol,
            "name": provider.name,
            "organization": org.name if org else None,
            "domains": provider.domains,
            "require_sso": provider.require_sso,
            "show_on_sign_in": provider.show_on_sign_in,
            "trust_idp_mfa": provider.trust_idp_mfa,
        },
    )
    return provider


def seal_secret(keyring: KeyProvider, provider_id: str, secret: str) -> str:
    return secrets.seal(keyring, provider_id, secret)


def client_secret(keyring: KeyProvider, provider: IdentityProvider) -> str | None:
    """The OIDC client secret, or None for a public client. Raises secretbox.MissingKey."""
    return secrets.open_secret(keyring, provider)


def active_providers(db: DbSession, protocol: str | None = None) -> list[IdentityProvider]:
    stmt = select(IdentityProvider).where(IdentityProvider.deleted_at.is_(None))
    if protocol is not None:
        stmt = stmt.where(IdentityProvider.protocol == protocol)
    return list(db.scalars(stmt.order_by(IdentityProvider.name, IdentityProvider.id)))


def list_providers(db: DbSession, caller: Caller) -> list[IdentityProvider]:
    policy.require(caller, "identity_provider.manage")
    return active_providers(db)


def active_provider(
    db: DbSession, provider_id: str, protocol: str | None = None
) -> IdentityProvider:
    """A provider that signs in (anyone may start a sign-in). Raises NotFound."""
    provider = db.get(IdentityProvider, provider_id) if is_id(provider_id) else None
    if provider is None or not provider.is_active:
        raise NotFound("no such identity provider")
    if protocol is not None and provider.protocol != protocol:
        raise NotFound("no such identity provider")
    return provider


def delete_provider(db: DbSession, caller: Caller, provider_id: str) -> IdentityProvider:
    """It stops signing anyone in; its links and record stay for the trail. Raises
    PermissionDenied, NotFound."""
    policy.require(caller, "identity_provider.manage")
    provider = active_provider(db, provider_id)
    provider.deleted_at = utcnow()
    audit.record(
        db,
        caller,
        "sso.provider_delete",
        target_type="identity_provider",
        target_id=provider.id,
        details={"name": provider.name, "domains": list(provider.domains)},
    )
    return provider


def provider_for_email(db: DbSession, email: str) -> IdentityProvider | None:
    """The provider that signs in addresses at the e-mail's domain, if any."""
    domain = email_domain(email or "")
    if not domain:
        return None
    return next((p for p in active_providers(db) if domain in p.domains), None)


def required_provider(db: DbSession, email: str, user: User | None) -> IdentityProvider | None:
    """The provider through which this address (or this account's organisation) must sign in,
    when an organisation requires SSO: its members' passwords are refused."""
    by_domain = provider_for_email(db, email)
    if by_domain is not None and by_domain.require_sso:
        return by_domain
    if user is None or user.organization_id is None:
        return None
    return next(
        (
            p
            for p in active_providers(db)
            if p.require_sso and p.organization_id == user.organization_id
        ),
        None,
    )


def provider_json(provider: IdentityProvider) -> dict[str, Any]:
    """What the API shows (never the client secret)."""
    org = provider.organization
    return {
        "id": provider.id,
        "name": provider.name,
        "protocol": provider.protocol,
        "organization": org.name if org else None,
        "organization_id": provider.organization_id,
        "domains": list(provider.domains),
        "require_sso": provider.require_sso,
        "show_on_sign_in": provider.show_on_sign_in,
        "name_claim": provider.name_claim,
        "group_claim": provider.group_claim,
        "group_roles": dict(provider.group_roles),
        "trust_idp_mfa": provider.trust_idp_mfa,
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "has_client_secret": provider.client_secret_ciphertext is not None,
        "metadata_url": provider.metadata_url,
        "has_metadata_xml": provider.metadata_xml is not None,
        "entity_id": provider.entity_id,
        "created_at": provider.created_at.isoformat() if provider.created_at else None,
    }
