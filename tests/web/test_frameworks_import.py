"""`frameworks import`: hostile and garbage input is a clear message, exit 1, nothing stored."""

from __future__ import annotations

import json

import pytest

from tests.fixtures_frameworks import ISO_SAMPLE, stored_counts

GOOD_CATALOG = {
    "catalog": {
        "uuid": "0c8e2a4e-8c1d-4f7a-9d55-0d8b1c1a2b3c",
        "metadata": {
            "title": "Tiny",
            "last-modified": "2024-01-01T00:00:00Z",
            "version": "1",
            "oscal-version": "1.1.3",
        },
        "groups": [
            {
                "id": "ac",
                "title": "Access Control",
                "controls": [
                    {
                        "id": "ac-1",
                        "title": "Policy",
                        "props": [{"name": "label", "value": "AC-1"}],
                        "controls": [
                            {
                                "id": "ac-1.1",
                                "title": "Old",
                                "props": [
                                    {"name": "label", "value": "AC-1(1)"},
                                    {"name": "status", "value": "withdrawn"},
                                ],
                            }
                        ],
                    },
                ],
            }
        ],
    }
}


def _catalog(**changes: object) -> str:
    document = json.loads(json.dumps(GOOD_CATALOG))
    document["catalog"]["metadata"].update(changes)
    return json.dumps(document)


HOSTILE = [
    # (file name, content, format, expected fragments of the message)
    ("empty.csv", "", "csv", ["empty.csv", "the file is empty"]),
    ("blank.json", "  \n\n", "oscal", ["blank.json", "the file is empty"]),
    ("garbage.csv", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "csv", ["garbage.csv", "binary data"]),
    (
        "latin1.csv",
        "ref,title,parent\nA.1,Caf\xe9,\n".encode("latin-1"),
        "csv",
        ["latin1.csv", "byte 24", "not UTF-8"],
    ),
    (
        "truncated.json",
        json.dumps(GOOD_CATALOG)[:150],
        "oscal",
        ["truncated.json", "line 1 column", "not valid JSON"],
    ),
    ("iso.csv", ISO_SAMPLE, "oscal", ["iso.csv", "not valid JSON"]),
    ("catalog.json", json.dumps(GOOD_CATALOG), "csv", ["catalog.json", "missing column 'ref'"]),
    ("catalog2.json", json.dumps(GOOD_CATALOG), "gdpr", ["catalog2.json", "no 'articles' list"]),
    ("gdpr.json", json.dumps({"articles": []}), "oscal", ["gdpr.json", "no 'catalog'"]),
    ("list.json", "[1, 2]", "hipaa", ["list.json", "$: expected a JSON object"]),
    ("cat.xml", "<catalog><metadata>", "oscal-xml", ["cat.xml", "line 1", "not well-formed"]),
    ("notoscal.xml", "<html><body/></html>", "oscal-xml", ["<html>", "not an OSCAL <catalog>"]),
    (
        "bomb.xml",
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
        "oscal-xml",
        ["bomb.xml", "refused"],
    ),
    (
        "nocols.csv",
        "identifier,name\nA.1,x\n",
        "csv",
        ["line 1", "missing column 'ref'", "'identifier', 'name'"],
    ),
    ("short.csv", "ref,title\nA.1,x\n", "csv", ["missing column 'parent'"]),
    (
        "orphan.csv",
        "ref,title,parent\nA.1,One,\nA.1.1,Child,A.9\n",
        "csv",
        ["orphan.csv: line 3", "unknown parent 'A.9'"],
    ),
    (
        "dup.csv",
        "ref,title,parent\nA.1,One,\na.1,Again,\n",
        "csv",
        ["dup.csv: line 3", "duplicate ref 'a.1'", "first at line 2"],
    ),
    ("emptyref.csv", "ref,title,parent\n,Nameless,\n", "csv", ["line 2", "the ref is empty"]),
    ("extra.csv", "ref,title,parent\nA.1,x,,surprise\n", "csv", ["line 2", "4 values for 3"]),
    ("headeronly.csv", "ref,title,parent\n", "csv", ["headeronly.csv", "no requirements"]),
    (
        "huge.csv",
        "ref,title,parent\nA.1," + "x" * (10 * 1024 * 1024) + ",\n",
        "csv",
        ["huge.csv: line 2", "field larger than field limit"],
    ),
    (
        "nover.json",
        _catalog(**{"oscal-version": "9.9.9"}),
        "oscal",
        ["nover.json", "declares OSCAL 9.9.9", "no catalog schema", "1.2.1"],
    ),
    (
        "badver.json",
        _catalog(**{"oscal-version": "latest"}),
        "oscal",
        ["'latest' is not an OSCAL version"],
    ),
    (
        "invalid.json",
        _catalog(**{"last-modified": "yesterday"}),
        "oscal",
        [
            "invalid.json",
            "OSCAL 1.1.3 catalog schema",
            "$.catalog.metadata.last-modified",
            "'yesterday'",
        ],
    ),
    (
        "duposcal.json",
        json.dumps(GOOD_CATALOG).replace('"AC-1(1)"', '"ac-1"'),
        "oscal",
        ["duposcal.json", "$.catalog.groups[0].controls[0].controls[0]", "duplicate ref 'ac-1'"],
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "fmt", "fragments"), HOSTILE, ids=[case[0] for case in HOSTILE]
)
def test_bad_input_is_a_clear_error_and_stores_nothing(
    run_import, write_file, name, content, fmt, fragments
) -> None:
    before = stored_counts()
    result = run_import(write_file(name, content), fmt)
    assert result.exit_code == 1, result.output
    for fragment in fragments:
        assert fragment in result.output
    assert "Traceback" not in result.output
    assert stored_counts() == before


def test_unknown_format_flag_is_refused(run_import, write_file) -> None:
    result = run_import(write_file("iso.csv", ISO_SAMPLE), "pdf")
    assert result.exit_code == 2
    assert "'pdf' is not one of" in result.output


def test_missing_file(run_import, tmp_path) -> None:
    result = run_import(tmp_path / "nothere.csv", "csv")
    assert result.exit_code == 1
    assert "nothere.csv: cannot read the file" in result.output


def test_file_over_the_limit_is_refused(app, run_import, write_file) -> None:
    app.config["FRAMEWORK_IMPORT_MAX_BYTES"] = 50
    result = run_import(write_file("iso.csv", ISO_SAMPLE), "csv")
    assert result.exit_code == 1
    assert "over the import limit of 50 bytes" in result.output


def test_bad_key_and_existing_key(run_import, write_file) -> None:
    path = write_file("iso.csv", ISO_SAMPLE)
    assert (
        "framework key 'Bad Key!' is not valid"
        in run_import(path, "csv", "--key", "Bad Key!").output
    )
    assert run_import(path, "csv", "--key", "iso-sample").exit_code == 0
    before = stored_counts()
    again = run_import(path, "csv", "--key", "iso-sample")
    assert again.exit_code == 1
    assert "'iso-sample' exists already" in again.output
    assert stored_counts() == before


def test_csv_import_builds_the_tree(app, run_import, write_file) -> None:
    from artifact.extensions import db
    from artifact.frameworks import services as frameworks
    from artifact.kernel.caller import OPERATOR

    result = run_import(
        write_file("iso.csv", ISO_SAMPLE), "csv", "--key", "iso-sample", "--title", "ISO sample"
    )
    assert result.exit_code == 0, result.output
    assert "imported 5 requirements into iso-sample" in result.output
    framework = frameworks.get_framework(db.session, OPERATOR, key="iso-sample")
    assert framework.title == "ISO sample"
    by_ref = {r.ref: r for r in frameworks.requirements_of(db.session, OPERATOR, framework)}
    assert [r for r in by_ref] == ["A.5", "A.5.1", "A.5.15", "A.8", "A.8.5"]
    assert by_ref["A.5.15"].parent is by_ref["A.5"]
    assert (by_ref["A.5"].kind, by_ref["A.5.1"].kind) == ("group", "control")
    # names are KEY:REF, refs compared case-insensitively
    found = frameworks.requirement_by_name(db.session, OPERATOR, "iso-sample:a.5.15")
    assert found.id == by_ref["A.5.15"].id
    assert found.name == "iso-sample:A.5.15"


CROSSWALK_HEADER = "source_framework,source_id,target_framework,target_id,relationship,rationale\n"


@pytest.mark.parametrize(
    ("rows", "fragments"),
    [
        ("nope,A.5.1,soc-sample,CC6.1,intersect,\n", ["line 2", "unknown framework 'nope'"]),
        (
            "iso-sample,A.5.1,soc-sample,CC9.9,intersect,\n",
            ["line 2", "soc-sample has no requirement 'CC9.9'"],
        ),
        ("iso-sample,A.5.1,soc-sample,CC6.1,kinda,\n", ["line 2", "unknown relationship 'kinda'"]),
        ("iso-sample,A.5.1,soc-sample,,equal,\n", ["line 2", "empty target_ref"]),
        ("iso-sample,A.5.1,iso-sample,a.5.1,equal,\n", ["mapped to itself"]),
        (
            "iso-sample,A.5.1,soc-sample,CC6.1,subset,\nsoc-sample,CC6.1,iso-sample,A.5.1,subset,\n",
            ["line 3", "already mapped as superset, not subset"],
        ),
        # a good row first: it must not be stored either
        (
            "iso-sample,A.5.15,soc-sample,CC6.1,equal,\niso-sample,A.5.1,soc-sample,CC7,equal,\n",
            ["line 3", "no requirement 'CC7'"],
        ),
    ],
)
def test_bad_crosswalk_rows(small_frameworks, run_import, write_file, rows, fragments) -> None:
    before = stored_counts()
    result = run_import(write_file("walk.csv", CROSSWALK_HEADER + rows), "crosswalk")
    assert result.exit_code == 1, result.output
    for fragment in ["walk.csv", *fragments]:
        assert fragment in result.output
    assert stored_counts() == before


def test_crosswalk_stores_each_fact_once(small_frameworks, run_import, write_file) -> None:
    rows = (
        "iso-sample,A.5.15,soc-sample,CC6.1,subset,semantic\n"
        "soc-sample,cc6.1,iso-sample,a.5.15,superset,semantic\n"  # the same fact reversed
        "iso-sample,A.8.5,soc-sample,CC6.1,intersect,\n"
    )
    result = run_import(write_file("walk.csv", CROSSWALK_HEADER + rows), "crosswalk")
    assert result.exit_code == 0, result.output
    assert "imported 2 mappings" in result.output
    assert "1 rows restated a mapping" in result.output
    again = run_import(write_file("walk.csv", CROSSWALK_HEADER + rows), "crosswalk")
    assert "imported 0 mappings (3 already present)" in again.output


def test_tolerant_crosswalk_skips_unknown_requirements_and_says_so(
    small_frameworks, run_import, write_file
) -> None:
    rows = "iso-sample,A.5.15,soc-sample,CC6.1,equal,\niso-sample,A.5.99,soc-sample,CC6.1,equal,\n"
    result = run_import(write_file("walk.csv", CROSSWALK_HEADER + rows), "crosswalk", "--tolerant")
    assert result.exit_code == 0, result.output
    assert "repaired: line 3: skipped, iso-sample has no requirement 'A.5.99'" in result.output
    assert "imported 1 mappings" in result.output


def test_tolerant_csv_repairs_and_reports(run_import, write_file) -> None:
    text = (
        "urn,ref_id,short_title,parent_ref_id\n"
        "urn:x:core,,Core,\n"
        "urn:x:a1,A.1,One,core\n"
        "urn:x:a1-again,a.1,Again,core\n"
    )
    strict = run_import(write_file("ids.csv", text), "csv")
    assert strict.exit_code == 1
    assert "line 2: the ref is empty" in strict.output
    result = run_import(write_file("ids.csv", text), "csv", "--tolerant")
    assert result.exit_code == 0, result.output
    assert "repaired: line 2: empty ref; used 'core' from the urn" in result.output
    assert "repaired: line 4: skipped duplicate ref 'a.1'" in result.output
    assert "imported 2 requirements into ids" in result.output


def test_imports_are_audited(run_import, write_file) -> None:
    from sqlalchemy import select

    from artifact.extensions import db
    from artifact.models import AuditEvent

    run_import(write_file("iso.csv", ISO_SAMPLE), "csv", "--key", "iso-sample")
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert event.action == "framework.import"
    assert json.loads(event.details) == {
        "key": "iso-sample",
        "format": "csv",
        "file": "iso.csv",
        "requirements": 5,
        "repairs": 0,
    }
