"""Acceptance against the real material of ../shared/corpus (skipped where it is absent)."""

from __future__ import annotations

import csv
from collections import Counter

import pytest
from sqlalchemy import func, select

from artifact.extensions import db
from artifact.frameworks import services as frameworks
from artifact.frameworks.services import schemas
from artifact.kernel.caller import OPERATOR
from artifact.models import Mapping
from tests.conftest import corpus_path
from tests.fixtures_frameworks import export_json, stored_counts

NIST = "nist-sp-800-53-rev5"


@pytest.fixture
def nist_800_53(run_import):
    path = corpus_path("oscal", "sp800-53r5-catalog", "NIST_SP-800-53_rev5_catalog.v5.0.1.json")
    result = run_import(path, "oscal", "--key", NIST)
    assert result.exit_code == 0, result.output
    return result


def _requirements(key):
    framework = frameworks.get_framework(db.session, OPERATOR, key=key)
    return frameworks.requirements_of(db.session, OPERATOR, framework)


def test_800_53_import_matches_the_derived_csv(nist_800_53) -> None:
    assert "imported 1209 requirements into nist-sp-800-53-rev5" in nist_800_53.output
    assert (
        "validated against the OSCAL 1.0.6 catalog schema (the file declares 1.0.0"
        in nist_800_53.output
    )
    requirements = _requirements(NIST)
    kinds = Counter(r.kind for r in requirements)
    assert kinds["group"] == 20
    assert kinds["control"] + kinds["enhancement"] == 1189
    assert sum(r.withdrawn for r in requirements) == 182
    oracle_path = corpus_path("oscal", "derived", "sp800-53r5_controls.csv")
    with oracle_path.open(encoding="utf-8") as handle:
        oracle = list(csv.DictReader(handle))
    by_id = {row["id"]: row for row in oracle}
    expected = {
        row["label"]: (
            row["withdrawn"] == "True",
            by_id[row["parent_id"]]["label"] if row["parent_id"] else row["family_id"].lower(),
            row["title"],
        )
        for row in oracle
    }
    refs = {r.id: r.ref for r in requirements}
    stored = {
        r.ref: (r.withdrawn, refs[r.parent_id], r.title) for r in requirements if r.kind != "group"
    }
    assert stored == expected
    ac2 = frameworks.requirement_by_name(db.session, OPERATOR, f"{NIST}:ac-2")
    assert ac2.text.startswith("a. Define and document the types of accounts")


def test_800_53_export_validates_against_1_2_1_and_round_trips(
    nist_800_53, runner, run_import, tmp_path
) -> None:
    document = export_json(runner, NIST)
    assert document["catalog"]["metadata"]["oscal-version"] == "1.2.1"
    assert schemas.schema_problems(document, "catalog", "1.2.1") == []
    assert len(document["catalog"]["groups"]) == 20
    path = tmp_path / "export.json"
    path.write_text(runner.invoke(args=["frameworks", "export", NIST]).stdout, encoding="utf-8")
    again = run_import(path, "oscal", "--key", "reimported")
    assert again.exit_code == 0, again.output
    before = [(r.ref, r.title, r.withdrawn, r.kind, r.text) for r in _requirements(NIST)]
    after = [(r.ref, r.title, r.withdrawn, r.kind, r.text) for r in _requirements("reimported")]
    assert after == before


def test_crosswalk_800_53_to_iso_27001_2022_yields_642_mappings(nist_800_53, run_import) -> None:
    iso = run_import(corpus_path("mappings", "frameworks", "iso27001-2022.ids.csv"), "csv")
    assert "imported 140 requirements into iso27001-2022" in iso.output
    walk = corpus_path("mappings", "crosswalks", "mapping-nist-sp-800-53-rev5-to-iso27001-2022.csv")
    result = run_import(walk, "crosswalk")
    assert result.exit_code == 0, result.output
    assert "imported 642 mappings" in result.output
    assert db.session.scalar(select(func.count()).select_from(Mapping)) == 642
    ac2 = frameworks.requirement_by_name(db.session, OPERATOR, f"{NIST}:AC-2")
    mapped = frameworks.framework_mappings(db.session, OPERATOR, ac2.framework)[ac2.id]
    assert {m.name for m in mapped} >= {"iso27001-2022:A.5.16", "iso27001-2022:A.5.18"}
    assert {m.relationship for m in mapped} == {"intersects"}


def test_crosswalk_before_its_frameworks_exist(run_import) -> None:
    walk = corpus_path("mappings", "crosswalks", "mapping-nist-sp-800-53-rev5-to-iso27001-2022.csv")
    result = run_import(walk, "crosswalk")
    assert result.exit_code == 1
    assert "line 2: unknown framework 'nist-sp-800-53-rev5'" in result.output


def test_hipaa_oscal_catalog_fails_then_imports_tolerantly(run_import) -> None:
    path = corpus_path("oscal", "hipaa-sp800-66r2-oscal", "hipaa-2.0.0_catalog.json")
    before = stored_counts()
    strict = run_import(path, "oscal", "--key", "hipaa-800-66")
    assert strict.exit_code == 1
    assert (
        "hipaa-2.0.0_catalog.json: does not validate against the OSCAL 1.1.3 catalog schema"
        in strict.output
    )
    assert "$.catalog.metadata.last-modified: '2025-08-14T14:07:12.346307'" in strict.output
    assert "required timezone" in strict.output
    assert stored_counts() == before
    tolerant = run_import(path, "oscal", "--key", "hipaa-800-66", "--tolerant")
    assert tolerant.exit_code == 0, tolerant.output
    assert (
        "repaired: $.catalog.metadata.last-modified: time stamp '2025-08-14T14:07:12.346307' "
        "has no time zone; read as UTC"
    ) in tolerant.output
    assert "imported 153 requirements into hipaa-800-66" in tolerant.output


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        (
            "PCI_v4-to-NIST_800-53_rev4.mapping-collection.json",
            "$.mapping-collection.provenance.method: 'manual' is not one of",
        ),
        (
            "NIST-CSF_v2-to-NIST-800-53_rev5.example.mapping-collection.json",
            "the file declares OSCAL 1.1.3 but no mapping-collection schema of the 1.1.x line",
        ),
        (
            "nist_ai_rmf_to_iso_42001.mapping-collection.json",
            "unmapped-controls[0].with-ids: [] should be non-empty",
        ),
    ],
)
def test_mapping_collections_fail_naming_the_problem(run_import, name, problem) -> None:
    before = stored_counts()
    for extra in ((), ("--tolerant",)):
        result = run_import(corpus_path("oscal", "mapping-collections", name), "oscal", *extra)
        assert result.exit_code == 1
        assert f"{name}: " in result.output
        assert problem in result.output
    assert stored_counts() == before


def test_csf_2_0_xml_matches_the_derived_csv(run_import) -> None:
    result = run_import(
        corpus_path("oscal", "csf-2.0", "NIST_CSF_v2.0_catalog.xml"),
        "oscal-xml",
        "--key",
        "nist-csf-2.0",
    )
    assert result.exit_code == 0, result.output
    with corpus_path("oscal", "derived", "csf2.0_functions_categories_subcategories.csv").open(
        encoding="utf-8"
    ) as handle:
        oracle = {row["id"]: row["parent"] for row in csv.DictReader(handle)}
    requirements = _requirements("nist-csf-2.0")
    refs = {r.id: r.ref for r in requirements}
    assert {r.ref: refs.get(r.parent_id, "") for r in requirements} == oracle
    kinds = Counter(r.kind for r in requirements)
    assert kinds == {"group": 6, "control": 34, "enhancement": 185}


def test_gdpr_and_hipaa_regulations(run_import) -> None:
    gdpr = run_import(corpus_path("regulations", "gdpr", "gdpr_articles.json"), "gdpr")
    assert gdpr.exit_code == 0, gdpr.output
    articles = [r for r in _requirements("gdpr") if r.kind == "article"]
    assert len(articles) == 99
    assert articles[31].ref == "Art.32"
    assert articles[31].title == "Security of processing"
    assert articles[31].parent.ref == "Ch.IV.Sec.2"
    hipaa = run_import(corpus_path("regulations", "hipaa", "hipaa_45cfr_sections.json"), "hipaa")
    assert hipaa.exit_code == 0, hipaa.output
    sections = {r.ref: r for r in _requirements("hipaa") if r.kind == "section"}
    assert len(sections) == 40
    assert sections["164.308"].title == "Administrative safeguards"
    assert sections["164.308"].parent.ref == "Part 164 Subpart C"


@pytest.mark.parametrize(
    "name", ["iso27001-2013.ids.csv", "soc2_2017_with_rev_2022.ids.csv", "nist-csf-2.0.ids.csv"]
)
def test_identifier_lists_import_and_export(run_import, runner, name) -> None:
    path = corpus_path("mappings", "frameworks", name)
    strict = run_import(path, "csv")
    if name == "iso27001-2013.ids.csv":  # two nodes without a ref: strict refuses
        assert strict.exit_code == 1
        assert "line 2: the ref is empty" in strict.output
        strict = run_import(path, "csv", "--tolerant")
    assert strict.exit_code == 0, strict.output
    key = name.removesuffix(".ids.csv")
    document = export_json(runner, key)
    assert schemas.schema_problems(document, "catalog", "1.2.1") == []
