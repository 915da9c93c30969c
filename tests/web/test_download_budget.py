"""Per-user download budgets on the report download routes."""

from __future__ import annotations


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
