"""One download budget per user (per IP for visitors) across every download route: report
pages and API, evidence pages and API, staff's originals; HEAD counts and is recorded;
``Retry-After`` only on the 429."""

from __future__ import annotations

from sqlalchemy import select

from artifact.extensions import db
from artifact.models import AuditEvent


def test_download_budget_answers_429_with_retry_after(app, make_report, make_user, api_as) -> None:
    app.config["RATELIMIT_DOWNLOADS"] = "2 per hour"
    report = make_report("SOC 3", visibility="public")
    reader = api_as(make_user("customer", org="Acme Health"))
    statuses = [reader.get(f"/reports/{report.id}/download").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    throttled = reader.get(f"/reports/{report.id}/download")
    assert int(throttled.headers["Retry-After"]) > 0
    assert throttled.get_json()["error"]["code"] == "throttled"
    other = api_as(make_user("customer", org="Acme Health"))  # budgets are per account
    assert other.get(f"/reports/{report.id}/download").status_code == 200


def test_one_budget_across_pages_api_reports_evidence_originals_and_head(
    app, make_report, make_evidence, staff, login_as, api_as
) -> None:
    app.config["RATELIMIT_DOWNLOADS"] = "6 per hour"
    report = make_report("SOC 2 Type II", visibility="public")
    item = make_evidence()
    api = api_as(staff)
    answers = [
        api.get(f"/reports/{report.id}/download").status_code,
        api.client.head(f"/api/v1/reports/{report.id}/download", headers=api.headers).status_code,
        api.get(f"/evidence/{item.id}/download").status_code,
        api.get(f"/reports/{report.id}/versions/1/original").status_code,
    ]
    page = login_as(staff)
    answers += [
        page.get(f"/catalog/{report.id}/download").status_code,
        page.get(f"/evidence/{item.id}/download").status_code,
    ]
    assert answers == [200] * 6
    # The seventh download of any kind, on any route, is over the one budget.
    assert page.get(f"/catalog/{report.id}/versions/1/original").status_code == 429
    assert page.head(f"/catalog/{report.id}/download").status_code == 429
    assert api.get(f"/evidence/{item.id}/download").status_code == 429


def test_visitors_share_one_budget_per_address(app, make_report, client) -> None:
    app.config["RATELIMIT_DOWNLOADS"] = "2 per hour"
    report = make_report("ISO 27001 certificate", visibility="public")
    assert client.get(f"/catalog/{report.id}/download").status_code == 200
    assert client.get(f"/api/v1/reports/{report.id}/download").status_code == 200
    assert client.head(f"/catalog/{report.id}/download").status_code == 429


def test_head_is_recorded_as_an_access(app, make_report, make_user, api_as) -> None:
    report = make_report("SOC 3", visibility="public")
    reader = api_as(make_user("customer", org="Acme Health"))
    response = reader.client.head(f"/api/v1/reports/{report.id}/download", headers=reader.headers)
    assert response.status_code == 200
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "report.download", AuditEvent.target_id == report.id
        )
    ).all()
    assert [e.actor_email for e in events] == [reader.user.email]
    assert '"method":"HEAD"' in events[0].details


def test_retry_after_only_on_429(app, make_report, make_user, api_as) -> None:
    app.config["RATELIMIT_DOWNLOADS"] = "1 per hour"
    report = make_report("SOC 3", visibility="public")
    reader = api_as(make_user("customer", org="Acme Health"))
    allowed = reader.get(f"/reports/{report.id}/download")
    assert allowed.status_code == 200
    assert "Retry-After" not in allowed.headers
    refused = reader.get(f"/reports/{report.id}/download")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
