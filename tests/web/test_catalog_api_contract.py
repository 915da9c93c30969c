"""The catalog's JSON API keeps the OpenAPI document's word: request bodies and query
arguments are checked against it (unknown fields refused), every answer validates against its
documented schema, and the statuses are the documented ones."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from artifact.catalog.services import grants
from artifact.extensions import db
from artifact.kernel.caller import OPERATOR
from tests.conftest import post_form
from tests.fixtures_catalog import make_active_pdf, upload_version


@pytest.fixture
def document(client) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").get_json()


def assert_matches(document: dict[str, Any], schema: str, body: Any) -> None:
    """``body`` is valid against the document's component ``schema``."""
    validator = Draft202012Validator({**document, "$ref": f"#/components/schemas/{schema}"})
    problems = [error.message for error in validator.iter_errors(body)]
    assert not problems, (schema, body, problems)


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        ("/reports", {"title": [None], "category": "reports"}, "is not of type 'string'"),
        ("/reports", {"title": "T", "category": "reports", "tilte": "x"}, "unknown field 'tilte'"),
        (
            "/reports",
            {"title": " \u3000 ", "category": "reports"},
            "title: must be one line, not blank",
        ),
        ("/reports", {"title": "T", "category": "reports", "series": "a\x00"}, "NUL"),
        ("/reports", {"title": "T"}, "'category' is a required property"),
        ("/reports", {"title": "T", "category": "reports", "period_end": "20251231"}, "date"),
        ("/grants", {"series": "SOC", "category": "reports", "user": "a@b.test"}, "exactly one"),
        ("/grants", {"series": "SOC"}, "exactly one grantee"),
        ("/grants", {"series": "SOC", "user": "a@b.test", "expires": "2999-01-01"}, "expires"),
        (
            "/grants",
            {"series": "SOC", "user": "a@b.test", "expires_at": "2999-01-01T10:00"},
            "expires_at: must be a date-time or a date",
        ),
        ("/access-requests", {"report_id": None}, "None is not of type 'string'"),
        ("/access-requests", {"report_id": ""}, "report_id: must be an id"),
    ],
)
def test_bodies_are_checked_against_the_document(
    client, staff, bearer, path: str, body: dict[str, Any], says: str
) -> None:
    response = client.post(f"/api/v1{path}", headers=bearer(staff), json=body)
    assert response.status_code == 400, response.get_json()
    assert says in response.get_json()["error"]["message"]


def test_a_report_answer_matches_the_document(client, document, staff, bearer) -> None:
    response = client.post(
        "/api/v1/reports",
        headers=bearer(staff),
        json={"title": "Pen test", "category": "reports", "frameworks": ["SOC 2", " "]},
    )
    assert response.status_code == 201, response.get_json()
    assert_matches(document, "Report", response.get_json())
    assert response.get_json()["frameworks"] == ["SOC 2"]


def test_version_answers_match_the_document(client, document, staff, customer, bearer) -> None:
    created = client.post(
        "/api/v1/reports",
        headers=bearer(staff),
        json={"title": "Scripted", "category": "reports", "visibility": "customers"},
    ).get_json()
    data = make_active_pdf()
    upload = upload_version(client, bearer(staff), created["id"], data, release_notes="v1")
    assert upload.status_code == 201
    assert_matches(document, "ReportVersion", upload.get_json())
    assert upload.get_json()["removed_content"]
    client.post(
        f"/api/v1/reports/{created['id']}/state",
        headers=bearer(staff),
        json={"state": "published"},
    )
    for user in (staff, customer):
        report = client.get(f"/api/v1/reports/{created['id']}", headers=bearer(user)).get_json()
        assert_matches(document, "Report", report)
        assert ("removed_content" in report["versions"][0]) is (user is staff)


def test_terms_must_be_named_even_to_remove_them(client, make_report, staff, bearer) -> None:
    report = make_report()
    headers = bearer(staff)
    path = f"/api/v1/reports/{report.id}/terms"
    # A misspelt field used to remove the gate silently.
    refused = client.post(path, headers=headers, json={"terms_agreement": "x"})
    assert refused.status_code == 400
    assert client.post(path, headers=headers, json={"terms_agreement_id": None}).status_code == 200


def test_publishing_without_a_version_is_a_conflict(
    client, make_report, staff, bearer, login_as
) -> None:
    report = make_report("Draft only", state="draft")
    response = client.post(
        f"/api/v1/reports/{report.id}/state", headers=bearer(staff), json={"state": "published"}
    )
    assert response.status_code == 409
    assert "upload a version" in response.get_json()["error"]["message"]
    # The staff page still says so in a message instead of failing.
    login_as(staff)
    page = post_form(
        client,
        f"/catalog/{report.id}/state",
        {"state": "published"},
        token_from=f"/catalog/{report.id}",
        follow_redirects=True,
    )
    assert page.status_code == 200
    assert "upload a version before publishing" in page.get_data(as_text=True)


def test_grantees_that_do_not_exist_are_a_conflict(client, make_report, staff, bearer) -> None:
    report = make_report()
    headers = bearer(staff)
    for grantee in ({"user": "nobody@example.test"}, {"organization": "No Such Org"}):
        response = client.post(
            "/api/v1/grants", headers=headers, json={"report_id": report.id, **grantee}
        )
        assert response.status_code == 409, response.get_json()
    unknown_report = client.post(
        "/api/v1/grants", headers=headers, json={"report_id": "0" * 32, "user": "x@y.test"}
    )
    assert unknown_report.status_code == 404


@pytest.mark.parametrize(
    ("expires_at", "stored"),
    [
        ("2999-01-01t10:00:00z", "2999-01-01T10:00:00+00:00"),  # RFC 3339 allows lower case
        ("2999-01-01T10:00:00+02:00", "2999-01-01T08:00:00+00:00"),  # kept in UTC
        ("2999-01-01", "2999-01-01T23:59:59+00:00"),  # a date means its end
        # The last moment Python can hold, moved past it by the zone: no 500.
        ("9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59.999999+00:00"),
    ],
)
def test_expiries_in_every_documented_form(
    client, document, make_report, staff, customer, bearer, expires_at: str, stored: str
) -> None:
    report = make_report()
    response = client.post(
        "/api/v1/grants",
        headers=bearer(staff),
        json={"report_id": report.id, "user": customer.email, "expires_at": expires_at},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["expires_at"] == stored
    assert_matches(document, "Grant", response.get_json())


@pytest.mark.parametrize("expires_at", ["2000-01-01T00:00:00Z", "0001-01-01T00:00:00+23:59"])
def test_an_expiry_in_the_past_is_refused(
    client, make_report, staff, customer, bearer, expires_at: str
) -> None:
    report = make_report()
    response = client.post(
        "/api/v1/grants",
        headers=bearer(staff),
        json={"report_id": report.id, "user": customer.email, "expires_at": expires_at},
    )
    assert response.status_code == 400
    assert "in the future" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("version", ["\u00b2", "", "0", "-1", "abc", "1000000000"])
def test_a_bad_version_argument_is_400(client, make_report, customer, bearer, version) -> None:
    report = make_report(visibility="customers")
    response = client.get(
        f"/api/v1/reports/{report.id}/download",
        headers=bearer(customer),
        query_string={"version": version},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith("version")


def test_a_superscript_version_on_the_page_is_400_not_500(client, make_report) -> None:
    report = make_report(visibility="public")
    response = client.get(f"/catalog/{report.id}/download", query_string={"version": "\u00b2"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("report_id", "status"),
    [("%00", 400), ("x", 404), ("0" * 31 + "\x00", 400), ("A" * 32, 404), ("a" * 100, 404)],
)
def test_what_is_not_an_id_names_nothing(client, staff, bearer, report_id: str, status) -> None:
    # NUL is refused at the edge (400, issue 16); anything else that is not an id is a 404.
    headers = bearer(staff)
    assert client.get(f"/api/v1/reports/{report_id}", headers=headers).status_code == status
    approve = client.post(f"/api/v1/access-requests/{report_id}/approve", headers=headers)
    assert approve.status_code == status


def test_access_requests_through_their_life(
    client, document, make_report, staff, customer, bearer
) -> None:
    report = make_report(visibility="customers")
    as_customer, as_staff = bearer(customer), bearer(staff)
    by_series = client.post("/api/v1/access-requests", headers=as_customer, json={"series": "SOC"})
    by_report = client.post(
        "/api/v1/access-requests", headers=as_customer, json={"report_id": report.id}
    )
    for created in (by_series, by_report):
        assert created.status_code == 201, created.get_json()
        assert_matches(document, "AccessRequest", created.get_json())
    pending = client.get("/api/v1/access-requests", headers=as_staff)
    assert_matches(document, "AccessRequestList", pending.get_json())
    assert pending.get_json()["total"] == 2

    series_id, report_request_id = by_series.get_json()["id"], by_report.get_json()["id"]
    # A body that is not an object used to be a 500.
    refused = client.post(
        f"/api/v1/access-requests/{series_id}/approve", headers=as_staff, json=[1]
    )
    assert refused.status_code == 400
    approved = client.post(f"/api/v1/access-requests/{series_id}/approve", headers=as_staff)
    denied = client.post(f"/api/v1/access-requests/{report_request_id}/deny", headers=as_staff)
    for decided in (approved, denied):
        assert decided.status_code == 200, decided.get_json()
        assert_matches(document, "AccessRequest", decided.get_json())
    again = client.post(f"/api/v1/access-requests/{series_id}/deny", headers=as_staff)
    assert again.status_code == 409

    def listed(state: str) -> list[str]:
        response = client.get(f"/api/v1/access-requests?state={state}", headers=as_staff)
        assert response.status_code == 200
        return [item["id"] for item in response.get_json()["items"]]

    assert listed("pending") == []
    assert listed("approved") == [series_id]
    assert listed("denied") == [report_request_id]
    bogus = client.get("/api/v1/access-requests?state=granted", headers=as_staff)
    assert bogus.status_code == 400


def test_a_grant_to_an_organisation_matches_the_document(
    client, document, make_report, make_user, staff, bearer
) -> None:
    make_user(org="Initech")
    response = client.post(
        "/api/v1/grants",
        headers=bearer(staff),
        json={"category": "reports", "organization": "Initech"},
    )
    assert response.status_code == 201, response.get_json()
    assert_matches(document, "Grant", response.get_json())
    assert response.get_json()["organization"] == "Initech"


def test_every_catalog_operation_documents_401_and_has_an_operation_id(document) -> None:
    catalog = {
        path: operations
        for path, operations in document["paths"].items()
        if path.startswith(("/reports", "/grants", "/access-requests", "/categories", "/series"))
    }
    ids = [op["operationId"] for operations in catalog.values() for op in operations.values()]
    assert len(ids) == len(set(ids)) == 26
    for operations in catalog.values():
        for operation in operations.values():
            assert "401" in operation["responses"]


def test_a_pending_request_is_not_filed_twice(client, customer, bearer) -> None:
    headers = bearer(customer)
    first = client.post("/api/v1/access-requests", headers=headers, json={"category": "reports"})
    second = client.post("/api/v1/access-requests", headers=headers, json={"category": "reports"})
    assert first.status_code == 201
    assert second.status_code == 409
    error = second.get_json()["error"]
    assert error["existing_id"] == first.get_json()["id"]
    assert "still pending" in error["message"]
    assert len(grants.list_requests(db.session, OPERATOR)) == 1


@pytest.mark.parametrize("name", ["category", "series", "framework", "q"])
def test_a_nul_in_a_catalog_filter_is_a_400_naming_it(client, make_report, name: str) -> None:
    # PostgreSQL refuses NUL in a query: the edge of the app refuses it first, page and API.
    make_report(visibility="public")
    page = client.get("/catalog/", query_string={name: "SOC\x00"})
    assert page.status_code == 400
    assert f"{name} contains a control character (NUL)" in page.get_data(as_text=True)
    response = client.get("/api/v1/reports", query_string={name: "SOC\x00"})
    assert response.status_code == 400
