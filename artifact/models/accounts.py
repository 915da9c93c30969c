"""Organisations, users, API tokens and server-side sessions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from artifact.models.base import Base, IdMixin, UTCDateTime, utcnow


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    AUDITOR = "auditor"
    STAFF = "staff"
    ADMIN = "admin"


ROLE_VALUES = tuple(role.value for role in Role)


class Organization(IdMixin, Base):
    __tablename__ = "organization"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[User]] = relationship(back_populates="organization")
    domains: Mapped[list[OrganizationDomain]] = relationship(
        back_populates="organization", order_by="OrganizationDomain.domain"
    )

    def __repr__(self) -> str:
        return f"<Organization {self.name!r}>"


class OrganizationDomain(IdMixin, Base):
    """An e-mail domain an admin has verified as the organisation's: accounts with an address
    at it belong to that organisation at sign-up, and approval rules may name it."""

    __tablename__ = "organization_domain"

    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id"), index=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))

    organization: Mapped[Organization] = relationship(back_populates="domains")


class User(IdMixin, Base):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("role IN ('customer', 'auditor', 'staff', 'admin')", name="role_known"),
    )

    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    organization_id: Mapped[str | None] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT"), index=True
    )
    is_org_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization | None] = relationship(back_populates="members")
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    # flask-login's protocol
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    def get_id(self) -> str:
        return self.id

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def __repr__(self) -> str:
        return f"<User {self.email!r} {self.role}>"


class ApiToken(IdMixin, Base):
    """A personal API token; only its SHA-256 is stored, the token is shown once."""

    __tablename__ = "api_token"

    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class UserSession(IdMixin, Base):
    """A signed-in browser session; the cookie carries a secret whose SHA-256 is stored here."""

    __tablename__ = "user_session"

    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(40))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))

    user: Mapped[User] = relationship()
