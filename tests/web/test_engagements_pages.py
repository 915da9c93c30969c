"""The engagement pages, as auditors and staff use them: lists and navigation, the scope with
its evidence and coverage, the request list and one request's life (owner, evidence, ready,
return with a comment, accept), closing after a confirmation, and what an outsider gets."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

from pypdf import PdfReader
from sqlalchemy import func, select

from artifact.extensions import db
from artifact.models import AuditEvent, Engagement, EngagementRequest
from tests.conftest import csrf_token, post_form, sign_in
from tests.fixtures_evidence import today


def text_of(response) -> str:
    """What a person reads on the page: the tags gone, entities decoded, spaces made one."""
    page = response.get_data(as_text=True)
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def flashes(client) -> str:
    return text_of(client.get("/account/"))


def test_the_auditor_reads_only_the_scope(client, login_as, audit) -> None:
    login_as(audit.auditor)
    home = text_of(client.get("/"))
    assert "My engagements" in home
    listing = text_of(client.get("/engagements/"))
    assert "My engagements" in listing
    assert "ISO sample audit" in listing
    assert "New engagement" not in listing
    page = client.get(f"/engagements/{audit.engagement.id}")
    assert page.status_code == 200
    seen = text_of(page)
    assert "Ledger Auditors" in seen
    assert "Period under audit" in seen
    assert "Access review Q1" in seen
    assert "MFA settings export" in seen
    for hidden in ("Access review 2019", "SOC logical access", "Draft policy"):
        assert hidden not in seen
    # Coverage of the in-scope requirements: two covered, the other three not.
    assert "2 of 5 requirements in scope have evidence in scope" in seen
    assert "Staff actions" not in seen
    assert "Close engagement" not in seen
    # Every view is in the trail, naming the engagement.
    viewed = db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "engagement.view",
            AuditEvent.target_id == audit.engagement.id,
            AuditEvent.actor_email == audit.auditor.email,
        )
    )
    assert viewed == 1


def test_the_auditor_downloads_a_stamped_copy(client, login_as, audit) -> None:
    login_as(audit.auditor)
    page = client.get(f"/engagements/{audit.engagement.id}").get_data(as_text=True)
    link = html.unescape(
        re.search(
            rf'href="(/engagements/{audit.engagement.id}/evidence/{audit.in_scope.id}/download[^"]*)"',
            page,
        ).group(1)
    )
    response = client.get(link)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    receipt = response.headers["X-Artifact-Receipt"]
    pages = [p.extract_text() or "" for p in PdfReader(io.BytesIO(response.data)).pages]
    stamped = " ".join(" ".join(pages).split())
    assert audit.auditor.email in stamped
    assert receipt in stamped
    assert "ACCESS-REVIEW" in stamped
    # Evidence outside the scope, or a draft, does not exist here.
    for other in (audit.outside_period, audit.other_framework, audit.draft):
        url = f"/engagements/{audit.engagement.id}/evidence/{other.id}/download"
        assert client.get(url).status_code == 404


def test_outsiders_get_not_found(client, login_as, audit, customer, make_user) -> None:
    login_as(customer)
    assert "engagements" not in text_of(client.get("/")).lower()
    assert client.get("/engagements/").status_code == 404
    assert client.get(f"/engagements/{audit.engagement.id}").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    other_auditor = make_user("auditor", org="Ledger Auditors")
    login_as(other_auditor)  # same firm, not on the engagement
    assert "My engagements" not in text_of(client.get("/"))
    assert client.get(f"/engagements/{audit.engagement.id}").status_code == 404
    url = f"/engagements/{audit.engagement.id}/evidence/{audit.in_scope.id}/download"
    assert client.get(url).status_code == 404


def test_staff_create_an_engagement_through_the_form(client, login_as, audit, make_user) -> None:
    second = make_user("auditor", org="Ledger Auditors")
    login_as(audit.staff)
    assert "Engagements" in text_of(client.get("/"))
    form = text_of(client.get("/engagements/new"))
    assert "Framework under audit" in form
    assert "iso-sample" in form
    day = today()
    values = {
        "name": "Second look",
        "organization": "Ledger Auditors",
        "framework": "iso-sample",
        "period_start": (day - timedelta(days=30)).isoformat(),
        "period_end": day.isoformat(),
        "starts_on": day.isoformat(),
        "ends_on": (day + timedelta(days=10)).isoformat(),
        "auditors": f"{second.email}\n{audit.auditor.email}",
    }
    before = db.session.scalar(select(func.count()).select_from(Engagement))
    refused = post_form(client, "/engagements/new", {**values, "auditors": "nobody@x.test"})
    assert refused.status_code == 422
    assert "nobody@x.test is not an active user" in text_of(refused)
    assert db.session.scalar(select(func.count()).select_from(Engagement)) == before
    created = post_form(client, "/engagements/new", values)
    assert created.status_code == 302
    page = client.get(created.headers["Location"])
    seen = text_of(page)
    assert "Engagement Second look created" in seen
    assert second.email in seen
    assert audit.auditor.email in seen
    assert f"{values['period_start']} to {values['period_end']}" in seen
    # Or a list of requirements instead of a framework.
    listed = post_form(
        client,
        "/engagements/new",
        {
            **values,
            "name": "Two controls",
            "framework": "",
            "requirements": "iso-sample:A.5.15\niso-sample:A.8.5",
        },
    )
    assert listed.status_code == 302
    seen = text_of(client.get(listed.headers["Location"]))
    assert "2 requirements: iso-sample:A.5.15, iso-sample:A.8.5" in seen
    assert "2 of 2 requirements in scope have evidence in scope" in seen


def test_a_request_from_question_to_acceptance(client, login_as, audit) -> None:
    engagement = audit.engagement.id
    login_as(audit.auditor)
    added = post_form(
        client,
        f"/engagements/{engagement}/requests",
        {
            "title": "User access reviews",
            "description": "All quarterly reviews in the period",
            "requirements": "A.5.15",
            "due_on": (today() + timedelta(days=7)).isoformat(),
            "sample_size": "2",
        },
    )
    assert added.status_code == 302
    listing = text_of(client.get(f"/engagements/{engagement}"))
    assert "Request PBC-1 added" in listing
    due = (today() + timedelta(days=7)).isoformat()
    assert f"PBC-1 User access reviews open {due} iso-sample:A.5.15 2" in listing
    request_id = db.session.scalar(select(EngagementRequest.id))
    request_url = f"/engagements/{engagement}/requests/{request_id}"
    auditor_view = text_of(client.get(request_url))
    assert "Answer the request" not in auditor_view
    assert "Your review" not in auditor_view
    client.post("/logout", data={"csrf_token": csrf_token(client)})

    login_as(audit.staff)
    staff_view = client.get(request_url).get_data(as_text=True)
    assert "Access review Q1 (version 1)" in staff_view
    assert "Access review 2019" not in staff_view
    assert "Draft policy" not in staff_view
    post_form(client, f"{request_url}/owner", {"owner": audit.staff.email})
    post_form(client, f"{request_url}/evidence", {"evidence_id": audit.in_scope.id})
    seen = text_of(client.get(request_url))
    assert "Attached Access review Q1 (version 1)" in seen
    assert "in progress" in seen
    post_form(client, f"{request_url}/ready", {})
    assert "PBC-1 is ready for the auditors' review" in text_of(client.get(request_url))
    client.post("/logout", data={"csrf_token": csrf_token(client)})

    login_as(audit.auditor)
    assert "Your review" in text_of(client.get(request_url))
    post_form(client, f"{request_url}/return", {"body": "Q1 only; we need Q2 as well."})
    seen = text_of(client.get(request_url))
    assert "PBC-1 was returned with your comment" in seen
    assert "Q1 only; we need Q2 as well." in seen
    assert "returned the request" in seen
    client.post("/logout", data={"csrf_token": csrf_token(client)})

    login_as(audit.staff)
    post_form(client, f"{request_url}/comments", {"body": "Q2 is the same file."})
    post_form(client, f"{request_url}/ready", {})
    client.post("/logout", data={"csrf_token": csrf_token(client)})

    login_as(audit.auditor)
    post_form(client, f"{request_url}/accept", {})
    seen = text_of(client.get(request_url))
    assert "PBC-1 is accepted" in seen
    assert "Q2 is the same file." in seen
    assert "Your review" not in seen
    stored = db.session.get(EngagementRequest, request_id)
    db.session.refresh(stored)
    assert stored.status == "accepted"


def test_overdue_requests_stand_out(client, login_as, audit, add_request) -> None:
    late = add_request("Firewall rules", due_on=(today() - timedelta(days=3)).isoformat())
    add_request("Change tickets", due_on=(today() + timedelta(days=3)).isoformat())
    login_as(audit.auditor)
    page = client.get(f"/engagements/{audit.engagement.id}").get_data(as_text=True)
    rows = re.findall(r"<tr( class=\"overdue\")?>\s*<td class=\"nowrap\">PBC-(\d)", page)
    assert rows == [(' class="overdue"', "1"), ("", "2")]
    seen = text_of(client.get(f"/engagements/{audit.engagement.id}"))
    assert f"overdue since {late.due_on.isoformat()}" in seen
    assert "1 overdue" in seen


def test_a_form_without_its_csrf_token_changes_nothing(client, login_as, audit) -> None:
    login_as(audit.auditor)
    response = client.post(f"/engagements/{audit.engagement.id}/requests", data={"title": "Sneaky"})
    assert response.status_code in (302, 400)
    assert db.session.scalar(select(func.count()).select_from(EngagementRequest)) == 0


def test_closing_asks_first_and_ends_the_auditors_access(client, login_as, audit) -> None:
    engagement = audit.engagement.id
    login_as(audit.staff)
    confirm = client.get(f"/engagements/{engagement}/close")
    assert confirm.status_code == 200
    seen = text_of(confirm)
    assert "Close ISO sample audit?" in seen
    assert f"{audit.auditor.email} loses access to the engagement at once" in seen
    assert db.session.get(Engagement, engagement).state == "open"  # asking changed nothing
    assert 'class="confirm-form"' in confirm.get_data(as_text=True)
    closed = post_form(client, f"/engagements/{engagement}/close", {})
    assert closed.status_code == 302
    seen = text_of(client.get(f"/engagements/{engagement}"))
    assert "ISO sample audit is closed" in seen
    assert "Close engagement" not in seen
    client.post("/logout", data={"csrf_token": csrf_token(client)})

    login_as(audit.auditor)
    assert "My engagements" not in text_of(client.get("/"))
    assert client.get(f"/engagements/{engagement}").status_code == 404
    url = f"/engagements/{engagement}/evidence/{audit.in_scope.id}/download"
    assert client.get(url).status_code == 404
    assert "You are on no open engagement" in text_of(client.get("/engagements/"))


def test_auditors_cannot_reach_the_staff_steps(client, login_as, audit, add_request) -> None:
    made = add_request()
    login_as(audit.auditor)
    base = f"/engagements/{audit.engagement.id}"
    assert client.get(f"{base}/close").status_code == 404
    assert client.get("/engagements/new").status_code == 404
    assert post_form(client, f"{base}/package", {"auditor": audit.auditor.email}).status_code == 404
    attach = post_form(
        client, f"{base}/requests/{made.id}/evidence", {"evidence_id": audit.in_scope.id}
    )
    assert attach.status_code in (403, 404)
    db.session.refresh(made)
    assert made.attachments == []
    assert made.status == "open"


def test_the_demo_engagement_opens_for_the_demo_auditor(client, runner) -> None:
    """seed-demo's engagement (artifact/demo/engagements.py) is what the accessibility test and
    a newcomer open first: the auditor sees it, its request list and its evidence."""
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "auditor@ledger-audit.test" in line)
    sign_in(client, "auditor@ledger-audit.test", line.split()[1])
    seen = text_of(client.get("/engagements/"))
    assert "ISO/IEC 27001:2022 surveillance audit (demo)" in seen
    engagement = db.session.scalars(select(Engagement)).one()
    seen = text_of(client.get(f"/engagements/{engagement.id}"))
    assert "User access reviews ready for review" in seen
    assert "Quarterly access review (sample)" in seen  # evidence in scope
    assert "Change tickets, October (sample)" not in seen  # in review: not in scope


def test_a_request_with_only_a_title(client, login_as, audit) -> None:
    login_as(audit.auditor)
    added = post_form(
        client,
        f"/engagements/{audit.engagement.id}/requests",
        {
            "title": "Org chart",
            "description": "",
            "requirements": "",
            "due_on": "",
            "sample_size": "",
        },
    )
    assert added.status_code == 302
    seen = text_of(client.get(f"/engagements/{audit.engagement.id}"))
    assert "Request PBC-1 added." in seen
    assert "PBC-1 Org chart open — — — —" in seen
