"""Reading frameworks, requirements and mappings, filtered by the policy."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from artifact import policy
from artifact.models import Framework, Mapping, Requirement
from artifact.models.base import DbSession
from artifact.models.frameworks import Relationship, ref_key
from artifact.services.errors import NotFound, PermissionDenied, Unauthenticated


def _check_view(by: Any) -> None:
    decision = policy.decide(by, "framework.view")
    if decision:
        return
    if decision.reason == policy.Reason.SIGN_IN:
        raise Unauthenticated("sign in required")
    raise PermissionDenied("you may not see frameworks")


def list_frameworks(db: DbSession, by: Any,
                    category: str | None = None) -> list[tuple[Framework, int]]:
    """Frameworks the caller may see, with their requirement counts, by title."""
    _check_view(by)
    counts = (select(Requirement.framework_id, func.count().label("n"))
              .group_by(Requirement.framework_id).subquery())
    stmt: Any = (select(Framework, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.framework_id == Framework.id)
            .order_by(Framework.category, Framework.title))
    if category:
        stmt = stmt.where(Framework.category == category)
    return [(framework, count) for framework, count in
            db.execute(policy.visible(stmt, by, Framework))]


def get_framework(db: DbSession, by: Any, framework_id: str | None = None,
                  key: str | None = None) -> Framework:
    """By id or by key; NotFound when absent or not visible."""
    _check_view(by)
    stmt: Any = select(Framework).where(
        Framework.id == framework_id if framework_id is not None else Framework.key == key)
    framework = db.scalar(policy.visible(stmt, by, Framework))
    if framework is None:
        raise NotFound(f"no framework with key {key!r}" if key is not None else
                       "no such framework")
    return framework


def requirements_of(db: DbSession, by: Any, framework: Framework) -> list[Requirement]:
    """Every requirement in document order (a pre-order walk of the tree)."""
    _check_view(by)
    stmt = select(Requirement).where(Requirement.framework_id == framework.id)
    return list(db.scalars(stmt.order_by(Requirement.seq)))


def requirement_by_name(db: DbSession, by: Any, name: str) -> Requirement:
    """``KEY:REF`` (the ref compared case-insensitively); NotFound otherwise."""
    key, sep, ref = name.partition(":")
    if not sep or not ref.strip():
        raise NotFound(f"{name!r} is not a requirement name (KEY:REF)")
    framework = get_framework(db, by, key=key.strip())
    found = db.scalar(select(Requirement).where(Requirement.framework_id == framework.id,
                                                Requirement.ref_key == ref_key(ref)))
    if found is None:
        raise NotFound(f"{framework.key} has no requirement {ref.strip()!r}")
    return found


@dataclass(frozen=True)
class MappedTo:
    """A mapping seen from one requirement: how it relates to ``name``."""

    requirement_id: str
    name: str
    title: str
    relationship: str
    origin: str


def framework_mappings(db: DbSession, by: Any, framework: Framework) -> dict[str, list[MappedTo]]:
    """Requirement id -> its crosswalk mappings, in either direction."""
    _check_view(by)
    mine = select(Requirement.id).where(Requirement.framework_id == framework.id)
    source, target = aliased(Requirement), aliased(Requirement)
    source_fw, target_fw = aliased(Framework), aliased(Framework)
    stmt = (select(Mapping, source, target, source_fw.key, target_fw.key)
            .join(source, Mapping.source_id == source.id)
            .join(target, Mapping.target_id == target.id)
            .join(source_fw, source.framework_id == source_fw.id)
            .join(target_fw, target.framework_id == target_fw.id)
            .where(or_(Mapping.source_id.in_(mine), Mapping.target_id.in_(mine))))
    found: dict[str, list[MappedTo]] = defaultdict(list)
    for mapping, src, tgt, src_key, tgt_key in db.execute(stmt):
        relationship = Relationship(mapping.relationship)
        if src.framework_id == framework.id:
            found[src.id].append(MappedTo(tgt.id, f"{tgt_key}:{tgt.ref}", tgt.title,
                                          relationship.value, mapping.origin))
        if tgt.framework_id == framework.id:
            found[tgt.id].append(MappedTo(src.id, f"{src_key}:{src.ref}", src.title,
                                          relationship.inverse.value, mapping.origin))
    for items in found.values():
        items.sort(key=lambda m: m.name)
    return dict(found)


def children_by_parent(requirements: list[Requirement]) -> dict[str | None, list[Requirement]]:
    """The tree as parent id -> children in document order (roots under ``None``)."""
    tree: dict[str | None, list[Requirement]] = defaultdict(list)
    for requirement in requirements:
        tree[requirement.parent_id].append(requirement)
    return dict(tree)
