"""Webhooks end to end: registered through the API, events become deliveries that a real HTTP
receiver on loopback gets, signed as Standard Webhooks says (checked here with hmac, not with
our code), retried with growing delays, logged, and disabled with a mail to the admins."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from artifact.extensions import db
from artifact.kernel import uow
from artifact.models import AccessRequest, AuditEvent, User, WebhookDelivery, WebhookEndpoint
from artifact.models.base import utcnow
from artifact.webhooks import jobs
from artifact.webhooks.services import on_event
from artifact.webhooks.services.dispatch import access_request_data
from tests.fixtures_mail import Inbox
from tests.fixtures_webhooks import Receiver


def _register(client, headers, url: str, events: list[str]) -> dict:
    response = client.post("/api/v1/webhooks", json={"url": url, "events": events}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _verify(secret: str, request) -> dict:
    """Check a request the way a receiver following the specification would."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id = request.headers["webhook-id"]
    timestamp = request.headers["webhook-timestamp"]
    signed = f"{msg_id}.{timestamp}.".encode() + request.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    versions = request.headers["webhook-signature"].split(" ")
    assert f"v1,{expected}" in versions
    return json.loads(request.body)


def test_registered_webhook_receives_a_signed_access_request_created(
    app: Flask, client, bearer, admin: User, receiver: Receiver, runner
) -> None:
    created = _register(client, bearer(admin), receiver.url, ["access_request.created"])
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:])) == 32
    # The secret is shown once: neither the list nor the database holds it in clear.
    listed = client.get("/api/v1/webhooks", headers=bearer(admin)).get_json()
    assert listed["total"] == 1
    assert "secret" not in listed["items"][0]
    stored = db.session.get(WebhookEndpoint, created["id"])
    assert secret not in stored.secret_ciphertext
    assert secret[6:] not in stored.secret_ciphertext

    ids = on_event(db.session, "evt-1", "access_request.created", {"request_id": "r1"})
    again = on_event(db.session, "evt-1", "access_request.created", {"request_id": "r1"})
    other = on_event(db.session, "evt-2", "report.published", {"report_id": "x"})
    uow.commit(db.session)
    assert len(ids) == 1
    assert again == ids
    assert other == []

    result = runner.invoke(args=["webhooks", "deliver"])
    assert result.exit_code == 0, result.output
    assert "1 delivery try made" in result.output
    assert len(receiver.requests) == 1
    got = receiver.requests[0]
    body = _verify(secret, got)
    assert body["type"] == "access_request.created"
    assert body["data"] == {"request_id": "r1"}
    assert got.headers["webhook-id"] == f"msg_{ids[0]}"
    assert abs(int(got.headers["webhook-timestamp"]) - utcnow().timestamp()) < 60
    # Delivered once: a second run sends nothing.
    assert runner.invoke(args=["webhooks", "deliver"]).output.startswith("0 delivery tries")
    log = client.get(f"/api/v1/webhooks/{created['id']}/deliveries", headers=bearer(admin))
    entry = log.get_json()["items"][0]
    assert entry["status"] == "succeeded"
    assert entry["attempts"] == 1
    assert entry["tries"][0]["response_code"] == 200
    assert entry["tries"][0]["succeeded"]
    assert entry["tries"][0]["duration_ms"] >= 0


def test_a_real_access_request_reaches_the_receiver_without_its_message(
    app: Flask, client, bearer, admin: User, customer: User, receiver: Receiver
) -> None:
    from tests.fixtures_catalog import ensure_series

    ensure_series("SOC")
    created = _register(client, bearer(admin), receiver.url, ["access_request.created"])
    answer = client.post(
        "/api/v1/access-requests",
        json={"series": "SOC", "message": "our confidential reason"},
        headers=bearer(customer),
    )
    assert answer.status_code == 201, answer.get_json()
    request_row = db.session.get(AccessRequest, answer.get_json()["id"])
    on_event(
        db.session,
        f"access_request.created:{request_row.id}",
        "access_request.created",
        access_request_data(request_row),
    )
    uow.commit(db.session)
    assert jobs.deliver_due() == 1
    body = _verify(created["secret"], receiver.requests[0])
    assert body["data"]["request_id"] == request_row.id
    assert body["data"]["series"] == "SOC"
    assert body["data"]["requester"] == customer.email
    assert body["data"]["state"] == "pending"
    assert b"confidential reason" not in receiver.requests[0].body


def test_failing_receiver_gets_retries_with_growing_delays_then_is_disabled_and_admins_mailed(
    app: Flask,
    client,
    bearer,
    admin: User,
    receiver: Receiver,
    smtp_inbox: Inbox,
) -> None:
    app.config.update(WEBHOOK_MAX_ATTEMPTS=4, WEBHOOK_DISABLE_AFTER=6)
    created = _register(client, bearer(admin), receiver.url, ["report.published"])
    receiver.status = 500
    now = utcnow()
    first = on_event(db.session, "evt-a", "report.published", {"report_id": "a"}, now=now)[0]
    uow.commit(db.session)

    times = []
    for _ in range(4):
        delivery = db.session.get(WebhookDelivery, first)
        due = delivery.next_attempt_at
        assert jobs.deliver_due(due - timedelta(seconds=1)) == 0  # not before it is due
        assert jobs.deliver_due(due) == 1
        times.append(due)
        db.session.expire_all()
    delays = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert all(later > earlier for earlier, later in zip(delays, delays[1:], strict=False))
    assert delays[0] >= 20  # 30 s base with at most 20 % jitter either way
    delivery = db.session.get(WebhookDelivery, first)
    assert delivery.status == "failed"
    assert delivery.next_attempt_at is None
    assert len(receiver.requests) == 4
    # Every try is signed and carries the same id (the receiver can de-duplicate).
    assert {r.headers["webhook-id"] for r in receiver.requests} == {f"msg_{first}"}
    for request in receiver.requests:
        _verify(created["secret"], request)
    log = client.get(f"/api/v1/webhooks/{created['id']}/deliveries", headers=bearer(admin))
    tries = log.get_json()["items"][0]["tries"]
    assert [t["number"] for t in tries] == [1, 2, 3, 4]
    assert {t["response_code"] for t in tries} == {500}
    assert all(t["error"] == "answered HTTP 500" for t in tries)
    assert not smtp_inbox.messages  # 4 failures in a row: still enabled

    later = times[-1] + timedelta(hours=1)
    second = on_event(db.session, "evt-b", "report.published", {"report_id": "b"}, now=later)[0]
    waiting = on_event(db.session, "evt-c", "report.published", {"report_id": "c"}, now=later)[0]
    uow.commit(db.session)
    db.session.get(WebhookDelivery, waiting).next_attempt_at = later + timedelta(days=1)
    uow.commit(db.session)
    assert jobs.deliver_due(later) == 1  # 5th failure in a row
    due = db.session.get(WebhookDelivery, second).next_attempt_at
    assert jobs.deliver_due(due) == 1  # 6th: disabled
    endpoint = db.session.get(WebhookEndpoint, created["id"])
    db.session.refresh(endpoint)
    assert not endpoint.enabled
    assert "6 failed tries" in endpoint.disabled_reason
    assert db.session.get(WebhookDelivery, waiting).status == "cancelled"
    mails = smtp_inbox.wait_for(1)
    assert [m["To"] for m in mails] == [admin.email]
    assert receiver.url in mails[0].get_content()
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "webhook.disable"))
    # A disabled endpoint gets no new deliveries.
    assert on_event(db.session, "evt-d", "report.published", {}, now=later) == []


def test_a_receiver_that_recovers_resets_the_failure_count(
    app: Flask, client, bearer, admin: User, receiver: Receiver
) -> None:
    created = _register(client, bearer(admin), receiver.url, ["report.published"])
    receiver.status = 503
    delivery_id = on_event(db.session, "evt-r", "report.published", {"report_id": "r"})[0]
    uow.commit(db.session)
    assert jobs.deliver_due() == 1
    receiver.status = 204
    due = db.session.get(WebhookDelivery, delivery_id).next_attempt_at
    assert jobs.deliver_due(due) == 1
    db.session.expire_all()
    assert db.session.get(WebhookDelivery, delivery_id).status == "succeeded"
    assert db.session.get(WebhookEndpoint, created["id"]).consecutive_failures == 0


def test_no_answer_is_a_failed_try_with_the_error(app: Flask, client, bearer, admin: User) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    created = _register(client, bearer(admin), f"http://127.0.0.1:{port}/", ["report.published"])
    on_event(db.session, "evt-x", "report.published", {})
    uow.commit(db.session)
    assert jobs.deliver_due() == 1
    log = client.get(f"/api/v1/webhooks/{created['id']}/deliveries", headers=bearer(admin))
    attempt = log.get_json()["items"][0]["tries"][0]
    assert attempt["response_code"] is None
    assert attempt["error"].startswith("ConnectError")
    assert log.get_json()["items"][0]["status"] == "pending"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.com/hook", "http:// is allowed only to a loopback host"),
        ("http://10.0.0.5/hook", "http:// is allowed only to a loopback host"),
        ("ftp://127.0.0.1/hook", "must start with https://"),
        ("https://user:pw@example.com/hook", "user name or password"),
        ("https:///nohost", "names no host"),
        ("javascript:alert(1)", "must start with https://"),
    ],
)
def test_refused_urls(client, bearer, admin: User, url: str, message: str) -> None:
    response = client.post(
        "/api/v1/webhooks", json={"url": url, "events": ["report.published"]}, headers=bearer(admin)
    )
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]
    assert db.session.scalar(select(WebhookEndpoint)) is None


@pytest.mark.parametrize("events", [[], ["report.deleted"], "report.published", [1], None])
def test_refused_event_lists(client, bearer, admin: User, events) -> None:
    response = client.post(
        "/api/v1/webhooks",
        json={"url": "https://hooks.example.com/x", "events": events},
        headers=bearer(admin),
    )
    assert response.status_code == 400
    assert db.session.scalar(select(WebhookEndpoint)) is None


def test_only_admins_manage_webhooks(
    client, bearer, staff: User, customer: User, admin: User
) -> None:
    created = _register(client, bearer(admin), "https://hooks.example.com/x", ["report.published"])
    for user in (staff, customer):
        headers = bearer(user)
        assert client.get("/api/v1/webhooks", headers=headers).status_code == 403
        assert (
            client.post(
                "/api/v1/webhooks",
                json={"url": "https://hooks.example.com/y", "events": ["report.published"]},
                headers=headers,
            ).status_code
            == 403
        )
        assert (
            client.delete(f"/api/v1/webhooks/{created['id']}", headers=headers).status_code == 403
        )
    assert client.get("/api/v1/webhooks").status_code == 401


def test_delete_cancels_queued_deliveries_and_is_audited(
    client, bearer, admin: User, receiver: Receiver
) -> None:
    headers = bearer(admin)
    created = _register(
        client, headers, receiver.url + "?token=receiver-secret", ["report.published"]
    )
    delivery_id = on_event(db.session, "evt-z", "report.published", {})[0]
    uow.commit(db.session)
    assert client.delete(f"/api/v1/webhooks/{created['id']}", headers=headers).status_code == 204
    assert client.delete(f"/api/v1/webhooks/{created['id']}", headers=headers).status_code == 404
    assert (
        client.get(f"/api/v1/webhooks/{created['id']}/deliveries", headers=headers).status_code
        == 404
    )
    assert client.get("/api/v1/webhooks", headers=headers).get_json()["total"] == 0
    assert db.session.get(WebhookDelivery, delivery_id).status == "cancelled"
    assert jobs.deliver_due() == 0
    assert receiver.requests == []
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.in_(["webhook.create", "webhook.delete"]))
    ).all()
    assert [e.action for e in events] == ["webhook.create", "webhook.delete"]
    assert all("receiver-secret" not in (e.details or "") for e in events)


def test_data_keeps_only_names_never_contents(
    client, bearer, admin: User, receiver: Receiver
) -> None:
    created = _register(client, bearer(admin), receiver.url, ["report.version_added"])
    on_event(
        db.session,
        "evt-v",
        "report.version_added",
        {
            "report_id": "abc",
            "title": "SOC 2 Type II",
            "version": 3,
            "text": "page one of the restricted report",
            "release_notes": "what changed",
            "nested": {"title": "x"},
            "description": "y" * 10,
        },
    )
    uow.commit(db.session)
    assert jobs.deliver_due() == 1
    body = _verify(created["secret"], receiver.requests[0])
    assert body["data"] == {"report_id": "abc", "title": "SOC 2 Type II", "version": 3}


def test_production_refuses_private_targets() -> None:
    from artifact.infra import webhook_http

    for url in (
        "https://127.0.0.1/x",
        "https://10.1.2.3/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://[::ffff:192.168.0.1]/x",
        "https://localhost/x",
        "http://127.0.0.1/x",
    ):
        with pytest.raises(webhook_http.TargetRefused):
            webhook_http.check_url(url, production=True)
    webhook_http.check_url("https://8.8.8.8/x", production=True)
    # At delivery time too: the name is resolved and the try refused, nothing is sent.
    outcome = webhook_http.post(
        "https://localtest.invalid/x", b"{}", {}, timeout=1, production=True
    )
    assert outcome.status_code is None
    assert outcome.error.startswith("refused:")


def test_a_name_resolving_inward_is_refused_at_delivery_in_production(
    receiver: Receiver,
) -> None:
    """The machine's own host name passes the URL rules (it is not a literal address nor
    "localhost") but resolves to a loopback address: the try is refused before connecting."""
    import socket

    from artifact.infra import webhook_http

    name = socket.gethostname()
    addresses = {info[4][0] for info in socket.getaddrinfo(name, 443, type=socket.SOCK_STREAM)}
    if all(webhook_http.is_public(a) for a in addresses):
        pytest.skip(f"{name} resolves to public addresses here")
    port = receiver.url.split(":")[2].split("/")[0]
    webhook_http.check_url(f"https://{name}:{port}/x", production=True)
    outcome = webhook_http.post(f"https://{name}:{port}/x", b"{}", {}, timeout=2, production=True)
    assert outcome.status_code is None
    assert "non-public" in outcome.error
    assert receiver.requests == []
    with pytest.raises(webhook_http.TargetRefused, match="non-public"):
        webhook_http.resolve_public("localhost", 443)


def test_secrets_follow_key_rotation_rewrap_and_retire(
    app: Flask, client, bearer, make_user, receiver: Receiver, runner
) -> None:
    """A signing secret is sealed under the current key version: `keys retire` refuses to drop
    that version while the secret needs it, `keys rewrap` moves it, and deliveries still sign
    with the secret shown at creation."""
    admin = make_user("admin", mfa=False)  # no TOTP secret: the webhook's is the only one
    created = _register(client, bearer(admin), receiver.url, ["report.published"])
    version = db.session.get(WebhookEndpoint, created["id"]).secret_ciphertext.split(":")[1]
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    refused = runner.invoke(args=["keys", "retire", version])
    assert refused.exit_code == 1
    assert "0 stored file(s) and 1 sealed secret(s)" in refused.output
    assert runner.invoke(args=["keys", "rewrap"]).exit_code == 0
    db.session.expire_all()
    moved = db.session.get(WebhookEndpoint, created["id"]).secret_ciphertext.split(":")[1]
    assert moved != version
    assert runner.invoke(args=["keys", "retire", version]).exit_code == 0
    on_event(db.session, "evt-k", "report.published", {"report_id": "k"})
    uow.commit(db.session)
    assert jobs.deliver_due() == 1
    _verify(created["secret"], receiver.requests[0])


def test_a_secret_that_cannot_be_opened_sends_nothing_and_logs_a_failed_try(
    app: Flask, client, bearer, admin: User, receiver: Receiver
) -> None:
    created = _register(client, bearer(admin), receiver.url, ["report.published"])
    endpoint = db.session.get(WebhookEndpoint, created["id"])
    fmt, _version, body = endpoint.secret_ciphertext.split(":", 2)
    endpoint.secret_ciphertext = f"{fmt}:99:{body}"  # a key version the keyring lacks
    on_event(db.session, "evt-s", "report.published", {})
    uow.commit(db.session)
    assert jobs.deliver_due() == 0
    assert receiver.requests == []
    log = client.get(f"/api/v1/webhooks/{created['id']}/deliveries", headers=bearer(admin))
    entry = log.get_json()["items"][0]
    assert entry["status"] == "pending"
    assert entry["tries"][0]["error"].startswith("the signing secret cannot be opened")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00::1]/hook",
        "https://localhost/hook",
    ],
)
def test_production_api_refuses_inward_urls(
    app: Flask, client, bearer, admin: User, url: str
) -> None:
    headers = bearer(admin)
    app.config["ARTIFACT_ENV"] = "production"  # what the service is told at each request
    response = client.post(
        "/api/v1/webhooks", json={"url": url, "events": ["report.published"]}, headers=headers
    )
    assert response.status_code == 400, response.get_json()
    message = response.get_json()["error"]["message"]
    assert any(
        why in message
        for why in ("https:// in production", "private, loopback or link-local", "loopback host")
    ), message
    assert db.session.scalar(select(WebhookEndpoint)) is None


def test_an_access_request_reaches_the_webhook_through_the_outbox_and_the_worker(
    app: Flask, client, bearer, admin: User, customer: User, receiver: Receiver, runner
) -> None:
    """Wired end to end: the request's commit writes the outbox event; the worker (drained
    once, as cron or a test runs it) hands it to the webhooks and makes the due try."""
    from tests.fixtures_catalog import ensure_series

    ensure_series("SOC")
    created = _register(
        client, bearer(admin), receiver.url, ["access_request.created", "report.published"]
    )
    answer = client.post(
        "/api/v1/access-requests",
        json={"series": "SOC", "message": "our confidential reason"},
        headers=bearer(customer),
    )
    assert answer.status_code == 201
    assert receiver.requests == []  # nothing is sent on the request itself
    drained = runner.invoke(args=["worker", "--drain"])
    assert drained.exit_code == 0, drained.output
    assert len(receiver.requests) == 1
    body = _verify(created["secret"], receiver.requests[0])
    assert body["type"] == "access_request.created"
    assert body["data"]["request_id"] == answer.get_json()["id"]
    assert "our confidential reason" not in receiver.requests[0].body.decode()
    # Processed once: draining again sends nothing more.
    runner.invoke(args=["worker", "--drain"])
    assert len(receiver.requests) == 1
