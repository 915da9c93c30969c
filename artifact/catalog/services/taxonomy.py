"""The catalog's taxonomy: categories and series are records staff manage (name, description,
order). Reports, grants and access requests store their slugs, which never change; what they are
given is checked here against the records."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func, or_, select

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.kernel.caller import Caller
from artifact.kernel.errors import Conflict, NotFound, ValidationFailed
from artifact.models import Report, ReportCategory, ReportSeries
from artifact.models.base import DbSession, is_id

CATEGORY_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,19}")
MAX_POSITION = 100_000
Record = ReportCategory | ReportSeries
R = TypeVar("R", ReportCategory, ReportSeries)


def list_categories(db: DbSession, caller: Caller) -> list[ReportCategory]:
    """Every category, in order (category names are no secret: they are the catalog's headings)."""
    policy.require(caller, "taxonomy.view")
    return list(db.scalars(select(ReportCategory).order_by(*_order(ReportCategory))))


def list_series(db: DbSession, caller: Caller) -> list[ReportSeries]:
    """Every series for signed-in callers (a customer asks for access to a series whose reports
    they cannot see yet); for visitors the series of the reports listed to them."""
    policy.require(caller, "taxonomy.view")
    stmt = select(ReportSeries).order_by(*_order(ReportSeries))
    if not (caller.is_authenticated and caller.active):
        shown = policy.listed(select(Report.series), caller).where(Report.series != "")
        stmt = stmt.where(ReportSeries.slug.in_(shown.scalar_subquery()))
    return list(db.scalars(stmt))


@dataclass(frozen=True)
class Heading:
    """A category or series as a page lists it: a copy of its row, detached from any session,
    so it can be kept across requests."""

    id: str
    slug: str
    name: str
    description: str
    position: int

    @classmethod
    def of(cls, record: Record) -> Heading:
        return cls(record.id, record.slug, record.name, record.description, record.position)


def shown_categories(db: DbSession, caller: Caller) -> list[Heading]:
    """``list_categories`` for pages that only show them, kept per policy generation (every
    change to a category bumps it): no query once kept."""
    policy.require(caller, "taxonomy.view")
    return policy.remember(
        db, ("taxonomy", "categories"), lambda: [Heading.of(c) for c in list_categories(db, caller)]
    )


def shown_series(db: DbSession, caller: Caller) -> list[Heading]:
    """``list_series`` for pages that only show them, kept per policy generation: one list for
    every signed-in caller, and for visitors the series of what is listed to them (every
    change to a series, a report or a grant bumps it)."""
    policy.require(caller, "taxonomy.view")

    def ask() -> list[Heading]:
        return [Heading.of(s) for s in list_series(db, caller)]

    if caller.is_authenticated and caller.active:
        return policy.remember(db, ("taxonomy", "series"), ask)
    return policy.remember_for(db, "taxonomy_series", caller, ask)


def _order(model: type[Record]) -> tuple[Any, ...]:
    return (model.position, func.lower(model.name), model.slug)


def category_slug(db: DbSession, value: Any) -> str:
    """The slug of the category ``value`` names. Raises ValidationFailed naming the choices."""
    if isinstance(value, str) and "\x00" not in value:
        found = db.scalar(select(ReportCategory.slug).where(ReportCategory.slug == value))
        if found is not None:
            return found
    known = ", ".join(db.scalars(select(ReportCategory.slug).order_by(ReportCategory.position)))
    raise ValidationFailed(f"unknown category {_shown(value)}: choose one of {known}")


def series_slug(db: DbSession, value: Any, *, show_choices: bool = True) -> str:
    """The slug of the series ``value`` names ("" for none): its slug, in any case. Raises
    ValidationFailed, naming the choices if ``show_choices`` (staff)."""
    if value in (None, ""):
        return ""
    if isinstance(value, str) and "\x00" not in value:
        cleaned = " ".join(value.split())
        exact = db.scalar(select(ReportSeries.slug).where(ReportSeries.slug == cleaned))
        if exact is not None:
            return exact
        folded = list(
            db.scalars(
                select(ReportSeries.slug).where(func.lower(ReportSeries.slug) == cleaned.lower())
            )
        )
        if len(folded) == 1:
            return folded[0]
    known = ", ".join(db.scalars(select(ReportSeries.slug).order_by(*_order(ReportSeries))))
    listed = (f" ({known})" if known else " (none yet)") if show_choices else ""
    raise ValidationFailed(
        f"unknown series {_shown(value)}: choose one of the series staff manage{listed}"
    )


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else repr(value.replace("\x00", ""))
    return text if len(text) <= 60 else text[:57] + "…'"


def create_category(db: DbSession, caller: Caller, values: dict[str, Any]) -> ReportCategory:
    """A new category; its slug (lower-case letters, digits, hyphens) never changes. Raises
    PermissionDenied, ValidationFailed, Conflict (the slug is taken)."""
    policy.require(caller, "taxonomy.manage")
    slug = str(values.get("slug") or "").strip()
    if not CATEGORY_SLUG.fullmatch(slug):
        raise ValidationFailed(
            "the slug must be 1 to 20 lower-case letters, digits or hyphens, like 'pen-tests'"
        )
    if db.scalar(select(ReportCategory.id).where(ReportCategory.slug == slug)) is not None:
        raise Conflict(f"a category with slug {slug!r} exists")
    return _create(db, caller, ReportCategory(slug=slug), values, "taxonomy.category.create")


def create_series(db: DbSession, caller: Caller, values: dict[str, Any]) -> ReportSeries:
    """A new series; its slug (the name unless given) never changes, renaming changes the name.
    Raises PermissionDenied, ValidationFailed, Conflict (the slug is taken, in any case)."""
    policy.require(caller, "taxonomy.manage")
    slug = " ".join(str(values.get("slug") or values.get("name") or "").split())
    if not slug or len(slug) > 80 or "\x00" in slug:
        raise ValidationFailed("the series needs a name (and slug) of at most 80 characters")
    # (SQLite's lower() folds ASCII only: the exact slug is compared too.)
    taken = select(ReportSeries.id).where(
        or_(ReportSeries.slug == slug, func.lower(ReportSeries.slug) == slug.lower())
    )
    if db.scalar(taken) is not None:
        raise Conflict(f"a series with slug {slug!r} exists")
    return _create(db, caller, ReportSeries(slug=slug), values, "taxonomy.series.create")


def _create(db: DbSession, caller: Caller, record: R, values: dict[str, Any], action: str) -> R:
    record.name = _name(values.get("name", record.slug))
    record.description = _description(values.get("description"))
    record.position = _position(values.get("position"), _next_position(db, type(record)))
    db.add(record)
    db.flush()
    _record(db, caller, action, record, {"slug": record.slug, "name": record.name})
    return record


def _next_position(db: DbSession, model: type[Record]) -> int:
    """After the last one (at most ``MAX_POSITION``: the rest then sort by name)."""
    return min(int(db.scalar(select(func.max(model.position))) or 0) + 1, MAX_POSITION)


def update_category(
    db: DbSession, caller: Caller, category_id: str, values: dict[str, Any]
) -> ReportCategory:
    """Rename, describe or move a category. Raises PermissionDenied, NotFound, ValidationFailed."""
    policy.require(caller, "taxonomy.manage")
    record = db.get(ReportCategory, category_id) if is_id(category_id) else None
    if record is None:
        raise NotFound("no such category")
    return _update(db, caller, record, values, "taxonomy.category.update")


def update_series(
    db: DbSession, caller: Caller, series_id: str, values: dict[str, Any]
) -> ReportSeries:
    """Rename, describe or move a series. Raises PermissionDenied, NotFound, ValidationFailed."""
    policy.require(caller, "taxonomy.manage")
    record = db.get(ReportSeries, series_id) if is_id(series_id) else None
    if record is None:
        raise NotFound("no such series")
    return _update(db, caller, record, values, "taxonomy.series.update")


def _update(db: DbSession, caller: Caller, record: R, values: dict[str, Any], action: str) -> R:
    unknown = set(values) - {"name", "description", "position"}
    if unknown:
        raise ValidationFailed(f"these cannot be changed: {', '.join(sorted(unknown))}")
    if not values:
        raise ValidationFailed("send at least one of name, description, position")
    wanted = {
        "name": _name(values["name"]) if "name" in values else record.name,
        "description": _description(values["description"])
        if "description" in values
        else record.description,
        "position": _position(values["position"], record.position)
        if "position" in values
        else record.position,
    }
    changed = {
        name: {"from": getattr(record, name), "to": value}
        for name, value in wanted.items()
        if getattr(record, name) != value
    }
    for name, change in changed.items():
        setattr(record, name, change["to"])
    if changed:
        _record(db, caller, action, record, {"slug": record.slug, "fields": changed})
    return record


def _name(value: Any) -> str:
    name = " ".join(str(value or "").split())
    if not name or len(name) > 80 or "\x00" in name:
        raise ValidationFailed("the name is required (at most 80 characters)")
    return name


def _description(value: Any) -> str:
    text = str(value or "").strip()
    if len(text) > 2000 or "\x00" in text:
        raise ValidationFailed("the description is too long (at most 2000 characters)")
    return text


def _position(value: Any, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        position = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed("the position must be a whole number") from None
    if isinstance(value, bool) or not 0 <= position <= MAX_POSITION:
        raise ValidationFailed(f"the position must be a whole number from 0 to {MAX_POSITION}")
    return position


def _record(
    db: DbSession, caller: Caller, action: str, record: Record, details: dict[str, Any]
) -> None:
    kind = "category" if isinstance(record, ReportCategory) else "series"
    audit.record(db, caller, action, target_type=kind, target_id=record.id, details=details)


def taxonomy_json(record: Record) -> dict[str, Any]:
    return {
        "id": record.id,
        "slug": record.slug,
        "name": record.name,
        "description": record.description,
        "position": record.position,
    }
