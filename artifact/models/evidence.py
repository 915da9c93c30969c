"""Evidence: staff-uploaded files with immutable versions, links to requirements and approvals.

The state a user sees is computed on read (like a report's outdated state): evidence whose
expiry date has passed is expired whatever its stored state. An approval is of one version;
a new version returns the evidence to draft.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from artifact.models.accounts import User
from artifact.models.base import Base, IdMixin, UTCDateTime, utcnow
from artifact.models.frameworks import Requirement


class EvidenceState(enum.StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    EXPIRED = "expired"  # never stored: computed from the expiry date


STORED_STATES = (EvidenceState.DRAFT, EvidenceState.IN_REVIEW, EvidenceState.APPROVED)
STATE_LABELS: dict[str, str] = {
    EvidenceState.DRAFT: "draft",
    EvidenceState.IN_REVIEW: "in review",
    EvidenceState.APPROVED: "approved",
    EvidenceState.EXPIRED: "expired",
}


class Evidence(IdMixin, Base):
    __tablename__ = "evidence"
    __table_args__ = (
        CheckConstraint("state IN ('draft', 'in_review', 'approved')", name="state_known"),
        CheckConstraint(
            "expires_on IS NULL OR expires_on >= effective_date", name="expires_after_effective"
        ),
    )

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    # When the evidence was collected, and when it must be collected again (of the current
    # version; each version keeps its own).
    effective_date: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    state: Mapped[str] = mapped_column(String(20), default=EvidenceState.DRAFT, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    versions: Mapped[list[EvidenceVersion]] = relationship(
        back_populates="evidence",
        order_by="EvidenceVersion.number",
        foreign_keys="EvidenceVersion.evidence_id",
    )
    links: Mapped[list[EvidenceLink]] = relationship(
        back_populates="evidence", cascade="all, delete-orphan"
    )
    approvals: Mapped[list[EvidenceApproval]] = relationship(
        back_populates="evidence", order_by="EvidenceApproval.approved_at"
    )

    def display_state(self, today: date) -> str:
        """Expired once the expiry date has passed, whatever the stored state."""
        if self.expires_on is not None and self.expires_on < today:
            return EvidenceState.EXPIRED
        return self.state

    def current_version(self) -> EvidenceVersion | None:
        return self.versions[-1] if self.versions else None

    def approval(self) -> EvidenceApproval | None:
        """The approval of the current version, if it has one."""
        current = self.current_version()
        last = self.approvals[-1] if self.approvals else None
        if current is None or last is None or last.version_id != current.id:
            return None
        return last

    def is_current_approved(self, today: date) -> bool:
        """Approved, the approval is of the current version, and not expired."""
        return self.display_state(today) == EvidenceState.APPROVED and self.approval() is not None

    def __repr__(self) -> str:
        return f"<Evidence {self.title!r} {self.state}>"


class EvidenceVersion(IdMixin, Base):
    """An immutable uploaded file (database triggers refuse updates and deletes)."""

    __tablename__ = "evidence_version"
    __table_args__ = (UniqueConstraint("evidence_id", "number", name="uq_evidence_version_number"),)

    evidence_id: Mapped[str] = mapped_column(
        ForeignKey("evidence.id", ondelete="RESTRICT"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    blob_id: Mapped[str] = mapped_column(String(32), unique=True)
    filename: Mapped[str] = mapped_column(String(255))  # the client's name, sanitised
    file_type: Mapped[str] = mapped_column(String(10))  # pdf, png, jpeg, csv, xlsx, docx, text
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    effective_date: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))

    evidence: Mapped[Evidence] = relationship(back_populates="versions", foreign_keys=[evidence_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class EvidenceLink(IdMixin, Base):
    """Evidence addresses a requirement (directly; coverage infers the rest by crosswalk)."""

    __tablename__ = "evidence_link"
    __table_args__ = (
        UniqueConstraint("evidence_id", "requirement_id", name="uq_evidence_link_pair"),
    )

    evidence_id: Mapped[str] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), index=True
    )
    requirement_id: Mapped[str] = mapped_column(
        ForeignKey("requirement.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))

    evidence: Mapped[Evidence] = relationship(back_populates="links")
    requirement: Mapped[Requirement] = relationship()


class EvidenceApproval(IdMixin, Base):
    """A staff member other than its uploader approved one version (never edited)."""

    __tablename__ = "evidence_approval"

    evidence_id: Mapped[str] = mapped_column(
        ForeignKey("evidence.id", ondelete="RESTRICT"), index=True
    )
    version_id: Mapped[str] = mapped_column(ForeignKey("evidence_version.id"))
    approved_by_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")

    evidence: Mapped[Evidence] = relationship(back_populates="approvals")
    version: Mapped[EvidenceVersion] = relationship()
    approved_by: Mapped[User] = relationship()
