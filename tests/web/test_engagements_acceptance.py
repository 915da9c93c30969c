"""The issue's black box, through the JSON API: staff create an engagement for a framework,
a period and an auditor; the auditor sees exactly the approved evidence of that framework
effective in the period (404 on the rest), works a request to acceptance with staff, and loses
everything at once when the engagement closes or its end date passes, while the audit trail
keeps what they saw."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from sqlalchemy import select

from artifact.extensions import db
from artifact.infra.pdf.stamp import read_receipt
from artifact.kernel import uow
from artifact.models import AuditEvent, Engagement, EngagementReceipt
from tests.fixtures_catalog import page_texts
from tests.fixtures_engagements import FIRM
from tests.fixtures_evidence import today


def _events(engagement_id: str) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.target_id == engagement_id)
    return list(db.session.scalars(stmt.order_by(AuditEvent.seq)))


def _engagement_paths(eid: str, evidence_id: str, rid: str) -> list[str]:
    base = f"/api/v1/engagements/{eid}"
    return [
        base,
        f"{base}/evidence",
        f"{base}/evidence/{evidence_id}",
        f"{base}/evidence/{evidence_id}/download",
        f"{base}/coverage",
        f"{base}/requests",
        f"{base}/requests/{rid}",
    ]


def test_an_auditor_sees_the_scope_works_a_request_and_loses_it_all_at_closing(
    client, bearer, staff, firm_auditor, engagement_scope, open_engagement
) -> None:
    scope = engagement_scope
    eid = open_engagement["id"]
    assert open_engagement["state"] == "open"
    assert open_engagement["access"] == "open"
    assert open_engagement["organization"] == FIRM
    assert open_engagement["framework"] == "iso-sample"
    assert open_engagement["auditors"] == [firm_auditor.email]
    auditor = bearer(firm_auditor)

    listed = client.get("/api/v1/engagements", headers=auditor).get_json()
    assert [e["id"] for e in listed["items"]] == [eid]

    # Exactly the approved evidence of iso-sample effective in the period.
    evidence = client.get(f"/api/v1/engagements/{eid}/evidence", headers=auditor)
    assert evidence.status_code == 200
    body = evidence.get_json()
    assert [e["id"] for e in body["items"]] == [scope.inside.id]
    assert body["items"][0]["requirements"] == ["iso-sample:A.5.15"]
    assert body["items"][0]["sha256"] == hashlib.sha256(scope.inside_pdf).hexdigest()
    for outside in (scope.other_framework, scope.before_period, scope.draft):
        for path in (
            f"/api/v1/engagements/{eid}/evidence/{outside.id}",
            f"/api/v1/engagements/{eid}/evidence/{outside.id}/download",
        ):
            refused = client.get(path, headers=auditor)
            assert refused.status_code == 404, (outside.title, path)
            assert refused.get_json()["error"]["code"] == "not_found"
        # Nor may the auditor reach it through the evidence feature itself.
        assert client.get(f"/api/v1/evidence/{outside.id}", headers=auditor).status_code == 404
    assert client.get(f"/api/v1/evidence/{scope.inside.id}", headers=auditor).status_code == 404

    # The download: a stamped copy naming the auditor, with a receipt in the trail.
    download = client.get(
        f"/api/v1/engagements/{eid}/evidence/{scope.inside.id}/download", headers=auditor
    )
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    receipt = download.headers["X-Artifact-Receipt"]
    assert read_receipt(download.data) == receipt
    stamped = "\n".join(page_texts(download.data))
    assert firm_auditor.email in stamped
    assert FIRM in stamped
    assert receipt in stamped
    assert "ACCESS-REVIEW" in stamped  # the evidence's own pages follow the cover
    row = db.session.get(EngagementReceipt, receipt)
    assert (row.engagement_id, row.evidence_id, row.email) == (
        eid,
        scope.inside.id,
        firm_auditor.email,
    )

    # Coverage of the in-scope requirements names only evidence in scope.
    coverage = client.get(f"/api/v1/engagements/{eid}/coverage", headers=auditor).get_json()
    rows = {r["requirement"]: r for r in coverage["items"]}
    assert set(rows) == {
        "iso-sample:A.5",
        "iso-sample:A.5.1",
        "iso-sample:A.5.15",
        "iso-sample:A.8",
        "iso-sample:A.8.5",
    }
    assert rows["iso-sample:A.5.15"]["covered"] is True
    assert [e["id"] for e in rows["iso-sample:A.5.15"]["evidence"]] == [scope.inside.id]
    assert rows["iso-sample:A.8.5"]["covered"] is False  # its evidence is a draft
    assert rows["iso-sample:A.5.1"]["covered"] is False  # its evidence predates the period
    text = json.dumps(coverage)
    for outside in (scope.other_framework, scope.before_period, scope.draft):
        assert outside.id not in text
        assert outside.title not in text

    # The request list: the auditor asks, staff answer, the auditor accepts.
    asked = client.post(
        f"/api/v1/engagements/{eid}/requests",
        json={
            "title": "User access review for Q1",
            "description": "The signed review and the population it sampled.",
            "requirements": ["A.5.15"],
            "due_on": (today() + timedelta(days=7)).isoformat(),
            "sample_size": 25,
        },
        headers=auditor,
    )
    assert asked.status_code == 201, asked.get_json()
    request = asked.get_json()
    rid = request["id"]
    assert (request["number"], request["status"]) == (1, "open")
    assert request["requirements"] == ["iso-sample:A.5.15"]
    assert request["created_by"] == firm_auditor.email
    base = f"/api/v1/engagements/{eid}/requests/{rid}"
    staff_headers = bearer(staff)
    owned = client.patch(base, json={"owner": staff.email}, headers=staff_headers)
    assert owned.status_code == 200, owned.get_json()
    assert (owned.get_json()["owner"], owned.get_json()["status"]) == (staff.email, "in_progress")
    attached = client.post(
        f"{base}/evidence", json={"evidence_id": scope.inside.id}, headers=staff_headers
    )
    assert attached.status_code == 201, attached.get_json()
    assert [a["evidence_id"] for a in attached.get_json()["evidence"]] == [scope.inside.id]
    ready = client.post(f"{base}/ready", headers=staff_headers)
    assert ready.status_code == 200
    assert ready.get_json()["status"] == "ready"
    accepted = client.post(f"{base}/accept", headers=auditor)
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["status"] == "accepted"
    shown = client.get(base, headers=auditor).get_json()
    assert shown["status"] == "accepted"
    assert shown["evidence"][0]["title"] == scope.inside.title

    # Closing ends the auditor's access to all of it at once.
    closed = client.post(f"/api/v1/engagements/{eid}/close", headers=staff_headers)
    assert closed.status_code == 200
    assert (closed.get_json()["state"], closed.get_json()["closed_by"]) == ("closed", staff.email)
    for path in _engagement_paths(eid, scope.inside.id, rid):
        assert client.get(path, headers=auditor).status_code == 404, path
    for path, body in (("comments", {"body": "x"}), ("accept", None), ("return", {"comment": "x"})):
        late = client.post(f"{base}/{path}", json=body, headers=auditor)
        assert late.status_code == 404, path
    assert client.get("/api/v1/engagements", headers=auditor).get_json()["total"] == 0
    # Staff still read it all, closed.
    assert client.get(f"/api/v1/engagements/{eid}", headers=staff_headers).status_code == 200
    assert client.get(f"{base}", headers=staff_headers).get_json()["status"] == "accepted"

    # The trail keeps what the auditor saw, each event naming the engagement.
    seen = [
        (e.action, json.loads(e.details).get("evidence_id"))
        for e in _events(eid)
        if e.actor_email == firm_auditor.email
    ]
    assert ("engagement.evidence.list", None) in seen
    assert ("engagement.evidence.download", scope.inside.id) in seen
    assert ("engagement.coverage.view", None) in seen
    assert ("engagement.request.create", None) in seen
    assert ("engagement.request.accept", None) in seen
    download_event = next(e for e in _events(eid) if e.action == "engagement.evidence.download")
    assert json.loads(download_event.details)["receipt"] == receipt
    assert download_event.target_type == "engagement"
    assert row.audit_seq == download_event.seq
    staff_actions = [e.action for e in _events(eid) if e.actor_email == staff.email]
    assert staff_actions[0] == "engagement.create"
    assert staff_actions[-2:] == ["engagement.view", "engagement.request.view"]
    assert any(e.action == "engagement.close" for e in _events(eid))
    # The package export's view of it: the same events, in order.
    from artifact.engagements import services as engagements
    from artifact.kernel.caller import OPERATOR

    trail = engagements.trail(db.session, OPERATOR, eid)
    assert [e.seq for e in trail] == [e.seq for e in _events(eid)]
    # The auditor's attempts after closing are there too, refused.
    assert any(e.action == "access.denied" and e.actor_email == firm_auditor.email for e in trail)


def test_trace_names_the_auditor_and_the_engagement_of_a_leaked_copy(
    client, runner, bearer, firm_auditor, engagement_scope, open_engagement, tmp_path
) -> None:
    eid = open_engagement["id"]
    path = f"/api/v1/engagements/{eid}/evidence/{engagement_scope.inside.id}/download"
    copy = client.get(path, headers=bearer(firm_auditor))
    leaked = tmp_path / "leaked.pdf"
    leaked.write_bytes(copy.data)
    result = runner.invoke(args=["trace", str(leaked)])
    assert result.exit_code == 0, result.output
    receipt = copy.headers["X-Artifact-Receipt"]
    assert f"receipt {receipt}: downloaded by {firm_auditor.email} ({FIRM})" in result.output
    assert "'Quarterly access review'" in result.output
    assert f"through engagement 'ISO surveillance audit' (id {eid})" in result.output


def test_the_end_date_passing_ends_access_and_a_later_start_has_not_begun(
    client, bearer, staff, firm_auditor, engagement_scope, open_engagement
) -> None:
    eid = open_engagement["id"]
    auditor = bearer(firm_auditor)
    assert client.get(f"/api/v1/engagements/{eid}", headers=auditor).status_code == 200
    engagement = db.session.get(Engagement, eid)
    engagement.starts_on = today() - timedelta(days=20)  # time passes
    engagement.ends_on = today() - timedelta(days=1)
    uow.commit(db.session)
    for path in _engagement_paths(eid, engagement_scope.inside.id, "0" * 32):
        assert client.get(path, headers=auditor).status_code == 404, path
    assert client.get("/api/v1/engagements", headers=auditor).get_json()["total"] == 0
    as_staff = client.get(f"/api/v1/engagements/{eid}", headers=bearer(staff)).get_json()
    assert (as_staff["state"], as_staff["access"]) == ("open", "ended")

    engagement.ends_on = today() + timedelta(days=10)
    engagement.starts_on = today() + timedelta(days=1)  # not started yet
    uow.commit(db.session)
    assert client.get(f"/api/v1/engagements/{eid}", headers=auditor).status_code == 404
    engagement.starts_on = today()
    uow.commit(db.session)
    assert client.get(f"/api/v1/engagements/{eid}", headers=auditor).status_code == 200


def test_only_the_engagements_auditors_see_it(
    client, bearer, make_user, customer, firm_auditor, engagement_scope, open_engagement
) -> None:
    eid = open_engagement["id"]
    colleague = make_user("auditor", org=FIRM)  # same firm, not on the engagement
    other_firm = make_user("auditor", org="Other Audit LLP")
    paths = _engagement_paths(eid, engagement_scope.inside.id, "0" * 32)
    for outsider in (colleague, other_firm, customer):
        headers = bearer(outsider)
        for path in paths:
            assert client.get(path, headers=headers).status_code == 404, (outsider.email, path)
        asked = client.post(f"{paths[0]}/requests", json={"title": "x"}, headers=headers)
        assert asked.status_code == 404
    assert client.get("/api/v1/engagements", headers=bearer(colleague)).get_json()["total"] == 0
    assert client.get("/api/v1/engagements", headers=bearer(customer)).status_code == 404
    assert client.get(paths[0]).status_code == 401
    # An auditor moved to another firm loses the engagement too.
    firm_auditor.organization_id = other_firm.organization_id
    uow.commit(db.session)
    assert client.get(paths[0], headers=bearer(firm_auditor)).status_code == 404
