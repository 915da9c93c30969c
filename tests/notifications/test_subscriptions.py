"""Subscriptions: the API (validated against the series and categories staff manage), the page
(CSRF), and the job queue's state for admins only."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from artifact.extensions import db
from artifact.models import Subscription
from tests.conftest import csrf_token, post_form
from tests.fixtures_catalog import ensure_series


def test_the_api_stores_slugs_and_refuses_what_names_nothing(app: Flask, bearer, customer) -> None:
    ensure_series("SOC 2", "ISO 27001")
    client, headers = app.test_client(), bearer(customer)
    assert client.get("/api/v1/subscriptions", headers=headers).get_json() == {
        "all_reports": False,
        "series": [],
        "categories": [],
        "muted": [],
    }
    put = client.put(
        "/api/v1/subscriptions",
        json={"all_reports": False, "series": ["soc 2", "SOC 2"], "categories": ["reports"]},
        headers=headers,
    )
    assert put.status_code == 200
    assert put.get_json()["series"] == ["SOC 2"]

    for body, says in [
        ({"series": ["SOC 9"]}, "unknown series 'SOC 9'"),
        ({"categories": ["gossip"]}, "unknown category 'gossip'"),
        ({"all_reports": "yes"}, "all_reports"),
        ({"muted": ["security"]}, "muted"),
        ({"series": "SOC 2"}, "series"),
        ({"colour": "blue"}, "colour"),
    ]:
        refused = client.put("/api/v1/subscriptions", json=body, headers=headers)
        assert refused.status_code == 400, body
        assert says in refused.get_json()["error"]["message"], refused.get_json()
    # Nothing half-written: the last good state stands.
    stored = db.session.scalar(select(Subscription).where(Subscription.user_id == customer.id))
    assert (stored.series, stored.categories) == (["SOC 2"], ["reports"])


def test_signing_in_is_needed(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/api/v1/subscriptions").status_code == 401
    assert client.put("/api/v1/subscriptions", json={}).status_code == 401
    assert client.get("/subscriptions").status_code == 302


def test_the_page_saves_with_csrf_and_refuses_without(
    app: Flask, client, login_as, customer
) -> None:
    ensure_series("SOC 2")
    login_as(customer)
    page = client.get("/subscriptions")
    assert page.status_code == 200
    assert "SOC 2" in page.get_data(as_text=True)
    # Customers are not offered the staff-only kinds.
    assert "Access requests waiting for a decision" not in page.get_data(as_text=True)
    refused = client.post("/subscriptions", data={"series": "SOC 2"})
    assert refused.status_code == 400
    saved = post_form(
        client,
        "/subscriptions",
        {"series": "SOC 2", "receive": ["agreements"]},
        token_from="/subscriptions",
    )
    assert saved.status_code == 302
    stored = db.session.scalar(select(Subscription).where(Subscription.user_id == customer.id))
    assert stored.series == ["SOC 2"]
    assert stored.muted == ["access_decisions"]
    assert csrf_token(client, "/subscriptions")


def test_only_admins_see_the_queue(app: Flask, bearer, staff, admin) -> None:
    client = app.test_client()
    assert client.get("/api/v1/queue", headers=bearer(staff)).status_code == 403
    state = client.get("/api/v1/queue", headers=bearer(admin)).get_json()
    assert state["backend"] == "SqliteHuey"
    assert state["reachable"] is True
    assert state["outbox"]["unprocessed_total"] == 0
