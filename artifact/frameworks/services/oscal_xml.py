"""OSCAL catalog XML (such as NIST CSF 2.0), parsed with defusedxml (no entities, no DTDs).

No OSCAL XSD ships with Artifact, so the XML is checked for the structure the importer relies on
(an OSCAL ``catalog`` root, metadata with title and a known OSCAL version, a title on every group
and control) rather than against the schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from artifact.frameworks.services import schemas
from artifact.frameworks.services.oscal_json import compact_label
from artifact.frameworks.services.parsed import ParsedFramework, ParsedRequirement, Problem
from artifact.frameworks.services.reading import read_text

NS = "{http://csrc.nist.gov/ns/oscal/1.0}"


def parse(
    path: Path, key: str, title: str | None, tolerant: bool, max_bytes: int
) -> ParsedFramework:
    problem = Problem(path)
    root = _root(read_text(path, problem, max_bytes), problem)
    metadata = _child(root, "metadata", problem, "/catalog")
    declared = _text(_child(metadata, "oscal-version", problem, "/catalog/metadata"))
    if schemas.parse_version(declared) is None:
        raise problem(
            "/catalog/metadata/oscal-version",
            f"{declared!r} is not an OSCAL version (expected MAJOR.MINOR.PATCH)",
        )
    framework = ParsedFramework(
        key=key,
        title=title or _text(_child(metadata, "title", problem, "/catalog/metadata")),
        version=_text(metadata.find(f"{NS}version")),
    )
    framework.notes.append(f"OSCAL {declared} XML, checked for structure (no XSD is shipped)")
    _walk(root, None, "/catalog", 0, framework, problem)
    return framework


def _root(text: str, problem: Problem) -> Element:
    try:
        root: Element = fromstring(text.encode("utf-8"), forbid_dtd=True)
    except ParseError as error:
        line, column = error.position
        raise problem(
            f"line {line} column {column + 1}",
            f"not well-formed XML ({error.msg}); is the file truncated or of another format?",
        ) from error
    except DefusedXmlException as error:
        raise problem("", f"refused: {error}") from error
    if root.tag != f"{NS}catalog":
        raise problem(
            "/",
            f"the root element is <{_local(root.tag)}>, not an OSCAL <catalog> "
            f"in {NS[1:-1]}; check --format",
        )
    return root


def _walk(
    node: Element,
    parent: str | None,
    where: str,
    depth: int,
    framework: ParsedFramework,
    problem: Problem,
) -> None:
    counts: dict[str, int] = {}
    for child in node:
        name = _local(child.tag)
        if name not in ("group", "control"):
            continue
        counts[name] = counts.get(name, 0) + 1
        here = f"{where}/{name}[{counts[name]}]"
        ident = child.get("id", "")
        node_title = _text(_child(child, "title", problem, here))
        ref = compact_label(_props(child, "label")) or ident or node_title
        kind = "group" if name == "group" else ("enhancement" if depth else "control")
        framework.requirements.append(
            ParsedRequirement(
                ref=ref,
                title=node_title,
                text=_statement(child),
                parent_ref=parent,
                kind=kind,
                withdrawn="withdrawn" in _props(child, "status"),
                source_id=ident or None,
                where=here,
            )
        )
        _walk(child, ref, here, depth + (1 if name == "control" else 0), framework, problem)


def _child(node: Element, name: str, problem: Problem, where: str) -> Element:
    found = node.find(f"{NS}{name}")
    if found is None:
        raise problem(where, f"no <{name}> element")
    return found


def _props(node: Element, name: str) -> list[str]:
    return [
        p.get("value", "")
        for p in node.findall(f"{NS}prop")
        if p.get("name") == name and p.get("ns") is None
    ]


def _statement(node: Element) -> str:
    parts = [p for p in node.findall(f"{NS}part") if p.get("name") == "statement"]
    return "\n".join(" ".join(_text(p).split()) for p in parts).strip()


def _text(node: Any) -> str:
    return " ".join("".join(node.itertext()).split()) if node is not None else ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
