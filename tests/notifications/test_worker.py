"""The worker as it runs in production: ``flask --app app worker`` in a subprocess on Huey's
SQLite queue, mail counted at a real SMTP server. Killed while jobs are queued and started
again, it completes every job exactly once; with the queue down, requests still succeed and
their events are delivered once a worker runs."""

from __future__ import annotations

from collections import Counter

from flask import Flask
from sqlalchemy import func, select

from artifact.catalog.services import grants
from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.models import MailSend, OutboxEvent
from tests.fixtures_catalog import ensure_series
from tests.fixtures_mail import free_port
from tests.notifications.conftest import wait_until

JOBS = 8


def _unprocessed() -> int:
    db.session.expire_all()
    return int(
        db.session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.processed_at.is_(None))
        )
    )


def test_a_killed_worker_started_again_completes_every_job_exactly_once(
    app: Flask, inbox, worker, make_user, staff
) -> None:
    ensure_series("SOC")
    customers = [make_user("customer", org=f"Org {n}") for n in range(JOBS)]
    for customer in customers:  # each request: one event, one job, one mail to staff
        grants.request_access(db.session, Caller.of_user(customer), series="SOC")
        uow.commit(db.session)
    assert _unprocessed() == JOBS
    inbox.delay = 0.5  # a slow server: the worker is killed in the middle of sending

    first = worker()
    inbox.wait_for(3)
    first.kill()  # SIGKILL: no clean-up, a job (and a mail) in flight
    killed_at = len(inbox.messages)
    assert killed_at < JOBS, "the worker finished before it could be killed"
    assert _unprocessed() > 0

    inbox.delay = 0
    worker()  # started again: the queue and the outbox sweep bring back what was left
    wait_until(lambda: _unprocessed() == 0, timeout=60, what="every event processed")
    wait_until(lambda: len(inbox.messages) >= JOBS, timeout=10, what="every mail")

    bodies = [m.get_body(preferencelist=("plain",)).get_content() for m in inbox.messages]
    per_requester = Counter(c.email for c in customers for body in bodies if c.email in body)
    assert per_requester == {c.email: 1 for c in customers}
    assert len(inbox.messages) == JOBS
    assert {m["To"] for m in inbox.messages} == {staff.email}
    statuses = Counter(db.session.scalars(select(MailSend.status)))
    # The mail in flight at the kill reached the server but its row still says "sending":
    # it is never sent again (at most once), and shows to admins as interrupted.
    assert statuses["sent"] + statuses["sending"] == JOBS
    assert statuses["sending"] <= 1


def test_with_the_queue_down_requests_succeed_and_the_outbox_delivers_later(
    app: Flask, inbox, worker, bearer, staff, customer, admin
) -> None:
    ensure_series("SOC")
    closed = free_port()  # nothing listens there: Redis is "down"
    app.config["QUEUE_URL"] = f"redis://127.0.0.1:{closed}/1"
    headers = bearer(customer)
    answer = app.test_client().post(
        "/api/v1/access-requests", json={"series": "SOC"}, headers=headers
    )
    assert answer.status_code == 201
    assert _unprocessed() == 1

    admin_view = app.test_client().get("/api/v1/queue", headers=bearer(admin))
    assert admin_view.status_code == 200
    state = admin_view.get_json()
    assert state["reachable"] is False
    assert state["outbox"]["unprocessed_total"] == 1

    # The queue is back (the worker runs on the embedded queue): its sweep finds the event.
    del app.config["QUEUE_URL"]
    worker(ARTIFACT_QUEUE_URL="")
    mails = inbox.wait_for(2, timeout=60)  # staff and admins decide access requests
    assert sorted(m["To"] for m in mails) == sorted([staff.email, admin.email])
    assert all(customer.email in m.get_body(preferencelist=("plain",)).get_content() for m in mails)
    wait_until(lambda: _unprocessed() == 0, timeout=30, what="the event processed")
