"""Error pages: JSON for the API, a page otherwise, never a traceback."""

from __future__ import annotations

import pytest
from flask import Flask, redirect
from sqlalchemy import select
from werkzeug.wrappers import Response

from artifact import create_app
from artifact.audit.services import chain as audit
from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.kernel.errors import ValidationFailed
from artifact.models import AuditEvent


@pytest.fixture
def exploding_app(database_url: str, tmp_path) -> Flask:
    app = create_app(
        {
            "ARTIFACT_ENV": "testing",
            "DATA_DIR": str(tmp_path / "d"),
            "SQLALCHEMY_DATABASE_URI": database_url,
        }
    )

    def boom() -> str:
        raise RuntimeError("secret internals: password=hunter2")

    def half_done() -> str:
        caller = Caller.operator("test")
        audit.record(db.session, caller, "test.half_done")
        uow.durable(db.session, lambda session: audit.record(session, caller, "test.kept"))
        raise RuntimeError("failed half-way")

    def refused_then_redirected() -> Response:
        # A view that turns a refusal into a flash and a redirect (a 302, which on its own
        # would be committed): what was written before the refusal must not be kept.
        audit.record(db.session, Caller.operator("test"), "test.before_refusal")
        try:
            raise ValidationFailed("refused half-way")
        except ValidationFailed:
            return redirect("/")

    def succeeded() -> Response:
        audit.record(db.session, Caller.operator("test"), "test.succeeded")
        return redirect("/")

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/refused", "refused", refused_then_redirected)
    app.add_url_rule("/succeeded", "succeeded", succeeded)
    app.add_url_rule("/api/v1/boom", "api_boom", boom)
    app.add_url_rule("/half-done", "half_done", half_done)
    return app


def test_500_page_shows_a_request_id_and_no_traceback(exploding_app: Flask) -> None:
    response = exploding_app.test_client().get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    request_id = response.headers["X-Request-Id"]
    assert request_id
    assert request_id in html
    assert "Traceback" not in html
    assert "hunter2" not in html
    assert "RuntimeError" not in html


def test_500_json_for_the_api(exploding_app: Flask) -> None:
    response = exploding_app.test_client().get("/api/v1/boom")
    body = response.get_json()
    assert response.status_code == 500
    assert body["error"]["code"] == "internal_error"
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]
    assert "hunter2" not in response.get_data(as_text=True)


def test_a_failed_request_keeps_only_its_durable_records(exploding_app: Flask) -> None:
    assert exploding_app.test_client().get("/half-done").status_code == 500
    with exploding_app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
        db.session.remove()
        db.engine.dispose()
    assert actions == ["test.kept"]


def test_a_refusal_turned_into_a_redirect_keeps_nothing(exploding_app: Flask) -> None:
    client = exploding_app.test_client()
    assert client.get("/refused").status_code == 302
    assert client.get("/succeeded").status_code == 302  # the next request starts afresh
    with exploding_app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
        db.session.remove()
        db.engine.dispose()
    assert actions == ["test.succeeded"]


def test_404_page(client) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "<h1>We couldn't find this page</h1>" in page
    assert 'href="/catalog/">Browse the catalog</a>' in page


def test_security_headers_on_pages(client) -> None:
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert (
        "script-src" not in response.headers["Content-Security-Policy"]
        or "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    )
