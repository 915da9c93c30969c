"""Mails of the request list, end to end: requests through the API, the worker run in this
process (``flask worker --drain``), mail read at a real SMTP server on loopback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from artifact.extensions import db
from artifact.models import MailSend
from artifact.notifications import jobs
from tests.fixtures_evidence import today

BASE_URL = "https://trust.example.test"


@pytest.fixture
def drain(app: Flask, inbox):
    app.config["BASE_URL"] = BASE_URL

    def run() -> None:
        result = app.test_cli_runner().invoke(args=["worker", "--drain"])
        assert result.exit_code == 0, result.output
        db.session.expire_all()

    return run


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_requests_comments_returns_and_due_dates_are_mailed(
    app: Flask,
    client,
    inbox,
    drain,
    bearer,
    staff,
    reviewer,
    firm_auditor,
    engagement_scope,
    open_engagement,
) -> None:
    eid = open_engagement["id"]
    auditor, staff_headers = bearer(firm_auditor), bearer(staff)
    asked = client.post(
        f"/api/v1/engagements/{eid}/requests",
        json={
            "title": "Firewall rule review",
            "due_on": (today() + timedelta(days=20)).isoformat(),
        },
        headers=auditor,
    )
    assert asked.status_code == 201
    rid = asked.get_json()["id"]
    base = f"/api/v1/engagements/{eid}/requests/{rid}"
    link = f"{BASE_URL}/engagements/{eid}/requests/{rid}"
    drain()
    created = inbox.wait_for(2)
    assert sorted(m["To"] for m in created) == sorted([staff.email, reviewer.email])
    assert {m["Subject"] for m in created} == {"New request PBC-1 in ISO surveillance audit"}
    assert 'Una Auditor added request PBC-1 "Firewall rule review"' in _text(created[0])
    assert link in _text(created[0])
    assert created[0]["List-Unsubscribe"].startswith(f"<{BASE_URL}/unsubscribe/")

    # Once it has an owner, the auditor's comments go to the owner alone.
    assert client.patch(base, json={"owner": staff.email}, headers=staff_headers).status_code == 200
    said = client.post(f"{base}/comments", json={"body": "Any news?"}, headers=auditor)
    assert said.status_code == 201
    drain()
    [to_owner] = inbox.wait_for(3)[2:]
    assert to_owner["To"] == staff.email
    assert to_owner["Subject"] == "New comment on PBC-1 in ISO surveillance audit"
    assert "Any news?" in _text(to_owner)

    # Staff's comments go to the engagement's auditors.
    client.post(f"{base}/comments", json={"body": "Uploading today."}, headers=staff_headers)
    drain()
    [to_auditor] = inbox.wait_for(4)[3:]
    assert to_auditor["To"] == firm_auditor.email
    assert "Uploading today." in _text(to_auditor)

    # A returned request tells its owner why.
    client.post(
        f"{base}/evidence", json={"evidence_id": engagement_scope.inside.id}, headers=staff_headers
    )
    assert client.post(f"{base}/ready", headers=staff_headers).status_code == 200
    back = client.post(f"{base}/return", json={"comment": "Wrong quarter."}, headers=auditor)
    assert back.status_code == 200
    drain()
    [returned] = inbox.wait_for(5)[4:]
    assert returned["To"] == staff.email
    assert returned["Subject"] == "Request PBC-1 was returned in ISO surveillance audit"
    assert "Wrong quarter." in _text(returned)

    # The daily scan reminds the owner the day before it is due, once.
    due = (today() + timedelta(days=1)).isoformat()
    assert client.patch(base, json={"due_on": due}, headers=staff_headers).status_code == 200
    assert jobs.run_daily_scans(app) == 1
    assert jobs.run_daily_scans(app) == 0
    drain()
    [reminder] = inbox.wait_for(6)[5:]
    assert reminder["To"] == staff.email
    assert reminder["Subject"] == ("Request PBC-1 is due in 1 day: ISO surveillance audit")
    drain()
    assert len(inbox.messages) == 6  # nothing is sent twice
    kinds = db.session.scalars(select(MailSend.kind).order_by(MailSend.at)).all()
    assert kinds.count("engagement.request_due") == 1

    # Closed: no reminder is due any more.
    client.post(f"/api/v1/engagements/{eid}/close", headers=staff_headers)
    assert jobs.run_daily_scans(app) == 0
