"""Coverage and freshness: direct and inferred (crosswalk) evidence, expiry, reports, and what
non-staff users may see of it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from artifact.evidence import services as evidence
from artifact.extensions import db
from artifact.frameworks import services as frameworks
from artifact.kernel.caller import OPERATOR
from artifact.models.base import utcnow
from tests.callers import as_caller
from tests.conftest import corpus_path, post_form
from tests.fixtures_evidence import today

NIST = "nist-sp-800-53-rev5"


def _framework(key):
    return frameworks.get_framework(db.session, OPERATOR, key=key)


def _rows(key, user):
    found = evidence.framework_coverage(
        db.session, as_caller(user), _framework(key), utcnow().date()
    )
    return found, {row.requirement.ref: row for row in found.rows}


def test_corpus_crosswalk_infers_coverage_from_ac_2(
    run_import, make_evidence, staff, customer, client, bearer
) -> None:
    nist = corpus_path("oscal", "sp800-53r5-catalog", "NIST_SP-800-53_rev5_catalog.v5.0.1.json")
    assert run_import(nist, "oscal", "--key", NIST).exit_code == 0
    iso = run_import(corpus_path("mappings", "frameworks", "iso27001-2022.ids.csv"), "csv")
    assert iso.exit_code == 0, iso.output
    walk = corpus_path("mappings", "crosswalks", "mapping-nist-sp-800-53-rev5-to-iso27001-2022.csv")
    assert "imported 642 mappings" in run_import(walk, "crosswalk").output
    item = make_evidence(
        "Account management review", requirements=[f"{NIST}:AC-2"], state="approved"
    )
    found, rows = _rows("iso27001-2022", staff)
    for ref in ("A.5.16", "A.5.18"):
        hits = [h for h in rows[ref].evidence if h.evidence.id == item.id]
        assert len(hits) == 1, ref
        assert hits[0].inferred
        assert hits[0].via == f"{NIST}:AC-2"
        assert hits[0].relationship == "intersects"
        assert hits[0].origin
        assert rows[ref].status == "covered"
    assert rows["A.5.1"].status == "missing"
    assert found.counts["covered"] >= 2
    # the same through the API, and nothing of it for a customer
    api = client.get(
        f"/api/v1/frameworks/{found.framework.id}/coverage", headers=bearer(staff)
    ).get_json()
    a516 = next(i for i in api["items"] if i["ref"] == "A.5.16")
    assert a516["status"] == "covered"
    assert a516["evidence"][0]["via"] == f"{NIST}:AC-2"
    assert a516["evidence"][0]["inferred"] is True
    seen = client.get(f"/api/v1/frameworks/{found.framework.id}/coverage", headers=bearer(customer))
    assert seen.status_code == 200
    assert "Account management review" not in seen.get_data(as_text=True)
    assert "summary" not in seen.get_json()
    assert all("evidence" not in i and "status" not in i for i in seen.get_json()["items"])


def test_freshness_statuses(evidence_frameworks, make_evidence, staff) -> None:
    make_evidence(
        "Current",
        requirements=["iso-sample:A.5.1"],
        state="approved",
        expires_on=today() + timedelta(days=365),
    )
    make_evidence(
        "Soon",
        requirements=["iso-sample:A.8.5"],
        state="approved",
        expires_on=today() + timedelta(days=10),
    )
    make_evidence(
        "Expired",
        requirements=["iso-sample:A.5.15"],
        state="approved",
        effective_date=today() - timedelta(days=400),
        expires_on=today() - timedelta(days=1),
    )
    make_evidence("Draft", requirements=["soc-sample:CC6.1"])
    found, rows = _rows("iso-sample", staff)
    assert rows["A.5.1"].status == "covered"
    assert rows["A.8.5"].status == "expiring"
    # expired evidence does not count; the inferred draft (via CC6.1) does not either
    assert rows["A.5.15"].status == "stale"
    assert {h.evidence.title for h in rows["A.5.15"].evidence} == {"Expired", "Draft"}
    assert not rows["A.5"].assessable  # a group
    assert found.counts == {"covered": 1, "expiring": 1, "stale": 1, "missing": 0}
    _, soc = _rows("soc-sample", staff)
    assert soc["CC6.1"].status == "stale"
    inferred = [h for h in soc["CC6.1"].evidence if h.inferred]
    assert [(h.evidence.title, h.via, h.relationship) for h in inferred] == [
        ("Expired", "iso-sample:A.5.15", "superset")
    ]


def test_expired_evidence_is_not_coverage(evidence_frameworks, make_evidence, staff) -> None:
    make_evidence(
        "Old",
        requirements=["iso-sample:A.5.1"],
        state="approved",
        effective_date=today() - timedelta(days=30),
        expires_on=today() - timedelta(days=1),
    )
    _, rows = _rows("iso-sample", staff)
    assert rows["A.5.1"].status == "stale"


@pytest.mark.parametrize(
    ("report_name", "key", "expected"),
    [
        ("ISO/IEC 27001:2022", "iso27001-2022", True),
        ("ISO 27001", "iso27001-2022", True),
        ("ISO/IEC 27017:2015", "iso27001-2022", False),
        ("ISO/IEC 27001:2013", "iso27001-2022", False),
        ("SOC 2", "soc2-tsc-2017", True),
        ("SOC 1", "soc2-tsc-2017", False),
        ("GDPR", "gdpr", True),
        ("NIST SP 800-53 Rev. 5", "nist-sp-800-53-rev5", True),
        ("PCI DSS v4.0.1", "pci-dss-4.0.1", True),
        ("", "gdpr", False),
    ],
)
def test_report_framework_names(report_name, key, expected) -> None:
    from artifact.models import Framework

    framework = Framework(key=key, title=key)
    assert evidence.report_names_framework(report_name, framework) is expected


def test_reports_cover_frameworks_and_regulations_through_mappings(
    run_import, write_file, make_report, make_evidence, staff, customer, hostile, login_as
) -> None:
    iso = "ref,title,parent\nA.8,Technological,\nA.8.24,Use of cryptography,A.8\n"
    assert run_import(write_file("iso.csv", iso), "csv", "--key", "iso27001-2022").exit_code == 0
    gdpr = (
        '{"articles": [{"article": 32, "title": "Security of processing", "chapter": "IV",'
        ' "text": ""}, {"article": 33, "title": "Notification", "chapter": "IV"}]}'
    )
    assert run_import(write_file("gdpr.json", gdpr), "gdpr").exit_code == 0
    walk = (
        "source_framework,source_id,target_framework,target_id,relationship,source\n"
        "gdpr,Art.32,iso27001-2022,A.8.24,intersects,Demo walk\n"
    )
    assert run_import(write_file("walk.csv", walk), "crosswalk").exit_code == 0
    make_report("ISO certificate", visibility="customers", frameworks=["ISO/IEC 27001:2022"])
    make_report("Secret ISO audit", visibility="restricted", frameworks=["ISO/IEC 27001:2022"])
    make_evidence("Key management runbook", requirements=["iso27001-2022:A.8.24"], state="approved")
    client = login_as(customer)
    html = client.get("/regulations/gdpr").get_data(as_text=True)
    assert "ISO certificate" in html
    assert "inferred via iso27001-2022:A.8.24 (intersects)" in html
    assert "Secret ISO audit" not in html
    assert "Key management runbook" not in html
    client.post("/logout", data={})
    staff_client = login_as(staff)
    html = staff_client.get("/regulations/gdpr").get_data(as_text=True)
    assert "Key management runbook" in html
    assert "Secret ISO audit" in html
    assert post_form  # (the staff page is read-only)
