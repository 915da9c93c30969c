"""The edge of every request (issue 16, "Input"): control characters, body sizes, nesting and
methods are answered before authentication, and nothing of them reaches the database. On
PostgreSQL a NUL byte in a query parameter used to be a 500 (psycopg refuses it)."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from artifact.extensions import db
from tests.conftest import csrf_token, post_form

NUL = "\x00"


def _error(response: Any) -> str:
    if response.is_json:
        return response.get_json()["error"]["message"]
    return response.get_data(as_text=True)


def test_a_nul_in_the_sign_in_form_is_a_400_naming_the_field(client) -> None:
    response = post_form(client, "/login", {"email": f"a{NUL}b@x.test", "password": "x" * 12})
    assert response.status_code == 400
    assert "email contains a control character (NUL)" in _error(response)


@pytest.mark.parametrize(
    "path",
    ["/catalog/abc%00def", "/api/v1/reports/x%00", "/api/v1/reports?q=a%00b", "/search?q=%00"],
)
def test_a_nul_in_a_path_or_query_is_a_400(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert "control character (NUL)" in _error(response)


def test_other_controls_are_refused_but_tab_and_newlines_reach_the_field(
    client, staff, bearer
) -> None:
    headers = bearer(staff)
    bell = client.post(
        "/api/v1/grants", json={"report_id": "x", "note": "ring\x07"}, headers=headers
    )
    assert bell.status_code == 400
    assert bell.get_json()["error"]["message"].startswith(
        "note contains a control character (U+0007)"
    )
    # Tab and CR LF are not refused at the edge: the operation answers with its own rules.
    tab = client.post(
        "/api/v1/grants", json={"report_id": "x\t", "user_email": "a@b.test"}, headers=headers
    )
    assert "control character" not in tab.get_data(as_text=True)


def test_a_nul_in_a_json_field_name_or_nested_value_is_a_400(client, staff, bearer) -> None:
    headers = bearer(staff)
    for body in ({f"ti{NUL}tle": "x"}, {"frameworks": ["ok", f"bad{NUL}"]}):
        response = client.post("/api/v1/reports", json=body, headers=headers)
        assert response.status_code == 400
        assert "control character (NUL)" in _error(response)


def test_bodies_that_are_not_uploads_are_limited_before_they_are_read(client) -> None:
    form = client.post(
        "/login",
        data=b"email=" + b"a" * (65 * 1024),
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code == 413
    assert "larger than 64 kB" in _error(form)
    body = json.dumps({"message": "x" * (257 * 1024)})
    big = client.post("/api/v1/access-requests", data=body, content_type="application/json")
    assert big.status_code == 413
    assert big.get_json()["error"]["message"] == "The JSON body is larger than 256 kB."


def test_a_body_without_a_length_is_cut_off_at_the_limit(client) -> None:
    # Chunked: no Content-Length, the server reads until the client stops.
    response = client.post(
        "/login",
        input_stream=io.BytesIO(b"email=" + b"a" * (100 * 1024)),
        content_type="application/x-www-form-urlencoded",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413


def test_an_agreement_text_may_be_longer_than_an_ordinary_form(client, admin, bearer) -> None:
    text_body = "Clause. " * 20_000  # 160,000 characters: over 64 kB, within the text's limit
    response = client.post(
        "/api/v1/agreements",
        json={"title": "Long NDA", "kind": "nda", "text": text_body},
        headers=bearer(admin),
    )
    assert response.status_code == 201, response.get_data(as_text=True)


def test_deeply_nested_json_is_a_400_not_a_500(client, staff, bearer) -> None:
    for depth in (100, 5000):
        body = "[" * depth + "]" * depth
        response = client.post(
            "/api/v1/reports", data=body, content_type="application/json", headers=bearer(staff)
        )
        assert response.status_code == 400, depth
        assert "nested deeper than 64 levels" in _error(response)


@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH"])
def test_an_unsafe_method_on_a_page_that_does_not_take_it_is_a_405(client, method: str) -> None:
    response = client.open("/", method=method)
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_a_csrf_token_is_still_needed_where_the_method_is_allowed(client) -> None:
    response = client.post("/login", data={"email": "a@b.test", "password": "x" * 12})
    assert response.status_code == 400
    assert "form expired" in _error(response)


def test_sql_errors_never_carry_the_values(app: Flask) -> None:
    with pytest.raises(StatementError) as caught:
        db.session.execute(
            text("SELECT * FROM no_such_table WHERE x = :secret"), {"secret": "hunter2@x.test"}
        )
    db.session.rollback()
    assert "hunter2" not in str(caught.value)
    assert "parameters hidden" in str(caught.value)


# ---- the sweep: every route, NUL in each place, anonymous and signed in ---------------------

_ARG = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _urls(app: Flask) -> list[tuple[str, str]]:
    """(method, path with NUL in one segment) for every route and each of its arguments, plus
    the plain path for the query and body cases."""
    cases = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        plain = _ARG.sub("x", rule.rule)
        names = _ARG.findall(rule.rule)
        for method in methods:
            cases.append((method, plain))
            for name in names:
                cases.append(
                    (
                        method,
                        _ARG.sub(lambda m, n=name: "a%00b" if m.group(1) == n else "x", rule.rule),
                    )
                )
    return cases


@pytest.mark.parametrize("caller", ["anonymous", "staff session", "staff token"])
def test_nul_anywhere_on_any_route_is_never_a_500(
    app, client, staff, login_as, bearer, caller
) -> None:
    if caller == "staff session":
        login_as(staff)  # pages, and the API as the browser calls it
    token = csrf_token(client)
    headers = {"X-CSRFToken": token}
    if caller == "staff token":
        headers = bearer(staff)
    failures = []
    for method, path in _urls(app):
        attempts = [
            client.open(path, method=method, headers=headers),
            client.open(path, method=method, headers=headers, query_string={"q": NUL, "id": NUL}),
        ]
        if method != "GET":
            fields = {"csrf_token": token, "email": NUL, "title": NUL, "report_id": NUL, "q": NUL}
            attempts.append(client.open(path, method=method, headers=headers, data=fields))
            attempts.append(client.open(path, method=method, headers=headers, json=fields))
        for response in attempts:
            if response.status_code >= 500:
                failures.append((method, path, response.status_code))
    assert not failures


def test_a_multipart_part_without_a_readable_name_is_not_a_500(client, staff, bearer) -> None:
    # What schemathesis sent: a part named `h\"` that the multipart parser reads as no name.
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="h\\"\r\n\r\nnull\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    response = client.post(
        "/api/v1/evidence",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=bearer(staff),
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] != "internal_error"


def test_a_member_the_document_does_not_name_is_a_400_naming_it(client, admin, bearer) -> None:
    """Request bodies are closed in the OpenAPI document, and the server holds to it: a
    misspelt field is refused, never silently ignored."""
    headers = bearer(admin)
    response = client.post(
        "/api/v1/agreements",
        json={"title": "NDA", "kind": "nda", "text": "Terms.", "knd": "x"},
        headers=headers,
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith("unknown field 'knd'")
    upload = client.post(
        "/api/v1/evidence",
        data={
            "file": (io.BytesIO(b"evidence"), "a.txt"),
            "title": "T",
            "effective_date": "2025-01-01",
            "titel": "x",
        },
        headers=headers,
    )
    assert upload.status_code == 400
    assert "unknown field 'titel'" in upload.get_json()["error"]["message"]
