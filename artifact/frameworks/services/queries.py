"""Reading frameworks, requirements and mappings, filtered by the policy."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from artifact import policy
from artifact.kernel.caller import Caller
from artifact.kernel.errors import NotFound, PermissionDenied, Unauthenticated
from artifact.models import Framework, Mapping, Requirement
from artifact.models.base import DbSession, is_id
from artifact.models.frameworks import Relationship, ref_key


def _check_view(caller: Caller) -> None:
    decision = policy.decide(caller, "framework.view")
    if decision:
        return
    if decision.reason == policy.Reason.SIGN_IN:
        raise Unauthenticated("sign in required")
    raise PermissionDenied("you may not see frameworks")


def list_frameworks(
    db: DbSession, caller: Caller, category: str | None = None
) -> list[tuple[Framework, int]]:
    """Frameworks the caller may see, with their requirement counts, by title."""
    _check_view(caller)
    counts = (
        select(Requirement.framework_id, func.count().label("n"))
        .group_by(Requirement.framework_id)
        .subquery()
    )
    stmt: Any = (
        select(Framework, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.framework_id == Framework.id)
        .order_by(Framework.category, Framework.title)
    )
    if category:
        stmt = stmt.where(Framework.category == category)
    return [
        (framework, count)
        for framework, count in db.execute(policy.visible(stmt, caller, Framework))
    ]


def framework_choices(db: DbSession, caller: Caller) -> list[tuple[str, str]]:
    """(key, title) of every framework the caller may see, as ``list_frameworks`` orders them:
    what a filter offers, kept per policy generation and scope (imports bump it)."""

    def ask() -> list[tuple[str, str]]:
        return [(f.key, f.title) for f, _count in list_frameworks(db, caller)]

    _check_view(caller)
    return policy.remember_for(db, "framework_choices", caller, ask)


def get_framework(
    db: DbSession, caller: Caller, framework_id: str | None = None, key: str | None = None
) -> Framework:
    """By id or by key; NotFound when absent or not visible."""
    _check_view(caller)
    if (framework_id is not None and not is_id(framework_id)) or "\x00" in (key or ""):
        raise NotFound("no such framework")  # names none (and PostgreSQL refuses NUL)
    stmt: Any = select(Framework).where(
        Framework.id == framework_id if framework_id is not None else Framework.key == key
    )
    framework: Framework | None = db.scalar(policy.visible(stmt, caller, Framework))
    if framework is None:
        raise NotFound(f"no framework with key {key!r}" if key is not None else "no such framework")
    return framework


def requirements_of(db: DbSession, caller: Caller, framework: Framework) -> list[Requirement]:
    """Every requirement in document order (a pre-order walk of the tree)."""
    _check_view(caller)
    stmt = select(Requirement).where(Requirement.framework_id == framework.id)
    return list(db.scalars(stmt.order_by(Requirement.seq)))


def requirement_by_name(db: DbSession, caller: Caller, name: str) -> Requirement:
    """``KEY:REF`` (the ref compared case-insensitively); NotFound otherwise."""
    key, sep, ref = name.partition(":")
    if not sep or not ref.strip() or "\x00" in ref:
        raise NotFound(f"{name!r} is not a requirement name (KEY:REF)")
    framework = get_framework(db, caller, key=key.strip())
    found = db.scalar(
        select(Requirement).where(
            Requirement.framework_id == framework.id, Requirement.ref_key == ref_key(ref)
        )
    )
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


# Built once: aliasing an entity per call costs more than the query itself.
_SOURCE, _TARGET = aliased(Requirement), aliased(Requirement)
_SOURCE_FW, _TARGET_FW = aliased(Framework), aliased(Framework)
_MAPPINGS = (
    select(
        Mapping.relationship,
        Mapping.origin,
        _SOURCE.id,
        _SOURCE.ref,
        _SOURCE.title,
        _SOURCE.framework_id,
        _SOURCE_FW.key,
        _TARGET.id,
        _TARGET.ref,
        _TARGET.title,
        _TARGET.framework_id,
        _TARGET_FW.key,
    )
    .join(_SOURCE, Mapping.source_id == _SOURCE.id)
    .join(_TARGET, Mapping.target_id == _TARGET.id)
    .join(_SOURCE_FW, _SOURCE.framework_id == _SOURCE_FW.id)
    .join(_TARGET_FW, _TARGET.framework_id == _TARGET_FW.id)
)


def framework_mappings(
    db: DbSession, caller: Caller, framework: Framework
) -> dict[str, list[MappedTo]]:
    """Requirement id -> its crosswalk mappings, in either direction (plain rows, no entities:
    the pages show a few columns of each)."""
    _check_view(caller)
    mine = select(Requirement.id).where(Requirement.framework_id == framework.id)
    stmt = _MAPPINGS.where(or_(Mapping.source_id.in_(mine), Mapping.target_id.in_(mine)))
    found: dict[str, list[MappedTo]] = defaultdict(list)
    for (
        relationship_name,
        origin,
        src_id,
        src_ref,
        src_title,
        src_fw,
        src_key,
        tgt_id,
        tgt_ref,
        tgt_title,
        tgt_fw,
        tgt_key,
    ) in db.execute(stmt):
        relationship = Relationship(relationship_name)
        if src_fw == framework.id:
            found[src_id].append(
                MappedTo(tgt_id, f"{tgt_key}:{tgt_ref}", tgt_title, relationship.value, origin)
            )
        if tgt_fw == framework.id:
            found[tgt_id].append(
                MappedTo(
                    src_id, f"{src_key}:{src_ref}", src_title, relationship.inverse.value, origin
                )
            )
    for items in found.values():
        items.sort(key=lambda m: m.name)
    return dict(found)


def children_by_parent(requirements: list[Requirement]) -> dict[str | None, list[Requirement]]:
    """The tree as parent id -> children in document order (roots under ``None``)."""
    tree: dict[str | None, list[Requirement]] = defaultdict(list)
    for requirement in requirements:
        tree[requirement.parent_id].append(requirement)
    return dict(tree)
