"""CSV identifier lists (ref, title, parent) and crosswalk CSV (requirement-to-requirement).

Column names follow ../shared/corpus/mappings: ``ref_id``/``short_title``/``parent_ref_id`` are
accepted beside the plain ``ref``/``title``/``parent``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from artifact.frameworks.services.parsed import (
    ParsedFramework,
    ParsedMapping,
    ParsedRequirement,
    Problem,
)
from artifact.frameworks.services.reading import read_text
from artifact.models.frameworks import REQUIREMENT_KINDS, Relationship, ref_key

ID_COLUMNS = {
    "ref": ("ref", "ref_id", "id"),
    "title": ("title", "short_title", "name"),
    "parent": ("parent", "parent_ref_id", "parent_id"),
}
CROSSWALK_COLUMNS = {
    "source_framework": ("source_framework",),
    "source_ref": ("source_ref", "source_id"),
    "target_framework": ("target_framework",),
    "target_ref": ("target_ref", "target_id"),
    "relationship": ("relationship",),
}
RELATIONSHIP_ALIASES = {"intersect": Relationship.INTERSECTS, "equivalent": Relationship.EQUAL}
_TRUE = {"true", "yes", "1", "y"}


def _rows(
    path: Path, problem: Problem, max_bytes: int, wanted: Mapping[str, tuple[str, ...]]
) -> Iterator[tuple[str, dict[str, str]]]:
    """(where, row) with the wanted columns renamed to their canonical names."""
    reader = csv.DictReader(io.StringIO(read_text(path, problem, max_bytes), newline=""))
    try:
        header = reader.fieldnames or []
        columns = _resolve_columns(header, wanted, problem)
        for row in reader:
            where = f"line {reader.line_num}"
            if None in row:
                raise problem(
                    where, f"{len(header) + len(row[None])} values for {len(header)} columns"
                )
            named = {name: (row.get(column) or "").strip() for name, column in columns.items()}
            yield where, {**{k: (v or "").strip() for k, v in row.items() if k}, **named}
    except csv.Error as error:
        raise problem(f"line {reader.line_num + 1}", f"not readable as CSV ({error})") from error


def _resolve_columns(
    header: Sequence[str], wanted: Mapping[str, tuple[str, ...]], problem: Problem
) -> dict[str, str]:
    normal = {column.strip().lower(): column for column in header if column}
    columns = {}
    for name, aliases in wanted.items():
        found = next((normal[a] for a in aliases if a in normal), None)
        if found is None:
            shown = ", ".join(repr(c) for c in header[:8]) or "none"
            others = f" (or {', '.join(aliases[1:])})" if aliases[1:] else ""
            raise problem(
                "line 1", f"missing column {aliases[0]!r}{others}; found columns: {shown}"
            )
        columns[name] = found
    return columns


def parse_identifiers(
    path: Path, key: str, title: str | None, tolerant: bool, max_bytes: int
) -> ParsedFramework:
    problem = Problem(path)
    framework = ParsedFramework(key=key, title=title or key)
    seen: set[str] = set()
    explicit_kind: set[str] = set()
    for where, row in _rows(path, problem, max_bytes, ID_COLUMNS):
        ref = row["ref"]
        if not ref and tolerant and row.get("urn"):
            ref = row["urn"].rsplit(":", 1)[-1]
            framework.repairs.append(f"{where}: empty ref; used {ref!r} from the urn")
        if tolerant and ref_key(ref) in seen:
            framework.repairs.append(f"{where}: skipped duplicate ref {ref!r}")
            continue
        seen.add(ref_key(ref))
        kind = row.get("kind", "").lower()
        if kind:
            if kind not in REQUIREMENT_KINDS:
                raise problem(
                    where, f"unknown kind {kind!r} (one of {', '.join(REQUIREMENT_KINDS)})"
                )
            explicit_kind.add(ref_key(ref))
        elif row.get("assessable"):
            kind = "control" if row["assessable"].lower() in _TRUE else "group"
            explicit_kind.add(ref_key(ref))
        framework.requirements.append(
            ParsedRequirement(
                ref=ref,
                title=row["title"],
                text=row.get("text", ""),
                parent_ref=row["parent"] or None,
                kind=kind or "control",
                withdrawn=row.get("withdrawn", "").lower() in _TRUE,
                where=where,
            )
        )
    _groups_have_children(framework, explicit_kind)
    return framework


def _groups_have_children(framework: ParsedFramework, explicit: set[str]) -> None:
    parents = {ref_key(r.parent_ref) for r in framework.requirements if r.parent_ref}
    for requirement in framework.requirements:
        key = ref_key(requirement.ref)
        if key in parents and key not in explicit:
            requirement.kind = "group"


def parse_relationship(value: str) -> Relationship | None:
    value = value.strip().lower()
    if value in RELATIONSHIP_ALIASES:
        return RELATIONSHIP_ALIASES[value]
    try:
        return Relationship(value)
    except ValueError:
        return None


def parse_crosswalk(path: Path, max_bytes: int) -> list[ParsedMapping]:
    problem = Problem(path)
    mappings = []
    for where, row in _rows(path, problem, max_bytes, CROSSWALK_COLUMNS):
        for column in CROSSWALK_COLUMNS:
            if not row[column]:
                raise problem(where, f"empty {column}")
        relationship = parse_relationship(row["relationship"])
        if relationship is None:
            raise problem(
                where,
                f"unknown relationship {row['relationship']!r} (one of equal, "
                "subset, superset, intersects)",
            )
        mappings.append(
            ParsedMapping(
                source_framework=row["source_framework"],
                source_ref=row["source_ref"],
                target_framework=row["target_framework"],
                target_ref=row["target_ref"],
                relationship=relationship,
                origin=row.get("source") or path.name,
                rationale=row.get("rationale") or None,
                where=where,
            )
        )
    if not mappings:
        raise problem("", "no mappings found")
    return mappings
