"""The audit trail for admins: page with filters, CSV export (formula-safe), API; denied access
recorded without flooding."""

from __future__ import annotations

import csv
import io

from flask import Flask
from sqlalchemy import select

from artifact.audit.services import chain as audit
from artifact.extensions import db
from artifact.kernel.caller import Caller
from artifact.models import AuditCheckpoint, AuditEvent, User
from tests.conftest import post_form, sign_in


def _token(runner, user: User) -> dict[str, str]:
    raw = runner.invoke(args=["tokens", "create", user.email]).output.strip().splitlines()[-1]
    return {"Authorization": f"Bearer {raw}"}


def test_admin_page_filters_events(app: Flask, client, admin: User, customer: User) -> None:
    sign_in(app.test_client(), customer.email, "a wrong password here")
    sign_in(client, admin.email)
    page = client.get("/admin/audit/?action=auth.sign_in&outcome=failure")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "1 event." in html
    assert customer.email in html
    by_actor = client.get(f"/admin/audit/?actor={admin.email}").get_data(as_text=True)
    assert "auth.sign_in" in by_actor
    assert "user.create" not in by_actor  # made by the fixture's "test" actor
    none = client.get("/admin/audit/?since=2999-01-01").get_data(as_text=True)
    assert "No events match." in none
    bad = client.get("/admin/audit/?since=yesterday")
    assert bad.status_code == 400
    verified = client.get("/admin/audit/?verify=1").get_data(as_text=True)
    assert "ok " in verified


def test_csv_export_is_formula_safe_and_audited(app: Flask, client, admin: User) -> None:
    audit.record(
        db.session,
        Caller.operator("=cmd|' /C calc'!A0"),
        "evil.event",
        details={"note": "+SUM(A1)"},
    )
    db.session.commit()
    sign_in(client, admin.email)
    response = client.get("/admin/audit/events.csv?action=evil")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["seq", "occurred_at", "actor_email"]
    assert len(rows) == 2
    assert rows[1][2] == "'=cmd|' /C calc'!A0"
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@"))
    assert (
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.export_csv"))
        .one()
        .actor_email
        == admin.email
    )


def test_api_lists_and_verifies_for_admins_only(
    app: Flask, runner, admin: User, customer: User, make_user
) -> None:
    api = app.test_client()
    admin_headers = _token(runner, admin)
    listing = api.get("/api/v1/audit/events?limit=2", headers=admin_headers)
    assert listing.status_code == 200
    body = listing.get_json()
    assert len(body["items"]) == 2
    assert body["total"] >= 4
    assert body["items"][0]["seq"] > body["items"][1]["seq"]
    assert set(body["items"][0]) >= {"seq", "hash", "prev_hash", "action", "details"}
    verdict = api.get("/api/v1/audit/verify", headers=admin_headers).get_json()
    assert verdict["ok"] is True
    assert verdict["first_bad_seq"] is None
    for user in (customer, make_user("staff")):
        headers = _token(runner, user)
        assert api.get("/api/v1/audit/events", headers=headers).status_code == 403
        assert api.get("/api/v1/audit/verify", headers=headers).status_code == 403
    for query in (
        "limit=9999",
        "limit=",
        "offset=-1",
        f"offset={2**31}",
        "offset=",
        "since=0001-01-01T00:00:00%2B01:00",
        "until=yesterday",
        "actor=a%00b",
    ):
        response = api.get(f"/api/v1/audit/events?{query}", headers=admin_headers)
        assert response.status_code == 400, query
        assert response.get_json()["error"]["code"] == "invalid"
    assert api.get("/api/v1/audit/events?since=&until=", headers=admin_headers).status_code == 200


def test_denied_access_is_recorded_once_per_minute(app: Flask, client, customer: User) -> None:
    sign_in(client, customer.email)
    for _ in range(5):
        assert client.get("/admin/").status_code == 403
        assert client.get("/admin/users/0123456789abcdef0123456789abcdef").status_code == 403
    denied = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "access.denied")
    ).all()
    assert len(denied) == 2  # one per endpoint and minute, not ten
    assert {e.actor_id for e in denied} == {customer.id}
    assert all('"status":403' in e.details for e in denied)


def test_not_found_for_hidden_objects_is_recorded(
    app: Flask, client, admin: User, customer: User
) -> None:
    sign_in(client, admin.email)
    response = post_form(client, "/admin/tokens/0123456789abcdef0123456789abcdef/revoke")
    assert response.status_code == 404
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access.denied")).one()
    assert event.target_id == "0123456789abcdef0123456789abcdef"
    assert '"route":"/admin/tokens/<token_id>/revoke"' in event.details


def test_requests_sign_checkpoints_when_due(app: Flask, client, customer: User) -> None:
    """Every event is due a checkpoint here, the failed sign-in's too (kept after the 401
    rolled its request back)."""
    app.config["AUDIT_CHECKPOINT_EVERY"] = 1
    assert sign_in(client, customer.email, "a wrong password here").status_code == 401
    failed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.sign_in")).one()
    assert failed.outcome == "failure"
    assert sign_in(client, customer.email).status_code == 302
    head = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    signed = db.session.scalars(select(AuditCheckpoint.event_seq)).all()
    assert head is not None
    assert failed.seq in signed
    assert head.seq in signed
