"""Mails on events, end to end: requests through the API, the worker run in this process
(``flask worker --drain``), mail read at a real SMTP server on loopback."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from artifact.extensions import db
from artifact.kernel import uow
from artifact.models import AuditEvent, Evidence, MailSend, OutboxEvent
from artifact.models.base import utcnow
from tests.fixtures_catalog import ensure_series, make_pdf, upload_version
from tests.notifications.conftest import BASE_URL


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _html(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def test_access_request_mails_staff_then_the_decision_mails_the_requester(
    app: Flask, inbox, drain, bearer, staff, customer
) -> None:
    ensure_series("SOC")
    answer = app.test_client().post(
        "/api/v1/access-requests", json={"series": "SOC"}, headers=bearer(customer)
    )
    assert answer.status_code == 201
    request_id = answer.get_json()["id"]
    assert inbox.messages == []  # nothing is sent on the request: the worker sends
    drain()
    [to_staff] = inbox.wait_for(1)
    assert to_staff["To"] == staff.email
    assert to_staff["Subject"] == "New access request waiting for a decision"
    assert customer.email in _text(to_staff)
    assert f"{BASE_URL}/catalog/requests" in _text(to_staff)
    assert f'href="{BASE_URL}/catalog/requests"' in _html(to_staff)
    assert to_staff["List-Unsubscribe"].startswith(f"<{BASE_URL}/unsubscribe/")
    assert to_staff["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    decided = app.test_client().post(
        f"/api/v1/access-requests/{request_id}/approve", json={}, headers=bearer(staff)
    )
    assert decided.status_code == 200, decided.get_json()
    drain()
    messages = inbox.wait_for(2)
    to_customer = messages[1]
    assert to_customer["To"] == customer.email
    assert to_customer["Subject"] == "Your access request was approved"
    assert "the series SOC was approved" in _text(to_customer)

    drain()  # again: nothing is sent twice
    assert len(inbox.messages) == 2
    sends = db.session.scalars(select(MailSend).order_by(MailSend.at)).all()
    assert [(s.recipient, s.kind, s.status) for s in sends] == [
        (staff.email, "access_request.received", "sent"),
        (customer.email, "access_request.decision", "sent"),
    ]
    events = db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.created_at)).all()
    assert [e.event_type for e in events] == ["access_request.created", "access_request.decided"]
    assert all(e.processed_at is not None for e in events)


def test_a_subscriber_to_soc_hears_of_what_they_may_see_and_nothing_else(
    app: Flask, inbox, drain, bearer, make_report, staff, customer, hostile
) -> None:
    ensure_series("SOC", "ISO")
    put = app.test_client().put(
        "/api/v1/subscriptions", json={"series": ["soc"]}, headers=bearer(customer)
    )
    assert put.status_code == 200
    assert put.get_json()["series"] == ["SOC"]
    visible = make_report("SOC 2 Type II 2026", visibility="customers", series="SOC")
    restricted = make_report("SOC 1 Restricted Edition", visibility="restricted", series="SOC")
    make_report("ISO 27001 certificate", visibility="public", series="ISO")
    drain()
    [first] = inbox.wait_for(1)
    assert first["To"] == customer.email
    assert first["Subject"] == "New report: SOC 2 Type II 2026"
    assert f"{BASE_URL}/catalog/{visible.id}" in _text(first)

    for report in (visible, restricted):  # a new version of each, as staff upload them
        uploaded = upload_version(
            app.test_client(), bearer(staff), report.id, make_pdf(marker="v2"), "v2.pdf"
        )
        assert uploaded.status_code == 201
    drain()
    inbox.wait_for(2)
    assert [m["Subject"] for m in inbox.to(customer.email)] == [
        "New report: SOC 2 Type II 2026",
        "New version of SOC 2 Type II 2026",
    ]
    assert "version 2" in _text(inbox.messages[-1])
    assert inbox.to(hostile.email) == []
    assert not any("Restricted" in str(m) for m in inbox.messages)


def test_one_click_unsubscribe_works_with_a_post_and_no_sign_in(
    app: Flask, inbox, drain, bearer, make_report, customer
) -> None:
    ensure_series("SOC")
    app.test_client().put(
        "/api/v1/subscriptions",
        json={"all_reports": True, "categories": ["reports"]},
        headers=bearer(customer),
    )
    make_report("SOC 2 Type II", visibility="customers", series="SOC")
    drain()
    [mail] = inbox.wait_for(1)
    link = mail["List-Unsubscribe"].strip("<>")
    assert link.startswith(f"{BASE_URL}/unsubscribe/")
    assert link in _text(mail)
    path = link[len(BASE_URL) :]

    visitor = app.test_client()
    confirm = visitor.get(path)
    assert confirm.status_code == 200
    assert confirm.headers["Referrer-Policy"] == "no-referrer"
    assert 'method="post"' in confirm.get_data(as_text=True)
    assert app.test_client().get(path[:-3] + "xyz").status_code == 404  # a forged token

    # What a mail client sends (RFC 8058): a POST with this body, no cookie, no CSRF token.
    done = visitor.post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert done.status_code == 200
    assert "You will no longer get these mails" in done.get_data(as_text=True)
    stored = app.test_client().get("/api/v1/subscriptions", headers=bearer(customer)).get_json()
    assert stored == {"all_reports": False, "series": [], "categories": [], "muted": []}
    recorded = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "notifications.unsubscribe")
    ).one()
    assert recorded.target_id == customer.id
    assert recorded.actor_id is None  # nobody signed in: the signed link was the authority

    make_report("SOC 2 Type II 2027", visibility="customers", series="SOC")
    drain()
    assert len(inbox.messages) == 1


def test_a_new_agreement_version_tells_those_who_accepted_the_old_one(
    app: Flask, inbox, drain, bearer, admin, customer, hostile
) -> None:
    created = app.test_client().post(
        "/api/v1/agreements",
        json={"title": "Mutual NDA", "kind": "nda", "text": "Version one of the terms."},
        headers=bearer(admin),
    )
    agreement_id = created.get_json()["id"]
    accepted = app.test_client().post(
        f"/api/v1/agreements/{agreement_id}/accept",
        json={"version": 1, "typed_name": customer.name, "scope": "account"},
        headers=bearer(customer),
    )
    assert accepted.status_code == 201
    published = app.test_client().post(
        f"/api/v1/agreements/{agreement_id}/versions",
        json={"text": "Version two of the terms."},
        headers=bearer(admin),
    )
    assert published.status_code == 201
    drain()
    [mail] = inbox.wait_for(1)
    assert mail["To"] == customer.email
    assert "your acceptance no longer covers downloads" in mail["Subject"]
    assert f"{BASE_URL}/agreements/{agreement_id}" in _text(mail)
    assert "Version two of the terms" not in str(mail)  # never a document's text
    types = db.session.scalars(select(OutboxEvent.event_type).order_by(OutboxEvent.created_at))
    assert list(types) == ["agreement.accepted", "agreement.version_added"]


def test_expiring_evidence_reminds_its_owner_once_per_threshold(
    app: Flask, inbox, drain, staff
) -> None:
    today = utcnow().date()
    evidence = Evidence(
        title="Access review Q3",
        owner_id=staff.id,
        effective_date=today - timedelta(days=30),
        expires_on=today + timedelta(days=7),
        state="approved",
    )
    db.session.add(evidence)
    uow.commit(db.session)
    drain()
    [mail] = inbox.wait_for(1)
    assert mail["To"] == staff.email
    assert mail["Subject"] == "Evidence expires in 7 days: Access review Q3"
    assert f"{BASE_URL}/evidence/{evidence.id}" in _text(mail)
    drain()  # the next scan the same day: the same reminder is not sent again
    assert len(inbox.messages) == 1


def test_staff_hear_when_a_reports_validity_ends_within_60_days(
    app: Flask, inbox, drain, make_report, staff
) -> None:
    today = utcnow().date()
    ending = make_report(
        "PCI DSS AOC", series="PCI", visibility="public", valid_until=today + timedelta(days=45)
    )
    make_report(
        "SOC 3", series="SOC3", visibility="public", valid_until=today + timedelta(days=200)
    )
    drain()
    [mail] = inbox.wait_for(1)
    assert mail["To"] == staff.email
    assert mail["Subject"] == "Validity ends soon: PCI DSS AOC"
    assert "ends in 45 days" in _text(mail)
    assert f"{BASE_URL}/catalog/{ending.id}" in _text(mail)
    drain()
    assert len(inbox.messages) == 1


def test_a_refused_mail_is_recorded_and_retried_with_growing_delays(
    app: Flask, inbox, drain, bearer, staff, customer, admin
) -> None:
    from tests.fixtures_mail import free_port

    ensure_series("SOC")
    smtp_port = app.config["SMTP_PORT"]
    app.config.update(SMTP_PORT=free_port(), QUEUE_RETRY_DELAY=1)  # nothing listens: refused
    created = app.test_client().post(
        "/api/v1/access-requests", json={"series": "SOC"}, headers=bearer(customer)
    )
    assert created.status_code == 201
    drain()
    event = db.session.scalars(select(OutboxEvent)).one()
    assert event.processed_at is None
    assert event.attempts == 1
    assert "could not be sent" in event.last_error
    first_wait = event.next_attempt_at - utcnow()
    assert timedelta(0) < first_wait <= timedelta(seconds=1)
    sends = db.session.scalars(select(MailSend)).all()
    assert {(s.recipient, s.status) for s in sends} == {
        (staff.email, "failed"),
        (admin.email, "failed"),
    }
    assert all("ConnectionRefusedError" in s.error for s in sends)
    state = app.test_client().get("/api/v1/queue", headers=bearer(admin)).get_json()
    assert state["outbox"]["unprocessed"][0]["last_error"] == event.last_error
    assert len(state["failed_sends"]) == 2
    assert [job["name"] for job in state["scheduled"]] == ["process_event"]  # the queue's retry

    import time

    time.sleep(1.2)
    drain()  # still refused: the next wait is twice as long
    db.session.refresh(event)
    assert event.attempts >= 2
    assert event.next_attempt_at - utcnow() > timedelta(seconds=1)

    app.config.update(SMTP_PORT=smtp_port)  # the server is back
    time.sleep(max(0.0, (event.next_attempt_at - utcnow()).total_seconds()) + 0.2)
    drain()
    messages = inbox.wait_for(2)
    assert sorted(m["To"] for m in messages) == sorted([staff.email, admin.email])
    db.session.refresh(event)
    assert event.processed_at is not None
    assert event.last_error is None
    assert {s.status for s in db.session.scalars(select(MailSend))} == {"sent"}
    drain()
    assert len(inbox.messages) == 2


def test_a_request_a_rule_approves_mails_the_requester_and_asks_no_staff(
    app: Flask, inbox, drain, bearer, staff, customer
) -> None:
    from artifact.catalog.services import approval_rules
    from artifact.kernel.caller import OPERATOR

    ensure_series("SOC")
    approval_rules.create_rule(db.session, OPERATOR, organization="Acme Health", series="SOC")
    uow.commit(db.session)
    answer = app.test_client().post(
        "/api/v1/access-requests", json={"series": "SOC"}, headers=bearer(customer)
    )
    assert answer.status_code == 201
    assert answer.get_json()["state"] == "approved"
    drain()
    [mail] = inbox.wait_for(1)
    assert mail["To"] == customer.email
    assert mail["Subject"] == "Your access request was approved"
    assert inbox.to(staff.email) == []
    types = db.session.scalars(select(OutboxEvent.event_type).order_by(OutboxEvent.created_at))
    assert list(types) == ["access_request.created", "access_request.decided"]
