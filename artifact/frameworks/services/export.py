"""Export a framework as an OSCAL 1.2.1 catalog (checked against the schema before it leaves)."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from typing import Any

import regex

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.frameworks.services import schemas
from artifact.frameworks.services.queries import get_framework, requirements_of
from artifact.kernel.caller import Caller
from artifact.kernel.errors import PermissionDenied
from artifact.models import Framework, Requirement
from artifact.models.base import DbSession, utcnow

_TOKEN = regex.compile(r"^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$")
_NOT_TOKEN_CHAR = regex.compile(r"[^\p{L}\p{N}.\-_]+")
_GROUP_KINDS = {"group", "chapter", "section"}
_CONTROL_KINDS = {"control", "enhancement", "article"}


def export_oscal(db: DbSession, caller: Caller, key: str) -> str:
    """The framework ``key`` as OSCAL catalog JSON text. Raises NotFound, PermissionDenied."""
    if not policy.decide(caller, "framework.export"):
        raise PermissionDenied("you may not export frameworks")
    framework = get_framework(db, caller, key=key)
    document = catalog_document(framework, requirements_of(db, caller, framework))
    found = schemas.schema_problems(document, "catalog", schemas.EXPORT_VERSION)
    if found:  # a defect in this module, never the user's input
        raise RuntimeError(f"export of {key} is not valid OSCAL: {found[0]}")
    audit.record(
        db,
        caller,
        "framework.export",
        target_type="framework",
        target_id=framework.id,
        details={"key": framework.key, "format": "oscal"},
    )
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def catalog_document(framework: Framework, requirements: list[Requirement]) -> dict[str, Any]:
    children: dict[str | None, list[Requirement]] = defaultdict(list)
    for requirement in requirements:
        children[requirement.parent_id].append(requirement)
    builder = _Builder(children)
    groups, controls = builder.members(None, parent_is_group=True)
    catalog: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "metadata": {
            "title": framework.title or framework.key,
            "last-modified": utcnow().isoformat(timespec="seconds").replace("+00:00", "Z"),
            "version": framework.version or "unversioned",
            "oscal-version": schemas.EXPORT_VERSION,
            "props": [{"name": "keywords", "value": framework.key}],
            "remarks": f"Exported by Artifact from {framework.source or 'its database'} "
            f"({framework.source_format or 'unknown format'}).",
        },
    }
    if groups:
        catalog["groups"] = groups
    if controls:
        catalog["controls"] = controls
    return {"catalog": catalog}


class _Builder:
    def __init__(self, children: dict[str | None, list[Requirement]]) -> None:
        self.children = children
        self.used: set[str] = set()

    def members(
        self, parent_id: str | None, parent_is_group: bool
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        children = self.children.get(parent_id, [])
        # OSCAL lets a group (and the catalog) hold groups or controls, not both: where children
        # are mixed, the would-be groups are exported as controls (controls nest freely).
        as_groups = parent_is_group and all(self._is_group(child) for child in children)
        groups, controls = [], []
        for requirement in children:
            if as_groups:
                groups.append(self.node(requirement, is_group=True))
            else:
                controls.append(self.node(requirement, is_group=False))
        return groups, controls

    def _is_group(self, requirement: Requirement) -> bool:
        if requirement.kind in _CONTROL_KINDS:
            return False
        return requirement.kind in _GROUP_KINDS and (
            requirement.kind != "section" or bool(self.children.get(requirement.id))
        )

    def node(self, requirement: Requirement, is_group: bool) -> dict[str, Any]:
        token = self._token(requirement)
        props = [{"name": "label", "value": requirement.ref}]
        if requirement.withdrawn:
            props.append({"name": "status", "value": "withdrawn"})
        node: dict[str, Any] = {
            "id": token,
            "class": requirement.kind,
            "title": requirement.title or requirement.ref,
            "props": props,
        }
        if requirement.text.strip():
            node["parts"] = [
                {"id": f"{token}_smt", "name": "statement", "prose": requirement.text.strip()}
            ]
        groups, controls = self.members(requirement.id, parent_is_group=is_group)
        if groups:
            node["groups"] = groups
        if controls:
            node["controls"] = controls
        return node

    def _token(self, requirement: Requirement) -> str:
        """The source's id when it is a valid, unused OSCAL token; otherwise one from the ref."""
        candidate = requirement.source_id or ""
        if not _TOKEN.match(candidate) or candidate in self.used:
            candidate = _NOT_TOKEN_CHAR.sub("_", requirement.ref.strip()).strip("_") or "r"
            if not _TOKEN.match(candidate):
                candidate = f"_{candidate}"
        token, n = candidate, 1
        while token in self.used or f"{token}_smt" in self.used:
            n += 1
            token = f"{candidate}_{n}"
        self.used.update({token, f"{token}_smt"})
        return token
