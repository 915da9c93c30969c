"""Evidence pages, the coverage page, and the demo evidence."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from artifact.extensions import db
from artifact.frameworks import services as frameworks
from artifact.kernel.caller import OPERATOR
from artifact.models import AuditEvent, Evidence, Framework
from tests.conftest import csrf_token, post_form
from tests.fixtures_evidence import blob_files, make_png, png_bomb


def _iso_id() -> str:
    return frameworks.get_framework(db.session, OPERATOR, key="iso-sample").id


def test_staff_upload_submit_and_another_approves(
    client, login_as, staff, reviewer, store, evidence_frameworks
) -> None:
    login_as(staff)
    assert 'href="/evidence"' in client.get("/").get_data(as_text=True)  # in the navigation
    response = post_form(
        client,
        "/evidence/new",
        {
            "title": "Badge access screenshot",
            "effective_date": "2025-05-01",
            "expires_on": "2099-01-01",
            "requirements": "iso-sample:A.5.15\nsoc-sample:CC6.1",
            "file": (io.BytesIO(make_png()), "badge.png"),
        },
        token_from="/evidence/new",
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    item = db.session.scalar(select(Evidence))
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Badge access screenshot" in detail
    assert "iso-sample:A.5.15" in detail
    assert "PNG" in detail
    post_form(client, f"/evidence/{item.id}/submit", token_from=f"/evidence/{item.id}")
    detail = client.get(f"/evidence/{item.id}").get_data(as_text=True)
    assert "another staff member must approve it" in detail
    assert "Approve version" not in detail
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    login_as(reviewer)
    post_form(
        client,
        f"/evidence/{item.id}/approve",
        {"note": "looks right"},
        token_from=f"/evidence/{item.id}",
    )
    db.session.expire_all()
    assert db.session.get(Evidence, item.id).state == "approved"
    page = client.get(f"/frameworks/{_iso_id()}/coverage").get_data(as_text=True)
    assert "<strong>1</strong> covered" in page
    assert "Badge access screenshot" in page
    listing = client.get("/evidence?state=approved").get_data(as_text=True)
    assert "Badge access screenshot" in listing


def test_refused_upload_page_says_why(client, login_as, staff, store) -> None:
    login_as(staff)
    response = post_form(
        client,
        "/evidence/new",
        {
            "title": "Bomb",
            "effective_date": "2025-05-01",
            "file": (io.BytesIO(png_bomb()), "bomb.png"),
        },
        token_from="/evidence/new",
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 400
    assert "The evidence was not stored: the image is too large" in response.get_data(as_text=True)
    assert blob_files(store) == []
    assert db.session.scalar(select(Evidence)) is None


@pytest.mark.parametrize("role", ["customer", "auditor"])
def test_non_staff_get_404_on_evidence_pages(
    client, login_as, make_user, make_evidence, evidence_frameworks, role
) -> None:
    item = make_evidence("Hidden item", requirements=["iso-sample:A.5.1"], state="approved")
    login_as(make_user(role))
    assert 'href="/evidence"' not in client.get("/").get_data(as_text=True)
    token = csrf_token(client)
    for method, path in [
        ("GET", "/evidence"),
        ("GET", "/evidence/new"),
        ("GET", f"/evidence/{item.id}"),
        ("GET", f"/evidence/{item.id}/download"),
        ("POST", f"/evidence/{item.id}/approve"),
        ("POST", f"/evidence/{item.id}/versions"),
        ("GET", f"/frameworks/{_iso_id()}/coverage"),
    ]:
        response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code == 404, (method, path)
        assert "Hidden item" not in response.get_data(as_text=True)
    tree = client.get(f"/frameworks/{_iso_id()}").get_data(as_text=True)
    assert "Coverage and freshness" not in tree
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "evidence.download")
    ).all()


def test_framework_page_links_to_coverage_for_staff(
    client, login_as, staff, evidence_frameworks
) -> None:
    login_as(staff)
    html = client.get(f"/frameworks/{_iso_id()}").get_data(as_text=True)
    assert f'href="/frameworks/{_iso_id()}/coverage"' in html


def test_demo_seeds_evidence_once_with_coverage(runner, client, login_as) -> None:
    for _ in range(2):
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
    assert "reviewer@artifact.test" in result.output
    db.session.expire_all()
    items = {e.title: e for e in db.session.scalars(select(Evidence))}
    assert len(items) == 5
    from artifact.models.base import utcnow

    today = utcnow().date()
    states = {title: e.display_state(today) for title, e in items.items()}
    assert states["Penetration test summary (sample)"] == "expired"
    assert states["Change tickets, October (sample)"] == "in_review"
    assert states["Quarterly access review (sample)"] == "approved"
    approvals = [e.approval() for e in items.values() if e.approval()]
    assert {a.approved_by.email for a in approvals} == {"reviewer@artifact.test"}
    iso = db.session.scalar(select(Framework).where(Framework.key == "iso27001-2022"))
    from artifact.evidence import services as evidence

    found = evidence.framework_coverage(db.session, OPERATOR, iso, today)
    rows = {row.requirement.ref: row.status for row in found.rows}
    assert rows["A.5.15"] == "covered"
    assert rows["A.8.13"] == "expiring"
    assert rows["A.8.8"] == "stale"
    assert rows["A.8.32"] == "stale"  # inferred from the SOC 2 tickets still in review
    assert found.counts["missing"] > 0


def test_coverage_page_kept_rendered_follows_evidence_at_once(
    evidence_frameworks, make_evidence, client, login_as, reviewer
) -> None:
    """The coverage body and the unfiltered evidence list are kept per policy generation:
    evidence approved after the pages were seen shows at the next request (evidence changes
    bump the generation)."""
    login_as(reviewer)
    page = client.get(f"/frameworks/{_iso_id()}/coverage").get_data(as_text=True)
    assert "<strong>0</strong> covered" in page
    assert "Kept coverage check" not in page
    assert "Kept coverage check" not in client.get("/evidence").get_data(as_text=True)
    make_evidence("Kept coverage check", requirements=["iso-sample:A.5.1"], state="approved")
    assert "Kept coverage check" in client.get("/evidence").get_data(as_text=True)
    page = client.get(f"/frameworks/{_iso_id()}/coverage").get_data(as_text=True)
    assert "<strong>1</strong> covered" in page
    assert "Kept coverage check" in page
    filtered = client.get(f"/frameworks/{_iso_id()}/coverage?status=covered")
    assert "Kept coverage check" in filtered.get_data(as_text=True)
