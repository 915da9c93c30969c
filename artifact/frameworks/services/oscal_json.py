"""OSCAL catalog JSON: validated against the schema of the version the file declares, then read
as a tree of groups, controls and (nested) control enhancements."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from artifact.frameworks.services import schemas
from artifact.frameworks.services.parsed import ParsedFramework, ParsedRequirement, Problem
from artifact.frameworks.services.reading import expect, load_json
from artifact.kernel.errors import ValidationFailed

_INSERT_PARAM = re.compile(r"\{\{\s*insert:\s*param,\s*([^}\s]+)\s*\}\}")
_NAIVE_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$")
MAX_PROBLEMS_SHOWN = 5


def parse(
    path: Path, key: str, title: str | None, tolerant: bool, max_bytes: int
) -> ParsedFramework:
    problem = Problem(path)
    document = load_json(path, problem, max_bytes)
    catalog = _root(document, problem)
    version, repairs = _validate(document, problem, tolerant)
    metadata = catalog["metadata"]
    framework = ParsedFramework(
        key=key,
        title=title or str(metadata.get("title", key)),
        version=str(metadata.get("version", "")),
        repairs=repairs,
    )
    framework.notes.append(_validated_note(version, metadata["oscal-version"]))
    params = _params(catalog)
    walker = _Walker(framework, params)
    for index, group in enumerate(catalog.get("groups", [])):
        walker.group(group, None, f"$.catalog.groups[{index}]")
    for index, control in enumerate(catalog.get("controls", [])):
        walker.control(control, None, f"$.catalog.controls[{index}]", depth=0)
    return framework


def _root(document: Any, problem: Problem) -> dict[str, Any]:
    expect(document, dict, problem, "$", "a JSON object with a 'catalog'")
    if "catalog" in document:
        catalog: dict[str, Any] = expect(
            document["catalog"], dict, problem, "$.catalog", "an object"
        )
        return catalog
    if "mapping-collection" in document:
        _reject_mapping_collection(document, problem)
    if "profile" in document:
        raise problem("$", "this is an OSCAL profile, not a catalog; import its resolved catalog")
    found = ", ".join(sorted(map(str, document))[:5]) or "none"
    raise problem(
        "$",
        f"no 'catalog' at the top level (found keys: {found}); is this an OSCAL "
        "catalog? check --format",
    )


def _reject_mapping_collection(document: dict[str, Any], problem: Problem) -> None:
    declared = _declared_version(document, "mapping-collection", problem)
    version = _schema_version("mapping-collection", declared, problem)
    found = schemas.schema_problems(document, "mapping-collection", version)
    if found:
        raise problem("", _invalid_message("mapping-collection", version, found))
    raise problem(
        "$.mapping-collection",
        "OSCAL mapping collections validate but are not imported yet; import the crosswalk as CSV",
    )


def _declared_version(document: dict[str, Any], model: str, problem: Problem) -> Any:
    metadata = expect(document[model], dict, problem, f"$.{model}", "an object").get("metadata")
    expect(metadata, dict, problem, f"$.{model}.metadata", "an object")
    if "oscal-version" not in metadata:
        raise problem(
            f"$.{model}.metadata", "no 'oscal-version': cannot tell which OSCAL schema applies"
        )
    return metadata["oscal-version"]


def _schema_version(model: str, declared: Any, problem: Problem) -> str:
    try:
        return schemas.schema_version_for(model, declared)
    except ValidationFailed as error:
        raise problem("", error.message) from error


def _validate(document: dict[str, Any], problem: Problem, tolerant: bool) -> tuple[str, list[str]]:
    declared = _declared_version(document, "catalog", problem)
    version = _schema_version("catalog", declared, problem)
    found = schemas.schema_problems(document, "catalog", version)
    repairs: list[str] = []
    if found and tolerant:
        repairs = [_repair(document, item) for item in found if _repairable(item)]
        found = schemas.schema_problems(document, "catalog", version)
    if found:
        hint = ""
        if not tolerant and any(_repairable(item) for item in found):
            hint = " (--tolerant would read time stamps without a time zone as UTC)"
        raise problem("", _invalid_message("catalog", version, found) + hint)
    return version, repairs


def _invalid_message(model: str, version: str, found: list[schemas.SchemaProblem]) -> str:
    shown = "; ".join(str(item) for item in found[:MAX_PROBLEMS_SHOWN])
    hidden = len(found) - MAX_PROBLEMS_SHOWN
    more = f" (and {hidden} more)" if hidden > 0 else ""
    return (
        f"does not validate against the OSCAL {version} {model} schema: "
        f"{len(found)} problem(s): {shown}{more}"
    )


def _repairable(item: schemas.SchemaProblem) -> bool:
    return (
        isinstance(item.instance, str)
        and "timezone" in item.description
        and bool(_NAIVE_TIMESTAMP.match(item.instance))
    )


def _repair(document: Any, item: schemas.SchemaProblem) -> str:
    container = document
    for part in item.path[:-1]:
        container = container[part]
    container[item.path[-1]] = item.instance + "Z"
    return (
        f"{schemas.json_path(item.path)}: time stamp {item.instance!r} has no time zone; "
        "read as UTC"
    )


def _validated_note(used: str, declared: Any) -> str:
    if str(declared).lstrip("v") == used:
        return f"validated against the OSCAL {used} catalog schema"
    return (
        f"validated against the OSCAL {used} catalog schema (the file declares {declared}; "
        "same minor version line)"
    )


def _params(catalog: dict[str, Any]) -> dict[str, str]:
    """Parameter id -> how to show it in prose ('[Assignment: ...]')."""
    shown: dict[str, str] = {}

    def visit(node: dict[str, Any]) -> None:
        for param in node.get("params", []):
            if "label" in param:
                shown[param["id"]] = f"[Assignment: {param['label']}]"
            elif "select" in param:
                choices = "; ".join(param["select"].get("choice", []))
                shown[param["id"]] = f"[Selection: {choices}]"
        for child in (*node.get("groups", []), *node.get("controls", [])):
            visit(child)

    visit(catalog)
    return shown


class _Walker:
    def __init__(self, framework: ParsedFramework, params: dict[str, str]) -> None:
        self.framework = framework
        self.params = params

    def group(self, group: dict[str, Any], parent: str | None, where: str) -> None:
        ref = _ref_label(group) or group.get("id") or group["title"]
        self._add(group, ref, parent, "group", where)
        for index, child in enumerate(group.get("groups", [])):
            self.group(child, ref, f"{where}.groups[{index}]")
        for index, control in enumerate(group.get("controls", [])):
            self.control(control, ref, f"{where}.controls[{index}]", depth=0)

    def control(self, control: dict[str, Any], parent: str | None, where: str, depth: int) -> None:
        ref = _ref_label(control) or control["id"]
        self._add(control, ref, parent, "enhancement" if depth else "control", where)
        for index, child in enumerate(control.get("controls", [])):
            self.control(child, ref, f"{where}.controls[{index}]", depth + 1)

    def _add(
        self, node: dict[str, Any], ref: str, parent: str | None, kind: str, where: str
    ) -> None:
        self.framework.requirements.append(
            ParsedRequirement(
                ref=ref,
                title=node["title"],
                text=self._statement(node),
                parent_ref=parent,
                kind=kind,
                withdrawn=_withdrawn(node),
                source_id=node.get("id"),
                where=where,
            )
        )

    def _insert_params(self, prose: str) -> str:
        for _ in range(4):  # a selection's choices may insert parameters themselves
            if "{{" not in prose:
                break
            prose = _INSERT_PARAM.sub(
                lambda m: self.params.get(m[1], "[Assignment: organization-defined value]"), prose
            )
        return prose

    def _statement(self, node: dict[str, Any]) -> str:
        lines: list[str] = []

        def visit(part: dict[str, Any], indent: str) -> None:
            label = _label(part)
            prose = self._insert_params(part.get("prose", "")).strip()
            if label or prose:
                lines.append(f"{indent}{label + ' ' if label else ''}{prose}".rstrip())
            for child in part.get("parts", []):
                visit(child, indent + "  " if (label or prose) else indent)

        for part in node.get("parts", []):
            if part.get("name") in ("statement", "description", "objective"):
                visit(part, "")
        return "\n".join(lines)


def _label(node: dict[str, Any]) -> str | None:
    labels = [p for p in node.get("props", []) if p.get("name") == "label"]
    plain = [p for p in labels if "class" not in p] or labels
    return str(plain[0]["value"]) if plain else None


def compact_label(labels: list[str]) -> str | None:
    """A label usable as a ref: 'AC-2(1)' yes, 'Business Environment (ID.BE)' no."""
    return next((label for label in labels if label and not any(c.isspace() for c in label)), None)


def _ref_label(node: dict[str, Any]) -> str | None:
    labels = [p for p in node.get("props", []) if p.get("name") == "label"]
    plain = [p for p in labels if "class" not in p] or labels
    return compact_label([str(p["value"]) for p in plain])


def _withdrawn(node: dict[str, Any]) -> bool:
    return any(
        p.get("name") == "status" and p.get("value") == "withdrawn" for p in node.get("props", [])
    )
