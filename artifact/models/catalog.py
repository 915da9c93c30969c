"""The catalog: reports (stable records), their immutable versions, grants, access requests and
download receipts."""

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
from artifact.models.agreements import Agreement
from artifact.models.base import Base, IdMixin, UTCDateTime, utcnow


class Category(enum.StrEnum):
    CERTIFICATIONS = "certifications"
    REPORTS = "reports"
    REGULATIONS = "regulations"
    AGREEMENTS = "agreements"


CATEGORY_LABELS = {
    Category.CERTIFICATIONS: "Certifications and attestations",
    Category.REPORTS: "Reports",
    Category.REGULATIONS: "Regulations",
    Category.AGREEMENTS: "Agreements",
}


class State(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    OUTDATED = "outdated"
    RETIRED = "retired"


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    CUSTOMERS = "customers"
    RESTRICTED = "restricted"


class RequestState(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Report(IdMixin, Base):
    __tablename__ = "report"
    __table_args__ = (
        CheckConstraint(_in("category", Category), name="category_known"),
        CheckConstraint(_in("state", State), name="state_known"),
        CheckConstraint(_in("visibility", Visibility), name="visibility_known"),
    )

    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20), index=True)
    series: Mapped[str] = mapped_column(String(80), default="", index=True)
    issuer: Mapped[str] = mapped_column(String(200), default="")
    product: Mapped[str] = mapped_column(String(200), default="")
    frameworks: Mapped[list[str]] = mapped_column(JSON, default=list)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default=State.DRAFT)
    visibility: Mapped[str] = mapped_column(String(20), default=Visibility.RESTRICTED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    # Downloads need an active acceptance of this agreement's current version (the terms gate).
    terms_agreement_id: Mapped[str | None] = mapped_column(
        ForeignKey("agreement.id", ondelete="RESTRICT"), index=True
    )

    terms_agreement: Mapped[Agreement | None] = relationship()
    versions: Mapped[list[ReportVersion]] = relationship(
        back_populates="report", order_by="ReportVersion.number"
    )

    def display_state(self, today: date) -> str:
        """The state users see: a published report whose period has ended is outdated."""
        ended = self.period_end is not None and self.period_end < today
        if self.state == State.PUBLISHED and ended:
            return State.OUTDATED
        return self.state

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS.get(Category(self.category), self.category)

    def current_version(self) -> ReportVersion | None:
        live = [v for v in self.versions if v.purged_at is None]
        return live[-1] if live else None

    def __repr__(self) -> str:
        return f"<Report {self.title!r} {self.state} {self.visibility}>"


class ReportVersion(IdMixin, Base):
    """An immutable uploaded file; purging destroys its data key and keeps the record."""

    __tablename__ = "report_version"
    __table_args__ = (UniqueConstraint("report_id", "number", name="uq_report_version_number"),)

    report_id: Mapped[str] = mapped_column(ForeignKey("report.id", ondelete="RESTRICT"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    blob_id: Mapped[str] = mapped_column(String(32), unique=True)
    filename: Mapped[str] = mapped_column(String(255))  # the client's name, sanitised; metadata
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    page_count: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What changed in this version, as staff wrote it at upload.
    release_notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    # What qpdf repaired or tolerated reading the upload, and what copies handed out do not
    # carry (active content); None for versions uploaded before these were recorded.
    pdf_warnings: Mapped[list[str] | None] = mapped_column(JSON)
    removed_content: Mapped[list[str] | None] = mapped_column(JSON)

    report: Mapped[Report] = relationship(back_populates="versions")


class Grant(IdMixin, Base):
    """Access to a restricted report, a whole series or a category, for a user or organisation."""

    __tablename__ = "report_grant"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN report_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN series IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN category IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_scope",
        ),
        CheckConstraint("(user_id IS NULL) <> (organization_id IS NULL)", name="one_grantee"),
    )

    report_id: Mapped[str | None] = mapped_column(ForeignKey("report.id"), index=True)
    series: Mapped[str | None] = mapped_column(String(80))
    category: Mapped[str | None] = mapped_column(String(20))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organization.id"), index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    report: Mapped[Report | None] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    organization: Mapped[Organization | None] = relationship()

    @property
    def scope_label(self) -> str:
        if self.report is not None:
            return f"report {self.report.title}"
        return f"series {self.series}" if self.series else f"category {self.category}"

    @property
    def grantee_label(self) -> str:
        if self.user is not None:
            return self.user.email
        return self.organization.name if self.organization else "?"


class AccessRequest(IdMixin, Base):
    __tablename__ = "access_request"
    __table_args__ = (
        CheckConstraint(_in("state", RequestState), name="state_known"),
        CheckConstraint(
            "(CASE WHEN report_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN series IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN category IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_scope",
        ),
    )

    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    report_id: Mapped[str | None] = mapped_column(ForeignKey("report.id"), index=True)
    series: Mapped[str | None] = mapped_column(String(80))
    category: Mapped[str | None] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default=RequestState.PENDING, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    grant_id: Mapped[str | None] = mapped_column(ForeignKey("report_grant.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    report: Mapped[Report | None] = relationship()

    @property
    def scope_label(self) -> str:
        if self.report is not None:
            return f"report {self.report.title}"
        return f"series {self.series}" if self.series else f"category {self.category}"


class DownloadReceipt(Base):
    """One download: the receipt id stamped into the copy names who took it."""

    __tablename__ = "download_receipt"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("report.id"), index=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("report_version.id"))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    organization: Mapped[str | None] = mapped_column(String(200))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    audit_seq: Mapped[int | None] = mapped_column(BigInteger)

    report: Mapped[Report] = relationship()
    version: Mapped[ReportVersion] = relationship()
