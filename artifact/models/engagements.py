"""Audit engagements: an external firm tests one framework (or a set of requirements) over one
period; its auditors read the evidence in scope while the engagement is open and exchange a
request list (PBC, "provided by client") with staff.

Whether an auditor may see an engagement now is the policy's question (``artifact.policy``):
state open and today within ``starts_on``..``ends_on``. Nothing here is deleted: closing is a
state change with who and when, and every view and download is in the audit trail.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
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

from artifact.models.accounts import Organization, User
from artifact.models.base import Base, IdMixin, UTCDateTime, utcnow
from artifact.models.evidence import Evidence, EvidenceVersion
from artifact.models.frameworks import Framework, Requirement


class EngagementState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    READY = "ready"  # ready for the auditor's review
    ACCEPTED = "accepted"
    RETURNED = "returned"


REQUEST_STATUS_LABELS: dict[str, str] = {
    RequestStatus.OPEN: "open",
    RequestStatus.IN_PROGRESS: "in progress",
    RequestStatus.READY: "ready for review",
    RequestStatus.ACCEPTED: "accepted",
    RequestStatus.RETURNED: "returned",
}
# Waiting on the company: these count as overdue once their due date has passed.
PENDING_STATUSES = (RequestStatus.OPEN, RequestStatus.IN_PROGRESS, RequestStatus.RETURNED)


class Engagement(IdMixin, Base):
    __tablename__ = "engagement"
    __table_args__ = (
        CheckConstraint("state IN ('open', 'closed')", name="state_known"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
    )

    name: Mapped[str] = mapped_column(String(200))
    # The audit firm: every auditor on the engagement is a member of it.
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id"), index=True)
    # The scope: a whole framework, or (when None) the requirements listed in ``scope``.
    framework_id: Mapped[str | None] = mapped_column(ForeignKey("framework.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    # When the auditors' access begins and ends (inclusive, UTC days).
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default=EngagementState.OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))

    organization: Mapped[Organization] = relationship()
    framework: Mapped[Framework | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    auditors: Mapped[list[EngagementAuditor]] = relationship(
        back_populates="engagement", cascade="all, delete-orphan"
    )
    scope: Mapped[list[EngagementRequirement]] = relationship(
        back_populates="engagement", cascade="all, delete-orphan"
    )
    requests: Mapped[list[EngagementRequest]] = relationship(
        back_populates="engagement", order_by="EngagementRequest.number"
    )

    def auditor_ids(self) -> set[str]:
        return {a.user_id for a in self.auditors}

    def __repr__(self) -> str:
        return f"<Engagement {self.name!r} {self.state}>"


class EngagementAuditor(IdMixin, Base):
    __tablename__ = "engagement_auditor"
    __table_args__ = (UniqueConstraint("engagement_id", "user_id", name="uq_engagement_auditor"),)

    engagement_id: Mapped[str] = mapped_column(
        ForeignKey("engagement.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    engagement: Mapped[Engagement] = relationship(back_populates="auditors")
    user: Mapped[User] = relationship()


class EngagementRequirement(IdMixin, Base):
    """A requirement in scope of an engagement that names requirements instead of a framework."""

    __tablename__ = "engagement_requirement"
    __table_args__ = (
        UniqueConstraint("engagement_id", "requirement_id", name="uq_engagement_requirement"),
    )

    engagement_id: Mapped[str] = mapped_column(
        ForeignKey("engagement.id", ondelete="CASCADE"), index=True
    )
    requirement_id: Mapped[str] = mapped_column(ForeignKey("requirement.id"), index=True)

    engagement: Mapped[Engagement] = relationship(back_populates="scope")
    requirement: Mapped[Requirement] = relationship()


class EngagementRequest(IdMixin, Base):
    """One item of the request list (PBC)."""

    __tablename__ = "engagement_request"
    __table_args__ = (
        UniqueConstraint("engagement_id", "number", name="uq_engagement_request_number"),
        CheckConstraint(
            "status IN ('open', 'in_progress', 'ready', 'accepted', 'returned')",
            name="status_known",
        ),
        CheckConstraint("sample_size IS NULL OR sample_size > 0", name="sample_positive"),
    )

    engagement_id: Mapped[str] = mapped_column(
        ForeignKey("engagement.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... within the engagement ("PBC-3")
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    # Requirement names ("framework:ref") inside the engagement's scope.
    requirement_refs: Mapped[list[str]] = mapped_column(JSON, default=list)
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    sample_size: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=RequestStatus.OPEN, index=True)
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    engagement: Mapped[Engagement] = relationship(back_populates="requests")
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    comments: Mapped[list[RequestComment]] = relationship(
        back_populates="request", order_by="RequestComment.created_at"
    )
    attachments: Mapped[list[RequestEvidence]] = relationship(
        back_populates="request", order_by="RequestEvidence.attached_at"
    )

    def is_overdue(self, today: date) -> bool:
        """Past its due date while still waiting on the company."""
        return self.due_on is not None and self.due_on < today and self.status in PENDING_STATUSES


class RequestComment(IdMixin, Base):
    """One message of a request's thread (never edited). ``kind`` is ``return`` for the comment
    an auditor sends a request back with."""

    __tablename__ = "engagement_request_comment"

    request_id: Mapped[str] = mapped_column(
        ForeignKey("engagement_request.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(10), default="comment")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[EngagementRequest] = relationship(back_populates="comments")
    author: Mapped[User | None] = relationship()


class RequestEvidence(IdMixin, Base):
    """Evidence attached to a request: the item and the approved version in scope at the time."""

    __tablename__ = "engagement_request_evidence"
    __table_args__ = (
        UniqueConstraint("request_id", "evidence_id", name="uq_request_evidence_pair"),
    )

    request_id: Mapped[str] = mapped_column(
        ForeignKey("engagement_request.id", ondelete="CASCADE"), index=True
    )
    evidence_id: Mapped[str] = mapped_column(ForeignKey("evidence.id"), index=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("evidence_version.id"))
    attached_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attached_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))

    request: Mapped[EngagementRequest] = relationship(back_populates="attachments")
    evidence: Mapped[Evidence] = relationship()
    version: Mapped[EvidenceVersion] = relationship()
    attached_by: Mapped[User | None] = relationship()


class EngagementReceipt(Base):
    """One download of evidence through an engagement: the receipt id stamped into the copy
    names who took it (like ``DownloadReceipt`` for reports)."""

    __tablename__ = "engagement_receipt"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    engagement_id: Mapped[str] = mapped_column(ForeignKey("engagement.id"), index=True)
    evidence_id: Mapped[str] = mapped_column(ForeignKey("evidence.id"), index=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("evidence_version.id"))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    organization: Mapped[str | None] = mapped_column(String(200))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    audit_seq: Mapped[int | None] = mapped_column(BigInteger)

    engagement: Mapped[Engagement] = relationship()
    version: Mapped[EvidenceVersion] = relationship()
