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
    """The categories every installation starts with (seeded by migration r001); staff may add
    others as ``ReportCategory`` records. These slugs never change."""

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


class Listing(enum.StrEnum):
    """Whether non-staff find a report in the catalog list and search (``hidden``: only by a
    direct link, and only those the policy lets see it)."""

    LISTED = "listed"
    HIDDEN = "hidden"


class RequestState(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class ReportCategory(IdMixin, Base):
    """A category of the catalog, managed by staff. ``slug`` is what reports, grants and access
    requests store; it never changes (the validity rules key on ``certifications`` and
    ``reports``); ``name``, ``description`` and ``position`` (the order lists show) do."""

    __tablename__ = "report_category"

    slug: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportSeries(IdMixin, Base):
    """A series: one recurring line of documents (each year's SOC 2 report, an ISO 27001
    certificate and its renewals), managed by staff. ``slug`` is what reports, grants and
    access requests store and never changes; renaming changes ``name`` only."""

    __tablename__ = "report_series"

    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Report(IdMixin, Base):
    __tablename__ = "report"
    __table_args__ = (
        CheckConstraint(_in("state", State), name="state_known"),
        CheckConstraint(_in("visibility", Visibility), name="visibility_known"),
        CheckConstraint(_in("listing", Listing), name="listing_known"),
    )

    title: Mapped[str] = mapped_column(String(200))
    # A category's slug (report_category.slug); the services also check a series against
    # report_series (a report's series may be empty, so it has no foreign key).
    category: Mapped[str] = mapped_column(
        ForeignKey("report_category.slug", ondelete="RESTRICT"), index=True
    )
    series: Mapped[str] = mapped_column(String(80), default="", index=True)
    issuer: Mapped[str] = mapped_column(String(200), default="")
    product: Mapped[str] = mapped_column(String(200), default="")
    frameworks: Mapped[list[str]] = mapped_column(JSON, default=list)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    issued_on: Mapped[date | None] = mapped_column(Date)
    # Set by staff; when None the validity follows the category (catalog/services/validity.py).
    valid_until: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default=State.DRAFT)
    visibility: Mapped[str] = mapped_column(String(20), default=Visibility.RESTRICTED)
    listing: Mapped[str] = mapped_column(
        String(10), default=Listing.LISTED, server_default=Listing.LISTED.value
    )
    # A bridge letter is a report of its own that names the report whose period it extends.
    bridges_report_id: Mapped[str | None] = mapped_column(
        ForeignKey("report.id", ondelete="RESTRICT"), index=True
    )
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
    category_record: Mapped[ReportCategory] = relationship(lazy="joined")
    series_record: Mapped[ReportSeries | None] = relationship(
        primaryjoin="foreign(Report.series) == ReportSeries.slug", viewonly=True, lazy="joined"
    )
    bridges: Mapped[Report | None] = relationship(remote_side="Report.id")

    @property
    def category_label(self) -> str:
        return self.category_record.name if self.category_record else self.category

    @property
    def series_label(self) -> str:
        return self.series_record.name if self.series_record else self.series

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
    # Set when a staff rule approved the request at once (no person decided).
    approved_by_rule_id: Mapped[str | None] = mapped_column(ForeignKey("approval_rule.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    report: Mapped[Report | None] = relationship()
    approved_by_rule: Mapped[ApprovalRule | None] = relationship()

    @property
    def scope_label(self) -> str:
        if self.report is not None:
            return f"report {self.report.title}"
        return f"series {self.series}" if self.series else f"category {self.category}"


class ApprovalRule(IdMixin, Base):
    """Staff's standing decision: requests from an e-mail domain or an organisation for a
    series or a category are approved at once (optionally expiring, optionally only once the
    requester has accepted an agreement). Deleting a rule keeps it for the record."""

    __tablename__ = "approval_rule"
    __table_args__ = (
        CheckConstraint("(domain IS NULL) <> (organization_id IS NULL)", name="one_requester"),
        CheckConstraint("(series IS NULL) <> (category IS NULL)", name="one_scope"),
        CheckConstraint(
            "expires_in_days IS NULL OR (expires_in_days BETWEEN 1 AND 3650)",
            name="expiry_range",
        ),
    )

    domain: Mapped[str | None] = mapped_column(String(253), index=True)
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organization.id"), index=True)
    series: Mapped[str | None] = mapped_column(String(80))
    category: Mapped[str | None] = mapped_column(String(20))
    expires_in_days: Mapped[int | None] = mapped_column(Integer)
    requires_agreement_id: Mapped[str | None] = mapped_column(ForeignKey("agreement.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization | None] = relationship()
    requires_agreement: Mapped[Agreement | None] = relationship()

    @property
    def requester_label(self) -> str:
        if self.domain:
            return f"anyone at {self.domain}"
        return self.organization.name if self.organization else "?"

    @property
    def scope_label(self) -> str:
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
