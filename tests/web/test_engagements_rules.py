"""Engagements refuse bad input with a clear 4xx and write nothing; the request list's status
machine refuses steps out of order and steps that are the other side's to take."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from artifact.extensions import db
from artifact.models import (
    AuditEvent,
    Engagement,
    EngagementAuditor,
    EngagementRequest,
    OutboxEvent,
    RequestComment,
    RequestEvidence,
)
from tests.fixtures_engagements import FIRM, engagement_body
from tests.fixtures_evidence import today


def _counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (
            Engagement,
            EngagementAuditor,
            EngagementRequest,
            RequestComment,
            RequestEvidence,
            OutboxEvent,
            AuditEvent,
        )
    )


BAD_ENGAGEMENTS = [
    ({"period_end": "2020-01-01"}, 400, "period_end is before period_start"),
    ({"ends_on": "2020-01-01"}, 400, "ends_on is before starts_on"),
    ({"starts_on": "2026-02-30"}, 400, "starts_on must be a date"),
    ({"name": "   "}, 400, "the name is required"),
    ({"framework": None}, 400, "the scope is required"),
    ({"requirements": ["iso-sample:A.5.15"]}, 400, "not both"),
    ({"framework": "no-such-framework"}, 422, "no framework with key 'no-such-framework'"),
    ({"framework": None, "requirements": ["iso-sample:Z.9"]}, 422, "no requirement"),
    ({"organization": "Nobody LLP"}, 422, "no organisation named 'Nobody LLP'"),
    ({"auditors": []}, 400, "auditors"),
    ({"auditors": ["ghost@example.test"]}, 422, "ghost@example.test is not an active user"),
    ({"period_start": 20250101}, 400, "period_start must be a date"),
]


def test_bad_engagements_get_a_clear_error_and_write_nothing(
    client, bearer, staff, firm_auditor, engagement_scope
) -> None:
    headers = bearer(staff)
    before = _counts()
    for changes, status, says in BAD_ENGAGEMENTS:
        body = engagement_body(engagement_scope, [firm_auditor.email])
        body.update(changes)
        body = {k: v for k, v in body.items() if v is not None}
        answer = client.post("/api/v1/engagements", json=body, headers=headers)
        assert answer.status_code == status, (changes, answer.get_json())
        assert says in answer.get_json()["error"]["message"]
    assert _counts() == before


def test_auditors_must_be_active_auditors_of_the_firm(
    client, bearer, make_user, staff, customer, firm_auditor, engagement_scope
) -> None:
    headers = bearer(staff)
    other_firm = make_user("auditor", org="Other Audit LLP")
    customer_at_firm = make_user("customer", org=FIRM)
    before = _counts()
    for user, says in (
        (other_firm, f"is not a member of {FIRM}"),
        (customer_at_firm, "does not have the auditor role"),
        (customer, "does not have the auditor role"),
    ):
        body = engagement_body(engagement_scope, [firm_auditor.email, user.email])
        answer = client.post("/api/v1/engagements", json=body, headers=headers)
        assert answer.status_code == 422
        assert answer.get_json()["error"] == {
            "code": "unprocessable",
            "message": f"{user.email} {says}",
        }
    assert _counts() == before


def test_only_staff_create_and_close(
    client, bearer, firm_auditor, customer, engagement_scope, open_engagement
) -> None:
    body = engagement_body(engagement_scope, [firm_auditor.email])
    before = _counts()
    as_auditor = client.post("/api/v1/engagements", json=body, headers=bearer(firm_auditor))
    assert as_auditor.status_code == 403
    assert client.post("/api/v1/engagements", json=body, headers=bearer(customer)).status_code == (
        404
    )
    eid = open_engagement["id"]
    closing = client.post(f"/api/v1/engagements/{eid}/close", headers=bearer(firm_auditor))
    assert closing.status_code == 403
    assert db.session.get(Engagement, eid).state == "open"
    assert _counts()[:6] == before[:6]


def test_a_scope_of_named_requirements(
    client, bearer, staff, firm_auditor, engagement_scope
) -> None:
    body = engagement_body(
        engagement_scope,
        [firm_auditor.email],
        framework=None,
        requirements=["iso-sample:A.8.5", "soc-sample:cc6.1"],
    )
    created = client.post("/api/v1/engagements", json=body, headers=bearer(staff))
    assert created.status_code == 201, created.get_json()
    engagement = created.get_json()
    assert engagement["framework"] is None
    assert engagement["requirements"] == ["iso-sample:A.8.5", "soc-sample:CC6.1"]
    auditor = bearer(firm_auditor)
    listed = client.get(f"/api/v1/engagements/{engagement['id']}/evidence", headers=auditor)
    # The soc-sample evidence is approved and in the period; the iso A.8.5 one is a draft.
    assert [e["id"] for e in listed.get_json()["items"]] == [engagement_scope.other_framework.id]
    coverage = client.get(f"/api/v1/engagements/{engagement['id']}/coverage", headers=auditor)
    rows = {r["requirement"]: r["covered"] for r in coverage.get_json()["items"]}
    assert rows == {"iso-sample:A.8.5": False, "soc-sample:CC6.1": True}
    outside = client.post(
        f"/api/v1/engagements/{engagement['id']}/requests",
        json={"title": "Policies", "requirements": ["iso-sample:A.5.1"]},
        headers=auditor,
    )
    assert outside.status_code == 422
    assert (
        "iso-sample:A.5.1 is not in the engagement's scope"
        in outside.get_json()["error"]["message"]
    )


def test_the_status_machine_refuses_steps_out_of_order(
    client, bearer, staff, firm_auditor, engagement_scope, open_engagement
) -> None:
    eid = open_engagement["id"]
    auditor, staff_headers = bearer(firm_auditor), bearer(staff)
    asked = client.post(
        f"/api/v1/engagements/{eid}/requests",
        json={"title": "Access review", "due_on": (today() - timedelta(days=1)).isoformat()},
        headers=auditor,
    )
    assert asked.status_code == 201
    assert asked.get_json()["overdue"] is True
    base = f"/api/v1/engagements/{eid}/requests/{asked.get_json()['id']}"

    def refused(path: str, headers, status: int, says: str, body=None) -> None:
        before = _counts()
        answer = client.post(f"{base}/{path}", json=body, headers=headers)
        assert answer.status_code == status, (path, answer.get_json())
        assert says in answer.get_json()["error"]["message"]
        assert _counts()[:6] == before[:6]

    refused("accept", auditor, 409, "cannot accept a request that is open (it must be ready")
    refused("ready", staff_headers, 409, "attach evidence before marking the request ready")
    refused("ready", auditor, 403, "not yours to do")
    refused("evidence", auditor, 403, "not yours to do", {"evidence_id": "x"})
    for outside in (
        engagement_scope.draft,
        engagement_scope.before_period,
        engagement_scope.other_framework,
    ):
        refused(
            "evidence",
            staff_headers,
            422,
            "not in the engagement's scope",
            {"evidence_id": outside.id},
        )
    attached = client.post(
        f"{base}/evidence", json={"evidence_id": engagement_scope.inside.id}, headers=staff_headers
    )
    assert attached.status_code == 201
    assert attached.get_json()["status"] == "in_progress"
    refused(
        "evidence",
        staff_headers,
        409,
        "attached to the request already",
        {"evidence_id": engagement_scope.inside.id},
    )
    assert client.post(f"{base}/ready", headers=staff_headers).status_code == 200
    refused("accept", staff_headers, 403, "not yours to do")
    refused("return", auditor, 400, "the comment is required", {"comment": "  "})
    returned = client.post(
        f"{base}/return", json={"comment": "The sample misses March."}, headers=auditor
    )
    assert returned.status_code == 200
    assert returned.get_json()["status"] == "returned"
    assert [(c["kind"], c["body"], c["author"]) for c in returned.get_json()["comments"]] == [
        ("return", "The sample misses March.", firm_auditor.email)
    ]
    refused("accept", auditor, 409, "cannot accept a request that is returned")
    assert client.post(f"{base}/ready", headers=staff_headers).get_json()["status"] == "ready"
    assert client.post(f"{base}/accept", headers=auditor).get_json()["status"] == "accepted"
    accepted = client.get(base, headers=auditor).get_json()
    assert accepted["overdue"] is False  # accepted: nothing is waiting on the company
    refused("return", auditor, 409, "cannot return a request that is accepted", {"comment": "x"})
    changed = client.patch(base, json={"owner": staff.email}, headers=staff_headers)
    assert changed.status_code == 409
    bad_owner = client.patch(base, json={"owner": firm_auditor.email}, headers=staff_headers)
    assert bad_owner.status_code in (409, 422)

    # A closed engagement's request list changes no more, even for staff.
    client.post(f"/api/v1/engagements/{eid}/close", headers=staff_headers)
    refused("comments", staff_headers, 409, "the engagement is closed", {"body": "late"})
    closed_again = client.post(f"/api/v1/engagements/{eid}/close", headers=staff_headers)
    assert closed_again.status_code == 409


BAD_REQUESTS = [
    ({"title": ""}, "the title is required"),
    ({"title": "x", "sample_size": 0}, "sample_size must be a whole number"),
    ({"title": "x", "due_on": "tomorrow"}, "due_on must be a date"),
    ({"title": "x", "requirements": ["soc-sample:CC6.1"]}, "not in the engagement's scope"),
    ({"title": "x", "requirements": ["Z.9"]}, "no requirement 'iso-sample:Z.9'"),
    ({"title": "x", "colour": "red"}, "unknown field 'colour'"),
    ({"title": "x", "sample_size": "5"}, "sample_size must be a whole number"),
    ({"title": "x", "requirements": "A.5.15"}, "requirements must be a list"),
    ({"title": "x", "requirements": [" "]}, "requirements may not hold an empty item"),
    ({"title": None}, "title may not be null"),
]


def test_bad_requests_write_nothing(client, bearer, firm_auditor, open_engagement) -> None:
    headers = bearer(firm_auditor)
    before = _counts()
    for body, says in BAD_REQUESTS:
        answer = client.post(
            f"/api/v1/engagements/{open_engagement['id']}/requests", json=body, headers=headers
        )
        assert answer.status_code in (400, 422), (body, answer.get_json())
        assert says in answer.get_json()["error"]["message"]
    assert _counts() == before


def test_head_on_a_download_makes_no_copy_and_no_receipt(
    client, bearer, firm_auditor, engagement_scope, open_engagement
) -> None:
    from artifact.models import EngagementReceipt

    headers = bearer(firm_auditor)
    base = f"/api/v1/engagements/{open_engagement['id']}/evidence"
    checked = client.head(f"{base}/{engagement_scope.inside.id}/download", headers=headers)
    assert checked.status_code == 200
    assert checked.mimetype == "application/pdf"
    assert "X-Artifact-Receipt" not in checked.headers
    assert db.session.scalar(select(func.count()).select_from(EngagementReceipt)) == 0
    outside = client.head(f"{base}/{engagement_scope.draft.id}/download", headers=headers)
    assert outside.status_code == 404
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "engagement.evidence.download")
    ).all()
    assert json.loads(event.details)["method"] == "HEAD"
