"""The webhook admin pages: register (the secret shown once), the delivery log, delete after a
confirmation, CSRF on every form, admins only."""

from __future__ import annotations

import re

from sqlalchemy import select

from artifact.extensions import db
from artifact.kernel import uow
from artifact.models import AuditEvent, User, WebhookEndpoint
from artifact.models.base import utcnow
from artifact.webhooks import jobs
from artifact.webhooks.services import on_event
from tests.conftest import post_form
from tests.fixtures_webhooks import Receiver


def test_admin_registers_sees_the_secret_once_and_the_delivery_log(
    client, login_as, admin: User, receiver: Receiver
) -> None:
    login_as(admin)
    assert "Webhooks" in client.get("/admin/").get_data(as_text=True)
    page = client.get("/admin/webhooks/")
    assert page.status_code == 200
    created = post_form(
        client,
        "/admin/webhooks/",
        {"url": receiver.url, "events": ["report.published", "evidence.expiring"]},
        token_from="/admin/webhooks/",
    )
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    html = created.get_data(as_text=True)
    secret = re.search(r'value="(whsec_[A-Za-z0-9+/=]+)"', html).group(1)
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert endpoint.events == ["report.published", "evidence.expiring"]
    listing = client.get("/admin/webhooks/").get_data(as_text=True)
    assert receiver.url in listing
    assert secret not in listing

    receiver.status = 500
    on_event(db.session, "evt-page", "report.published", {"title": "ISO <b>27001</b>"})
    uow.commit(db.session)
    assert jobs.deliver_due() == 1
    detail = client.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "report.published" in detail
    assert "HTTP 500" in detail
    assert secret not in detail


def test_bad_input_is_shown_on_the_form(client, login_as, admin: User) -> None:
    login_as(admin)
    refused = post_form(
        client,
        "/admin/webhooks/",
        {"url": "http://example.com/hook", "events": ["report.published"]},
        token_from="/admin/webhooks/",
    )
    assert refused.status_code == 400
    assert "http:// is allowed only to a loopback host" in refused.get_data(as_text=True)
    none_chosen = post_form(
        client, "/admin/webhooks/", {"url": "https://hooks.example.com/"}, "/admin/webhooks/"
    )
    assert none_chosen.status_code == 400
    assert db.session.scalar(select(WebhookEndpoint)) is None


def test_delete_asks_first_and_needs_the_csrf_token(client, login_as, admin: User, bearer) -> None:
    created = client.post(
        "/api/v1/webhooks",
        json={"url": "https://hooks.example.com/x", "events": ["agreement.accepted"]},
        headers=bearer(admin),
    ).get_json()
    login_as(admin)
    confirm = client.get(f"/admin/webhooks/{created['id']}/delete")
    assert "Stop sending events to" in confirm.get_data(as_text=True)
    without_token = client.post(f"/admin/webhooks/{created['id']}/delete")
    assert without_token.status_code in (302, 400)
    assert db.session.get(WebhookEndpoint, created["id"]).deleted_at is None
    done = post_form(
        client,
        f"/admin/webhooks/{created['id']}/delete",
        token_from=f"/admin/webhooks/{created['id']}/delete",
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, created["id"]).deleted_at is not None
    assert client.get(f"/admin/webhooks/{created['id']}").status_code == 404


def test_staff_cannot_open_the_pages(client, login_as, staff: User) -> None:
    login_as(staff)
    assert client.get("/admin/webhooks/").status_code == 403


def test_a_disabled_webhook_is_enabled_again_from_its_page(
    client, login_as, admin: User, bearer
) -> None:
    created = client.post(
        "/api/v1/webhooks",
        json={"url": "https://hooks.example.com/y", "events": ["report.published"]},
        headers=bearer(admin),
    ).get_json()
    endpoint = db.session.get(WebhookEndpoint, created["id"])
    endpoint.enabled = False
    endpoint.disabled_at = utcnow()
    endpoint.disabled_reason = "6 failed tries in a row; the last: answered HTTP 500"
    endpoint.consecutive_failures = 6
    uow.commit(db.session)
    login_as(admin)
    page = client.get(f"/admin/webhooks/{created['id']}").get_data(as_text=True)
    assert "6 failed tries in a row" in page
    assert "Enable again" in page
    without_token = client.post(f"/admin/webhooks/{created['id']}/enable")
    assert without_token.status_code in (302, 400)
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, created["id"]).enabled is False
    done = post_form(
        client,
        f"/admin/webhooks/{created['id']}/enable",
        token_from=f"/admin/webhooks/{created['id']}",
    )
    assert done.status_code == 302
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "enabled again: new events will be sent to it" in shown
    assert "Enable again" not in shown
    db.session.expire_all()
    stored = db.session.get(WebhookEndpoint, created["id"])
    assert (stored.enabled, stored.disabled_reason, stored.consecutive_failures) == (True, None, 0)
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.target_id == created["id"])
    ).all()
    assert "webhook.enable" in actions


def test_the_api_enables_a_disabled_webhook_and_404s_a_deleted_one(
    client, admin: User, bearer
) -> None:
    created = client.post(
        "/api/v1/webhooks",
        json={"url": "https://hooks.example.com/z", "events": ["report.published"]},
        headers=bearer(admin),
    ).get_json()
    endpoint = db.session.get(WebhookEndpoint, created["id"])
    endpoint.enabled = False
    endpoint.consecutive_failures = 6
    uow.commit(db.session)
    answer = client.post(f"/api/v1/webhooks/{created['id']}/enable", headers=bearer(admin))
    assert answer.status_code == 200
    assert answer.get_json()["enabled"] is True
    assert answer.get_json()["consecutive_failures"] == 0
    client.delete(f"/api/v1/webhooks/{created['id']}", headers=bearer(admin))
    gone = client.post(f"/api/v1/webhooks/{created['id']}/enable", headers=bearer(admin))
    assert gone.status_code == 404
