"""Regulations as JSON (the shapes of ../shared/corpus/regulations).

GDPR: ``{"meta": {...}, "articles": [{"article", "title", "chapter", "chapter_title", "section",
"section_title", "text"}]}`` -> chapters (``Ch.IV``), sections (``Ch.IV.Sec.1``), articles
(``Art.32``). HIPAA: ``{"meta": {...}, "sections": [{"section": "164.308", "title", "subpart",
"subpart_title", "part_title", "text"}]}`` -> parts (``Part 164``), subparts
(``Part 164 Subpart C``), sections (``164.308``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from artifact.frameworks.services.parsed import ParsedFramework, ParsedRequirement, Problem
from artifact.frameworks.services.reading import expect, load_json

GDPR_ARTICLES = 99


def _records(
    path: Path, problem: Problem, max_bytes: int, list_key: str, what: str
) -> tuple[dict[str, Any], list[Any]]:
    document = load_json(path, problem, max_bytes)
    expect(document, dict, problem, "$", f"a JSON object with {list_key!r}")
    if list_key not in document:
        found = ", ".join(sorted(map(str, document))[:5]) or "none"
        raise problem(
            "$",
            f"no {list_key!r} list (found keys: {found}); is this the {what} JSON? check --format",
        )
    records = expect(document[list_key], list, problem, f"$.{list_key}", "a list")
    meta = document.get("meta") if isinstance(document.get("meta"), dict) else {}
    return meta, records


def _field(
    record: dict[str, Any], name: str, problem: Problem, where: str, required: bool = True
) -> str:
    value = record.get(name)
    if value is None or value == "":
        if required:
            raise problem(f"{where}.{name}", "missing")
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise problem(f"{where}.{name}", f"expected text, found {type(value).__name__}")
    return str(value).strip()


def parse_gdpr(
    path: Path, key: str, title: str | None, tolerant: bool, max_bytes: int
) -> ParsedFramework:
    problem = Problem(path)
    meta, records = _records(path, problem, max_bytes, "articles", "GDPR")
    framework = ParsedFramework(
        key=key,
        title=title or str(meta.get("title") or "General Data Protection Regulation"),
        version=str(meta.get("regulation") or "2016/679"),
        category="regulation",
    )
    groups: set[str] = set()
    for index, record in enumerate(records):
        where = f"$.articles[{index}]"
        expect(record, dict, problem, where, "an article object")
        article = _field(record, "article", problem, where)
        chapter = _field(record, "chapter", problem, where)
        parent = f"Ch.{chapter}"
        if parent not in groups:
            groups.add(parent)
            framework.requirements.append(
                ParsedRequirement(
                    ref=parent,
                    title=_field(record, "chapter_title", problem, where, False),
                    kind="chapter",
                    where=where,
                )
            )
        section = _field(record, "section", problem, where, required=False)
        if section:
            section_ref = f"{parent}.Sec.{section}"
            if section_ref not in groups:
                groups.add(section_ref)
                framework.requirements.append(
                    ParsedRequirement(
                        ref=section_ref,
                        title=_field(record, "section_title", problem, where, False),
                        parent_ref=parent,
                        kind="section",
                        where=where,
                    )
                )
            parent = section_ref
        framework.requirements.append(
            ParsedRequirement(
                ref=f"Art.{article}",
                title=_field(record, "title", problem, where),
                text=_field(record, "text", problem, where, required=False),
                parent_ref=parent,
                kind="article",
                where=where,
            )
        )
    articles = sum(1 for r in framework.requirements if r.kind == "article")
    if articles != GDPR_ARTICLES:
        framework.notes.append(f"note: {articles} articles (the GDPR has {GDPR_ARTICLES})")
    return framework


def parse_hipaa(
    path: Path, key: str, title: str | None, tolerant: bool, max_bytes: int
) -> ParsedFramework:
    problem = Problem(path)
    meta, records = _records(path, problem, max_bytes, "sections", "HIPAA")
    framework = ParsedFramework(
        key=key,
        title=title or "HIPAA Administrative Simplification (45 CFR Parts 160 and 164)",
        version=str(meta.get("text_as_of") or "")[:100],
        category="regulation",
    )
    groups: set[str] = set()
    for index, record in enumerate(records):
        where = f"$.sections[{index}]"
        expect(record, dict, problem, where, "a section object")
        section = _field(record, "section", problem, where)
        part = f"Part {section.split('.', 1)[0]}"
        if part not in groups:
            groups.add(part)
            framework.requirements.append(
                ParsedRequirement(
                    ref=part,
                    title=_field(record, "part_title", problem, where, False),
                    kind="group",
                    where=where,
                )
            )
        parent = part
        subpart = _field(record, "subpart", problem, where, required=False)
        if subpart:
            parent = f"{part} {subpart}"
            if parent not in groups:
                groups.add(parent)
                framework.requirements.append(
                    ParsedRequirement(
                        ref=parent,
                        title=_field(record, "subpart_title", problem, where, False),
                        parent_ref=part,
                        kind="group",
                        where=where,
                    )
                )
        framework.requirements.append(
            ParsedRequirement(
                ref=section,
                title=_field(record, "title", problem, where),
                text=_field(record, "text", problem, where, required=False),
                parent_ref=parent,
                kind="section",
                where=where,
            )
        )
    return framework
