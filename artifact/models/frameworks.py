"""Frameworks and regulations as trees of requirements, and crosswalk mappings between them.

A requirement is named ``KEY:REF`` (``nist-sp-800-53-rev5:AC-2``); refs are unique per framework
when compared case-insensitively (``ref_key`` holds the case-folded ref). Its id is stable, so
evidence and coverage can point at it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    orm,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from artifact.models.base import Base, IdMixin, UTCDateTime, utcnow


class FrameworkCategory(enum.StrEnum):
    FRAMEWORK = "framework"
    REGULATION = "regulation"


class Relationship(enum.StrEnum):
    """How the source requirement relates to the target (NIST IR 8477 set relationships)."""

    EQUAL = "equal"
    SUBSET = "subset"  # source is a subset of target
    SUPERSET = "superset"
    INTERSECTS = "intersects"

    @property
    def inverse(self) -> Relationship:
        swapped = {
            Relationship.SUBSET: Relationship.SUPERSET,
            Relationship.SUPERSET: Relationship.SUBSET,
        }
        return swapped.get(self, self)


REQUIREMENT_KINDS = ("group", "control", "enhancement", "article", "section", "chapter")


def ref_key(ref: str) -> str:
    """How refs are compared: case-insensitively, surrounding space ignored."""
    return ref.strip().casefold()


class Framework(IdMixin, Base):
    __tablename__ = "framework"
    __table_args__ = (
        CheckConstraint("category IN ('framework', 'regulation')", name="category_known"),
    )

    key: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    version: Mapped[str] = mapped_column(String(100), default="")
    category: Mapped[str] = mapped_column(String(20), default=FrameworkCategory.FRAMEWORK)
    source: Mapped[str] = mapped_column(String(500), default="")
    source_format: Mapped[str] = mapped_column(String(20), default="")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    requirements: Mapped[list[Requirement]] = relationship(
        back_populates="framework", order_by="Requirement.seq", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Framework {self.key!r}>"


class Requirement(IdMixin, Base):
    __tablename__ = "requirement"
    __table_args__ = (
        UniqueConstraint("framework_id", "ref_key", name="uq_requirement_framework_ref"),
        Index("ix_requirement_framework_seq", "framework_id", "seq"),
    )

    framework_id: Mapped[str] = mapped_column(ForeignKey("framework.id", ondelete="CASCADE"))
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("requirement.id", ondelete="CASCADE"), index=True
    )
    ref: Mapped[str] = mapped_column(String(100))
    ref_key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20), default="control")
    # Document order within the framework (a pre-order walk of the tree): siblings sort by it.
    seq: Mapped[int] = mapped_column(Integer)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    # The identifier the source used (OSCAL control id such as ``ac-2.1``), kept for export.
    source_id: Mapped[str | None] = mapped_column(String(100))

    framework: Mapped[Framework] = relationship(back_populates="requirements")
    parent: Mapped[Requirement | None] = relationship(remote_side="Requirement.id")

    @property
    def name(self) -> str:
        return f"{self.framework.key}:{self.ref}"

    def __repr__(self) -> str:
        return f"<Requirement {self.ref!r}>"


class Mapping(IdMixin, Base):
    """One crosswalk fact: ``source`` relates to ``target`` by ``relationship``.

    A fact is stored once: a reverse row with the inverse relationship is the same mapping."""

    __tablename__ = "requirement_mapping"
    __table_args__ = (
        UniqueConstraint("source_id", "target_id", name="uq_requirement_mapping_pair"),
        CheckConstraint(
            "relationship IN ('equal', 'subset', 'superset', 'intersects')",
            name="relationship_known",
        ),
        CheckConstraint("source_id <> target_id", name="not_self"),
    )

    source_id: Mapped[str] = mapped_column(ForeignKey("requirement.id", ondelete="CASCADE"))
    target_id: Mapped[str] = mapped_column(
        ForeignKey("requirement.id", ondelete="CASCADE"), index=True
    )
    relationship: Mapped[str] = mapped_column(String(20))
    origin: Mapped[str] = mapped_column(String(500), default="")
    rationale: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # (``relationship`` the column shadows ``relationship`` the function inside this class)
    source: Mapped[Requirement] = orm.relationship(foreign_keys=[source_id])
    target: Mapped[Requirement] = orm.relationship(foreign_keys=[target_id])
