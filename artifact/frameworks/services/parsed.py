"""What the importers produce before anything touches the database: plain, checked data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from artifact.kernel.errors import ValidationFailed
from artifact.models.frameworks import ref_key

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
MAX_REF = 100
MAX_TITLE = 500


@dataclass
class ParsedRequirement:
    ref: str
    title: str = ""
    text: str = ""
    parent_ref: str | None = None
    kind: str = "control"
    withdrawn: bool = False
    source_id: str | None = None
    where: str = ""  # "line 7" or a JSON path, for error messages


@dataclass
class ParsedFramework:
    key: str
    title: str
    version: str = ""
    category: str = "framework"
    requirements: list[ParsedRequirement] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ParsedMapping:
    source_framework: str
    source_ref: str
    target_framework: str
    target_ref: str
    relationship: str
    origin: str
    rationale: str | None
    where: str


class Problem:
    """Builds error messages that name the file, the place and what is wrong."""

    def __init__(self, path: Path) -> None:
        self.name = path.name

    def __call__(self, where: str, what: str) -> ValidationFailed:
        place = f"{self.name}: {where}: " if where else f"{self.name}: "
        return ValidationFailed(place + what)


def check_key(key: str, problem: Problem) -> str:
    if not KEY_RE.match(key):
        raise problem(
            "",
            f"framework key {key!r} is not valid: use 1-100 lower-case letters, "
            "digits, '.', '-' or '_', starting with a letter or digit",
        )
    return key


def check_tree(framework: ParsedFramework, problem: Problem) -> None:
    """Refs unique (case-insensitively), not empty, not too long; parents defined before use."""
    seen: dict[str, str] = {}
    for requirement in framework.requirements:
        where = requirement.where
        if not requirement.ref.strip():
            raise problem(where, "the ref is empty")
        if len(requirement.ref) > MAX_REF:
            raise problem(where, f"the ref is longer than {MAX_REF} characters")
        if len(requirement.title) > MAX_TITLE:
            raise problem(where, f"the title is longer than {MAX_TITLE} characters")
        key = ref_key(requirement.ref)
        if key in seen:
            raise problem(
                where,
                f"duplicate ref {requirement.ref!r} (first at {seen[key]}; "
                "refs are compared case-insensitively)",
            )
        if requirement.parent_ref is not None and ref_key(requirement.parent_ref) not in seen:
            raise problem(
                where,
                f"unknown parent {requirement.parent_ref!r} of "
                f"{requirement.ref!r} (a parent must come before its children)",
            )
        seen[key] = where
    if not framework.requirements:
        raise problem("", "no requirements found")
