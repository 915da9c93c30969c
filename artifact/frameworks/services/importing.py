"""Import frameworks and crosswalks: parse everything first, then store it in the caller's
transaction (the owner commits; the new requirements are indexed after that commit)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, or_, select

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.frameworks.services import csv_formats, oscal_json, oscal_xml, regulations
from artifact.frameworks.services.parsed import (
    ParsedFramework,
    ParsedMapping,
    Problem,
    check_key,
    check_tree,
)
from artifact.kernel.caller import Caller
from artifact.kernel.errors import Conflict, PermissionDenied
from artifact.models import Framework, Mapping, Requirement
from artifact.models.base import DbSession, new_id
from artifact.models.frameworks import FrameworkCategory, Relationship, ref_key
from artifact.search import indexer

Parser = Callable[[Path, str, "str | None", bool, int], ParsedFramework]
FRAMEWORK_FORMATS: dict[str, Parser] = {
    "oscal": oscal_json.parse,
    "oscal-xml": oscal_xml.parse,
    "csv": csv_formats.parse_identifiers,
    "gdpr": regulations.parse_gdpr,
    "hipaa": regulations.parse_hipaa,
}
FORMATS = (*FRAMEWORK_FORMATS, "crosswalk")
DEFAULT_KEYS = {"gdpr": "gdpr", "hipaa": "hipaa"}


@dataclass
class ImportResult:
    what: str  # "requirements" or "mappings"
    count: int
    framework_key: str | None = None
    already_present: int = 0
    restated: int = 0  # rows repeating a mapping of the same file (e.g. the reverse direction)
    repairs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def default_key(path: Path, fmt: str) -> str:
    """``iso27001-2022.ids.csv`` -> ``iso27001-2022``; the regulations have fixed keys."""
    if fmt in DEFAULT_KEYS:
        return DEFAULT_KEYS[fmt]
    stem = path.name.lower()
    for suffix in (".csv", ".json", ".xml", ".ids"):
        stem = stem.removesuffix(suffix)
    return re.sub(r"[^a-z0-9._-]+", "-", stem).strip("-._")[:100] or "framework"


def import_file(
    db: DbSession,
    caller: Caller,
    path: Path,
    fmt: str,
    *,
    key: str | None = None,
    title: str | None = None,
    tolerant: bool = False,
    category: str | None = None,
    max_bytes: int,
) -> ImportResult:
    """Import ``path``; raises ValidationFailed (naming file, place, problem), Conflict when the
    framework key exists, PermissionDenied. Nothing is stored unless all of it is."""
    if not policy.decide(caller, "framework.import"):
        raise PermissionDenied("you may not import frameworks")
    if fmt == "crosswalk":
        return _import_crosswalk(db, caller, path, tolerant, max_bytes)
    if fmt not in FRAMEWORK_FORMATS:
        raise Problem(path)("", f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    key = check_key(key or default_key(path, fmt), Problem(path))
    if db.scalar(select(Framework.id).where(Framework.key == key)) is not None:
        raise Conflict(f"a framework with key {key!r} exists already; choose another --key")
    parsed = FRAMEWORK_FORMATS[fmt](path, key, title, tolerant, max_bytes)
    check_tree(parsed, Problem(path))
    if category is not None:
        parsed.category = FrameworkCategory(category).value
    framework = _store_framework(db, parsed, path, fmt)
    audit.record(
        db,
        caller,
        "framework.import",
        target_type="framework",
        target_id=framework.id,
        details={
            "key": key,
            "format": fmt,
            "file": path.name,
            "requirements": len(parsed.requirements),
            "repairs": len(parsed.repairs),
        },
    )
    return ImportResult(
        "requirements", len(parsed.requirements), key, repairs=parsed.repairs, notes=parsed.notes
    )


def _store_framework(db: DbSession, parsed: ParsedFramework, path: Path, fmt: str) -> Framework:
    framework = Framework(
        id=new_id(),
        key=parsed.key,
        title=parsed.title[:300],
        version=parsed.version[:100],
        category=parsed.category,
        source=path.name[:500],
        source_format=fmt,
    )
    db.add(framework)
    ids: dict[str, str] = {}
    rows = []
    for seq, item in enumerate(parsed.requirements):
        ids[ref_key(item.ref)] = new_id()
        rows.append(
            {
                "id": ids[ref_key(item.ref)],
                "framework_id": framework.id,
                "parent_id": ids[ref_key(item.parent_ref)] if item.parent_ref else None,
                "ref": item.ref.strip(),
                "ref_key": ref_key(item.ref),
                "title": item.title.strip(),
                "text": item.text,
                "kind": item.kind,
                "seq": seq,
                "withdrawn": item.withdrawn,
                "source_id": (item.source_id or None) and item.source_id[:100],
            }
        )
    db.flush()
    db.execute(insert(Requirement), rows)
    for requirement_id in ids.values():  # searchable once the import commits
        indexer.note(db, "requirement", requirement_id)
    return framework


def _import_crosswalk(
    db: DbSession, caller: Caller, path: Path, tolerant: bool, max_bytes: int
) -> ImportResult:
    problem = Problem(path)
    parsed = csv_formats.parse_crosswalk(path, max_bytes)
    keys = {m.source_framework for m in parsed} | {m.target_framework for m in parsed}
    refs = _requirement_ids(db, keys)
    existing = _existing_pairs(db, [rid for by_ref in refs.values() for rid in by_ref.values()])
    result = ImportResult("mappings", 0)
    new_rows = []
    added: set[tuple[str, str]] = set()
    for item in parsed:
        resolved = _resolve(item, refs, problem, tolerant, result)
        if resolved is None:
            continue
        source, target = resolved
        relationship = Relationship(item.relationship)
        known = existing.get((source, target)) or (
            (existing[(target, source)]).inverse if (target, source) in existing else None
        )
        if known is not None:
            if known != relationship:
                raise problem(
                    item.where,
                    f"{item.source_framework}:{item.source_ref} -> "
                    f"{item.target_framework}:{item.target_ref} is already mapped as "
                    f"{known.value}, not {relationship.value}",
                )
            if (source, target) in added or (target, source) in added:
                result.restated += 1
            else:
                result.already_present += 1
            continue
        existing[(source, target)] = relationship
        added.add((source, target))
        new_rows.append(
            {
                "id": new_id(),
                "source_id": source,
                "target_id": target,
                "relationship": relationship.value,
                "origin": item.origin[:500],
                "rationale": item.rationale,
            }
        )
    if new_rows:
        db.execute(insert(Mapping), new_rows)
    result.count = len(new_rows)
    audit.record(
        db,
        caller,
        "mapping.import",
        target_type="framework",
        target_id=None,
        details={
            "file": path.name,
            "frameworks": sorted(keys),
            "mappings": result.count,
            "already_present": result.already_present,
            "skipped": len(result.repairs),
        },
    )
    return result


def _requirement_ids(db: DbSession, keys: set[str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    frameworks = db.execute(select(Framework.id, Framework.key).where(Framework.key.in_(keys)))
    by_id = {fid: key for fid, key in frameworks}
    for key in keys:
        found[key] = {}
    rows = db.execute(
        select(Requirement.framework_id, Requirement.ref_key, Requirement.id).where(
            Requirement.framework_id.in_(by_id)
        )
    )
    for framework_id, key, requirement_id in rows:
        found[by_id[framework_id]][key] = requirement_id
    return {key: value for key, value in found.items() if key in by_id.values()}


def _existing_pairs(db: DbSession, ids: list[str]) -> dict[tuple[str, str], Relationship]:
    if not ids:
        return {}
    known = set(ids)
    rows = db.execute(
        select(Mapping.source_id, Mapping.target_id, Mapping.relationship).where(
            or_(Mapping.source_id.in_(known), Mapping.target_id.in_(known))
        )
    )
    return {(s, t): Relationship(r) for s, t, r in rows}


def _resolve(
    item: ParsedMapping,
    refs: dict[str, dict[str, str]],
    problem: Problem,
    tolerant: bool,
    result: ImportResult,
) -> tuple[str, str] | None:
    ends = []
    for framework, ref in (
        (item.source_framework, item.source_ref),
        (item.target_framework, item.target_ref),
    ):
        if framework not in refs:
            raise problem(
                item.where,
                f"unknown framework {framework!r}; import it first "
                "(frameworks are named by their key)",
            )
        found = refs[framework].get(ref_key(ref))
        if found is None:
            if tolerant:
                result.repairs.append(
                    f"{item.where}: skipped, {framework} has no requirement {ref!r}"
                )
                return None
            raise problem(item.where, f"{framework} has no requirement {ref!r}")
        ends.append(found)
    if ends[0] == ends[1]:
        raise problem(item.where, "a requirement cannot be mapped to itself")
    return ends[0], ends[1]
