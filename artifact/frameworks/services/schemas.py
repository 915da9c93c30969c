"""OSCAL JSON schema validation with the schemas shipped in ``artifact/oscal_schemas``.

The schemas' patterns use Unicode classes (``\\p{L}``) that Python's ``re`` lacks, so the
``pattern`` keywords are evaluated with the ``regex`` module.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import regex
from jsonschema import Draft7Validator, ValidationError, validators

from artifact.kernel.errors import ValidationFailed

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "oscal_schemas"
EXPORT_VERSION = "1.2.1"
MODELS = {"catalog": "oscal_catalog_schema.json", "mapping-collection": "oscal_mapping_schema.json"}


@cache
def _compiled(pattern: str) -> Any:
    return regex.compile(pattern)


def _pattern(validator: Any, patrn: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _compiled(patrn).search(instance):
        # The patterns are long; the datatype's description says what was expected.
        expected = schema.get("description") or f"the pattern {_short(patrn)}"
        yield ValidationError(
            f"{_short(instance)} is not valid: expected {expected[:1].lower()}"
            f"{expected[1:].rstrip('.')}"
        )


def _pattern_properties(
    validator: Any, properties: dict[str, Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for patrn, subschema in properties.items():
        for key, value in instance.items():
            if _compiled(patrn).search(key):
                yield from validator.descend(value, subschema, path=key, schema_path=patrn)


OscalValidator = validators.extend(
    Draft7Validator, {"pattern": _pattern, "patternProperties": _pattern_properties}
)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...'"


def available_versions(model: str) -> list[str]:
    versions = [p.parent.name.removeprefix("oscal-") for p in SCHEMA_DIR.glob(f"*/{MODELS[model]}")]
    return sorted(versions, key=_version_tuple)


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def parse_version(declared: Any) -> tuple[int, int, int] | None:
    match = regex.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)", str(declared).strip())
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def schema_version_for(model: str, declared: Any) -> str:
    """The shipped schema to validate a file declaring ``declared``.

    OSCAL follows semantic versioning: patch releases of one minor line are compatible, so a file
    declaring 1.0.0 is checked with the newest 1.0.x schema shipped (1.0.6). Another minor line is
    not assumed compatible. Raises ValidationFailed naming what is missing."""
    have = available_versions(model)
    parsed = parse_version(declared)
    if parsed is None:
        raise ValidationFailed(
            f"$.{model}.metadata.oscal-version: {_short(declared)} is not an OSCAL version "
            "(expected MAJOR.MINOR.PATCH)"
        )
    same_line = [
        v for v in have if _version_tuple(v)[:2] == parsed[:2] and _version_tuple(v)[2] >= parsed[2]
    ]
    if not same_line:
        raise ValidationFailed(
            f"$.{model}.metadata.oscal-version: the file declares OSCAL "
            f"{'.'.join(map(str, parsed))} but no {model} schema of the "
            f"{parsed[0]}.{parsed[1]}.x line (at or after it) is available; "
            f"Artifact ships {', '.join(have)}"
        )
    return same_line[-1]


@cache
def validator(model: str, version: str) -> Any:
    path = SCHEMA_DIR / f"oscal-{version}" / MODELS[model]
    return OscalValidator(json.loads(path.read_text(encoding="utf-8")))


def json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


@dataclass(frozen=True)
class SchemaProblem:
    path: tuple[str | int, ...]
    message: str
    instance: Any
    description: str

    def __str__(self) -> str:
        return f"{json_path(self.path)}: {self.message}"


def _most_relevant(error: ValidationError) -> ValidationError:
    """For oneOf/anyOf failures, point at the deepest error (what is really wrong)."""
    while error.context:
        error = max(error.context, key=lambda e: len(e.absolute_path))
    return error


def schema_problems(document: Any, model: str, version: str) -> list[SchemaProblem]:
    """What the schema rejects, one problem per place, sorted by path."""
    found: dict[str, SchemaProblem] = {}
    for error in validator(model, version).iter_errors(document):
        leaf = _most_relevant(error)
        schema = leaf.schema if isinstance(leaf.schema, dict) else {}
        problem = SchemaProblem(
            tuple(leaf.absolute_path),
            leaf.message,
            leaf.instance,
            str(schema.get("description", "")),
        )
        found.setdefault(str(problem), problem)
    return [found[key] for key in sorted(found)]
