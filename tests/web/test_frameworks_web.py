"""Framework pages and API for signed-in users."""

from __future__ import annotations

import pytest

from artifact.extensions import db
from artifact.frameworks import services as frameworks
from artifact.kernel.caller import OPERATOR
from tests.fixtures_frameworks import stored_counts

WALK = (
    "source_framework,source_id,target_framework,target_id,relationship\n"
    "iso-sample,A.5.15,soc-sample,CC6.1,subset\n"
)
GDPR = (
    '{"articles": [{"article": 32, "title": "Security of <b>processing</b>", "chapter": "IV",'
    ' "chapter_title": "Controller and processor", "section": 2, "section_title": "Security",'
    ' "text": "1. ..."}, {"article": 33, "title": "Notification", "chapter": "IV",'
    ' "section": 2, "text": ""}]}'
)


@pytest.fixture
def mapped(small_frameworks, run_import, write_file):
    assert run_import(write_file("walk.csv", WALK), "crosswalk").exit_code == 0
    assert run_import(write_file("gdpr.json", GDPR), "gdpr").exit_code == 0
    walk = (
        "source_framework,source_id,target_framework,target_id,relationship\n"
        "gdpr,Art.32,iso-sample,A.8.5,intersect\n"
    )
    assert run_import(write_file("walk2.csv", walk), "crosswalk").exit_code == 0


def _framework(key):
    return frameworks.get_framework(db.session, OPERATOR, key=key)


def test_customer_sees_the_list_and_the_tree(mapped, customer, login_as) -> None:
    client = login_as(customer)
    page = client.get("/frameworks").get_data(as_text=True)
    assert 'href="/frameworks"' in page  # in the navigation
    assert "iso-sample" in page
    assert "soc-sample" in page
    detail = client.get(f"/frameworks/{_framework('iso-sample').id}")
    assert detail.status_code == 200
    html = detail.get_data(as_text=True)
    assert "<details>" in html
    assert "<strong>A.5.15</strong> Access control" in html
    assert "soc-sample:CC6.1 <small>subset</small>" in html


def test_regulation_page_lists_articles_and_mappings(mapped, customer, login_as) -> None:
    client = login_as(customer)
    assert 'href="/regulations/gdpr"' in client.get("/regulations").get_data(as_text=True)
    html = client.get("/regulations/gdpr").get_data(as_text=True)
    assert '<th scope="row">Art.32</th>' in html
    assert "Security of &lt;b&gt;processing&lt;/b&gt;" in html  # escaped, never markup
    assert '<th scope="row">Art.33</th>' in html
    assert "iso-sample:A.8.5 <small>intersects</small>" in html
    assert "Ch.IV Controller and processor" in html


def test_unknown_framework_is_404(customer, login_as) -> None:
    client = login_as(customer)
    assert client.get("/frameworks/" + "0" * 32).status_code == 404
    assert client.get("/regulations/nope").status_code == 404
    response = client.get("/api/v1/frameworks/" + "0" * 32 + "/requirements")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    # What cannot be an id names nothing, and is never put in a query (PostgreSQL refuses NUL).
    for framework_id, status in (("nope", 404), ("%00", 400), ("0" * 31 + "%00", 400)):
        for tail in ("requirements", "coverage"):
            response = client.get(f"/api/v1/frameworks/{framework_id}/{tail}")
            assert response.status_code == status, (framework_id, tail)


def test_anonymous_gets_nothing(mapped, client) -> None:
    assert client.get("/api/v1/frameworks").status_code == 401
    response = client.get(f"/api/v1/frameworks/{_framework('iso-sample').id}/requirements")
    assert response.status_code == 401
    assert client.get("/frameworks").headers["Location"].startswith("/login")


def test_api_lists_frameworks_and_complete_requirements(mapped, auditor, login_as) -> None:
    client = login_as(auditor)
    listing = client.get("/api/v1/frameworks").get_json()
    assert listing["total"] == 3
    iso = next(item for item in listing["items"] if item["key"] == "iso-sample")
    assert iso["requirements"] == 5
    assert iso["category"] == "framework"
    body = client.get(f"/api/v1/frameworks/{iso['id']}/requirements").get_json()
    assert body["total"] == 5 == len(body["items"])
    by_ref = {item["ref"]: item for item in body["items"]}
    assert by_ref["A.5.15"]["parent"] == "A.5"
    assert by_ref["A.5"]["parent"] is None
    assert by_ref["A.5.15"]["name"] == "iso-sample:A.5.15"
    assert set(by_ref["A.5.15"]) == {"id", "ref", "name", "title", "parent", "kind", "withdrawn"}


def test_export_of_a_csv_framework_validates(small_frameworks, runner) -> None:
    from artifact.frameworks.services import schemas
    from tests.fixtures_frameworks import export_json

    before = stored_counts()
    document = export_json(runner, "iso-sample")
    assert schemas.schema_problems(document, "catalog", "1.2.1") == []
    group = document["catalog"]["groups"][0]
    assert (group["id"], group["title"]) == ("A.5", "Organizational controls")
    assert [c["props"][0]["value"] for c in group["controls"]] == ["A.5.1", "A.5.15"]
    assert stored_counts()[3] == before[3] + 1  # the export is an audit event


def test_export_of_unknown_framework(runner) -> None:
    result = runner.invoke(args=["frameworks", "export", "nope"])
    assert result.exit_code == 1
    assert "no framework with key 'nope'" in result.output


def test_demo_seeds_frameworks_once(runner) -> None:
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    after_first = stored_counts()
    assert after_first[0] == 4
    regulations = {
        f.key: n for f, n in frameworks.list_frameworks(db.session, OPERATOR, "regulation")
    }
    assert regulations == {"gdpr": 110, "hipaa": 38}
    assert (
        len(
            [
                r
                for r in frameworks.requirements_of(db.session, OPERATOR, _framework("gdpr"))
                if r.kind == "article"
            ]
        )
        == 99
    )
    iso = frameworks.requirements_of(db.session, OPERATOR, _framework("iso27001-2022"))
    assert sum(r.kind == "control" for r in iso) == 93
    assert after_first[2] == 12  # the demo crosswalk
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert stored_counts()[:3] == after_first[:3]


def test_regulation_page_kept_rendered_follows_imports_and_reports_at_once(
    mapped, customer, login_as, run_import, write_file, make_report
) -> None:
    """The articles' table is kept rendered per policy generation: a crosswalk import and a
    report the customer may now see show on the very next request."""
    client = login_as(customer)
    html = client.get("/regulations/gdpr").get_data(as_text=True)
    assert "iso-sample:A.5.15" not in html
    assert "Reports covering the whole regulation" not in html
    walk = (
        "source_framework,source_id,target_framework,target_id,relationship\n"
        "gdpr,Art.33,iso-sample,A.5.15,subset\n"
    )
    assert run_import(write_file("walk3.csv", walk), "crosswalk").exit_code == 0
    html = client.get("/regulations/gdpr").get_data(as_text=True)
    assert "iso-sample:A.5.15 <small>subset</small>" in html
    make_report("GDPR readiness report", visibility="customers", frameworks=["GDPR"])
    html = client.get("/regulations/gdpr").get_data(as_text=True)
    assert "Reports covering the whole regulation" in html
    assert "GDPR readiness report" in html


def test_frameworks_list_kept_rendered_follows_an_import_at_once(
    small_frameworks, customer, login_as, run_import, write_file
) -> None:
    """The list is kept rendered per policy generation: a framework imported since shows, with
    its requirement count, on the very next request."""
    client = login_as(customer)
    html = client.get("/frameworks").get_data(as_text=True)
    assert "<code>gdpr</code>" not in html
    assert run_import(write_file("gdpr.json", GDPR), "gdpr").exit_code == 0
    html = client.get("/frameworks").get_data(as_text=True)
    assert "<code>gdpr</code>" in html
    row = html[html.index("<code>gdpr</code>") :]
    assert "<td>4</td>" in row[: row.index("</tr>")]  # chapter IV, its section 2, two articles
