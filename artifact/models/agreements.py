"""Agreements (NDA, BAA, terms), their immutable versions, click-through acceptances and
terminations. Acceptance and termination rows are append-only: the database refuses UPDATE and
DELETE on them (triggers in migration g001), so the record an auditor reads is the one written."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from artifact.models.accounts import Organization, User
from artifact.models.base import Base, IdMixin, UTCDateTime, utcnow


class AgreementKind(enum.StrEnum):
    NDA = "nda"
    BAA = "baa"
    TERMS = "terms"


class AcceptanceScope(enum.StrEnum):
    ACCOUNT = "account"
    ORGANIZATION = "organization"


class Agreement(IdMixin, Base):
    __tablename__ = "agreement"
    __table_args__ = (CheckConstraint("kind IN ('nda', 'baa', 'terms')", name="kind_known"),)

    title: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))

    versions: Mapped[list[AgreementVersion]] = relationship(
        back_populates="agreement", order_by="AgreementVersion.number"
    )

    @property
    def current(self) -> AgreementVersion:
        return self.versions[-1]


class AgreementVersion(IdMixin, Base):
    """One published text; never changed (a change is a new version)."""

    __tablename__ = "agreement_version"
    __table_args__ = (
        UniqueConstraint("agreement_id", "number", name="uq_agreement_version_number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreement.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))

    agreement: Mapped[Agreement] = relationship(back_populates="versions")
    created_by: Mapped[User | None] = relationship()


class Acceptance(IdMixin, Base):
    """A click-through acceptance, exactly as it happened; append-only."""

    __tablename__ = "agreement_acceptance"
    __table_args__ = (
        CheckConstraint("scope IN ('account', 'organization')", name="scope_known"),
        CheckConstraint(
            "scope = 'account' OR organization_id IS NOT NULL", name="org_scope_has_org"
        ),
    )

    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreement.id"), index=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("agreement_version.id"), index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    organization_id: Mapped[str | None] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT"), index=True
    )
    scope: Mapped[str] = mapped_column(String(20))
    text_sha256: Mapped[str] = mapped_column(String(64))
    typed_name: Mapped[str] = mapped_column(String(200))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))

    agreement: Mapped[Agreement] = relationship()
    version: Mapped[AgreementVersion] = relationship()
    user: Mapped[User] = relationship()
    organization: Mapped[Organization | None] = relationship()
    termination: Mapped[Termination | None] = relationship(back_populates="acceptance")


class Termination(IdMixin, Base):
    """The end of an acceptance: a new record, never an edit of the acceptance; append-only."""

    __tablename__ = "agreement_termination"

    acceptance_id: Mapped[str] = mapped_column(ForeignKey("agreement_acceptance.id"), unique=True)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    terminated_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    ip_address: Mapped[str | None] = mapped_column(String(64))

    acceptance: Mapped[Acceptance] = relationship(back_populates="termination")
    terminated_by: Mapped[User | None] = relationship()
