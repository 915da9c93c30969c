"""Single sign-on: the identity providers admins register (OpenID Connect or SAML 2.0), the
links between a provider's subjects and our accounts, and the one-time values (nonces,
assertion ids) a provider's answers may carry only once."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from artifact.models.accounts import Organization, User
from artifact.models.base import Base, IdMixin, UTCDateTime, utcnow


class Protocol(enum.StrEnum):
    OIDC = "oidc"
    SAML = "saml"


class IdentityProvider(IdMixin, Base):
    """A company's identity provider. It signs in (and provisions just in time) the accounts
    of its e-mail ``domains`` into its ``organization`` (None: a global provider, whose new
    accounts join the organisation owning their verified domain, if any). Deleting one keeps
    the record (its links and the audit trail name it) with ``deleted_at`` set."""

    __tablename__ = "identity_provider"
    __table_args__ = (CheckConstraint("protocol IN ('oidc', 'saml')", name="protocol_known"),)

    name: Mapped[str] = mapped_column(String(200))  # "Sign in with <name>"
    protocol: Mapped[str] = mapped_column(String(10))
    organization_id: Mapped[str | None] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT"), index=True
    )
    domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A "Sign in with <name>" button on the public sign-in page. Off by default: the page
    # would otherwise list the customers; their people find it by typing their address.
    show_on_sign_in: Mapped[bool] = mapped_column(Boolean, default=False)
    # Members of the organisation may not sign in with a password.
    require_sso: Mapped[bool] = mapped_column(Boolean, default=False)
    name_claim: Mapped[str] = mapped_column(String(100), default="name")
    group_claim: Mapped[str] = mapped_column(String(100), default="groups")
    # {"group name": "role"}: a new account gets the highest role its groups map to.
    group_roles: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Staff and admins skip our TOTP when the provider asserts it did multi-factor.
    trust_idp_mfa: Mapped[bool] = mapped_column(Boolean, default=False)
    # OpenID Connect
    issuer: Mapped[str | None] = mapped_column(String(2000))
    client_id: Mapped[str | None] = mapped_column(String(400))
    client_secret_ciphertext: Mapped[str | None] = mapped_column(String(1000))
    # SAML 2.0: the IdP's metadata (pasted, or fetched from a URL) and its entity id
    metadata_xml: Mapped[str | None] = mapped_column(Text)
    metadata_url: Mapped[str | None] = mapped_column(String(2000))
    entity_id: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    def __repr__(self) -> str:
        return f"<IdentityProvider {self.protocol} {self.name!r}>"


class ExternalIdentity(IdMixin, Base):
    """One account's identity at one provider: the provider's stable subject (OIDC ``sub``,
    SAML NameID) is what signs in, not the e-mail address it asserts."""

    __tablename__ = "external_identity"
    __table_args__ = (
        UniqueConstraint("provider_id", "subject", name="uq_external_identity_subject"),
        UniqueConstraint("provider_id", "user_id", name="uq_external_identity_user"),
    )

    provider_id: Mapped[str] = mapped_column(
        ForeignKey("identity_provider.id", ondelete="RESTRICT")
    )
    subject: Mapped[str] = mapped_column(String(400))
    user_id: Mapped[str] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    provider: Mapped[IdentityProvider] = relationship()
    user: Mapped[User] = relationship()


class SsoSeenValue(Base):
    """A one-time value a provider's answer carried (an OIDC nonce, a SAML assertion id), kept
    (as a SHA-256) until it expires: the same value again is a replay."""

    __tablename__ = "sso_seen_value"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("identity_provider.id"), index=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
