"""The request list as CSV: what a spreadsheet opens (formulas defused), a round trip into
another engagement and back, and bad files that import nothing and say which lines are wrong."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import func, select

from artifact.engagements.services import records
from artifact.extensions import db
from artifact.identity.services import tokens
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.models import AuditEvent, EngagementRequest
from tests.conftest import post_form
from tests.fixtures_evidence import today
from tests.web.test_engagements_pages import text_of


def bearer(user) -> dict[str, str]:
    _token, raw = tokens.create(db.session, Caller.of_user(user), user, "csv")
    uow.commit(db.session)
    return {"Authorization": f"Bearer {raw}"}


def rows_of(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))


def request_count(engagement_id: str) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(EngagementRequest)
        .where(EngagementRequest.engagement_id == engagement_id)
    )


def second_engagement(audit) -> str:
    day = today()
    made = records.create_engagement(
        db.session,
        Caller.of_user(audit.staff),
        {
            "name": "Follow-up audit",
            "organization": "Ledger Auditors",
            "framework": "iso-sample",
            "period_start": (day - timedelta(days=90)).isoformat(),
            "period_end": day.isoformat(),
            "starts_on": day.isoformat(),
            "ends_on": (day + timedelta(days=30)).isoformat(),
            "auditors": [audit.auditor.email],
        },
    )
    uow.commit(db.session)
    return made.id


def test_round_trip_into_another_engagement_and_back(client, audit, add_request) -> None:
    due = (today() + timedelta(days=14)).isoformat()
    add_request(
        '=HYPERLINK("http://evil.test")',
        description='- every quarterly review\n- with sign-off, "dated"',
        requirements=["iso-sample:A.5.15", "A.8.5"],
        due_on=due,
        sample_size=3,
    )
    add_request("Backup logs, 2025", description="Émilie's list; ünïcode")
    headers = bearer(audit.auditor)
    exported = client.get(
        f"/api/v1/engagements/{audit.engagement.id}/requests.csv", headers=headers
    )
    assert exported.status_code == 200
    assert exported.mimetype == "text/csv"
    assert "attachment" in exported.headers["Content-Disposition"]
    rows = rows_of(exported.data)
    assert [r["ref"] for r in rows] == ["PBC-1", "PBC-2"]
    first = rows[0]
    assert first["title"] == '\'=HYPERLINK("http://evil.test")'  # a spreadsheet shows text
    assert first["description"] == '\'- every quarterly review\n- with sign-off, "dated"'
    assert first["requirements"] == "iso-sample:A.5.15; iso-sample:A.8.5"
    assert (first["due_on"], first["sample_size"], first["status"]) == (due, "3", "open")
    assert rows[1]["description"] == "Émilie's list; ünïcode"

    other = second_engagement(audit)
    imported = client.post(
        f"/api/v1/engagements/{other}/requests/import",
        data=exported.data,
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 201, imported.get_json()
    body = imported.get_json()
    assert body["total"] == 2
    assert body["unchanged"] == []
    copied = db.session.scalars(
        select(EngagementRequest)
        .where(EngagementRequest.engagement_id == other)
        .order_by(EngagementRequest.number)
    ).all()
    assert [r.title for r in copied] == ['=HYPERLINK("http://evil.test")', "Backup logs, 2025"]
    assert copied[0].description == '- every quarterly review\n- with sign-off, "dated"'
    assert copied[0].requirement_refs == ["iso-sample:A.5.15", "iso-sample:A.8.5"]
    assert (copied[0].due_on.isoformat(), copied[0].sample_size) == (due, 3)
    # Exported again, the copy reads as the original (refs and all).
    again = client.get(f"/api/v1/engagements/{other}/requests.csv", headers=headers)
    assert again.data == exported.data

    # Back into the first engagement: every ref is on its list already, nothing is added.
    back = client.post(
        f"/api/v1/engagements/{audit.engagement.id}/requests/import",
        data=again.data,
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert back.status_code == 201
    assert back.get_json() == {"items": [], "total": 0, "unchanged": ["PBC-1", "PBC-2"]}
    assert request_count(audit.engagement.id) == 2
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"engagement.requests.export", "engagement.requests.import"} <= actions


BAD = (
    "ref,title,description,requirements,due_on,sample_size\n"
    ",Good row,fine,A.5.15,2030-01-31,2\n"
    ",,no title,,,\n"
    ",Bad date,,,31/01/2030,\n"
    ",Bad sample,,,,zero\n"
    ",Out of scope,,soc-sample:CC6.1,,\n"
    ",Unknown requirement,,A.99,,\n"
)


def test_a_bad_file_imports_nothing_and_names_each_line(client, audit) -> None:
    headers = {**bearer(audit.auditor), "Content-Type": "text/csv"}
    url = f"/api/v1/engagements/{audit.engagement.id}/requests/import"
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    response = client.post(url, data=BAD.encode(), headers=headers)
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert message.startswith("nothing was imported")
    assert "line 3: the title is empty" in message
    assert "line 4: the due date '31/01/2030' is not a date (use YYYY-MM-DD)" in message
    assert "line 5: the sample size 'zero' is not a whole number above 0" in message
    # The rows whose form is right are checked by the service too; one bad row is enough.
    response = client.post(
        url,
        data=(
            BAD.split(",,no title")[0].rsplit("\n", 1)[0] + "\n"
            ",Out of scope,,soc-sample:CC6.1,,\n"
            ",Unknown requirement,,A.99,,\n"
        ).encode(),
        headers=headers,
    )
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert "line 3: soc-sample:CC6.1 is not in the engagement's scope" in message
    assert "line 4: there is no requirement 'iso-sample:A.99'" in message
    assert "line 2" not in message
    assert request_count(audit.engagement.id) == 0
    # Nothing of the refused imports stays, not even the good rows' audit events.
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_files_that_are_not_a_request_list(client, audit) -> None:
    headers = {**bearer(audit.auditor), "Content-Type": "text/csv"}
    url = f"/api/v1/engagements/{audit.engagement.id}/requests/import"
    cases = {
        b"title,notes\nA,b\n": "unknown column 'notes'",
        b"ref,description\n,x\n": "the header has no title column",
        b"title\n": "a header but no requests",
        b"": "the CSV file is empty",
        "title\nRéseau\n".encode("latin-1"): "not UTF-8 text",
        b"title,due_on\nA,2030-01-01,extra\n": "line 2: 3 cells where the header names 2",
    }
    for body, expected in cases.items():
        response = client.post(url, data=body, headers=headers)
        assert response.status_code == 400, body
        assert expected in response.get_json()["error"]["message"], body
    wrong_type = client.post(
        url, data=b"title\nA\n", headers={**headers, "Content-Type": "application/octet-stream"}
    )
    assert wrong_type.status_code == 415
    assert request_count(audit.engagement.id) == 0
    # The import path also matches /requests/<request_id>; it says what it allows itself.
    assert client.options(url).headers["Allow"] == "OPTIONS, POST"


def test_semicolons_and_a_byte_order_mark_as_spreadsheets_write_them(client, audit) -> None:
    headers = {**bearer(audit.auditor), "Content-Type": "text/csv"}
    body = "\ufeffTitle;Due date;Sample size\r\nFirewall rules;2030-02-01;5\r\n".encode()
    response = client.post(
        f"/api/v1/engagements/{audit.engagement.id}/requests/import", data=body, headers=headers
    )
    assert response.status_code == 201, response.get_json()
    item = response.get_json()["items"][0]
    assert (item["title"], item["due_on"], item["sample_size"]) == (
        "Firewall rules",
        "2030-02-01",
        5,
    )


def test_the_page_buttons(client, login_as, audit, add_request) -> None:
    add_request("Access reviews")
    login_as(audit.auditor)
    page = client.get(f"/engagements/{audit.engagement.id}").get_data(as_text=True)
    assert f"/engagements/{audit.engagement.id}/requests.csv" in page
    exported = client.get(f"/engagements/{audit.engagement.id}/requests.csv")
    assert exported.status_code == 200
    assert rows_of(exported.data)[0]["title"] == "Access reviews"
    url = f"/engagements/{audit.engagement.id}/requests/import"
    bad = post_form(
        client,
        url,
        {"file": (io.BytesIO(b"title,due_on\nA,soon\n"), "list.csv")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 302
    seen = text_of(client.get(f"/engagements/{audit.engagement.id}"))
    assert (
        "The request list was not imported: nothing was imported: line 2: the due date 'soon'"
        in seen
    )
    assert request_count(audit.engagement.id) == 1
    good = post_form(
        client,
        url,
        {
            "file": (
                io.BytesIO(exported.data + b'"","New one","","","","","","",""\r\n'),
                "list.csv",
            )
        },
        content_type="multipart/form-data",
    )
    assert good.status_code == 302
    seen = text_of(client.get(f"/engagements/{audit.engagement.id}"))
    assert "Imported 1 request; 1 already on the list were left as they are." in seen
    assert "PBC-2 New one" in seen
