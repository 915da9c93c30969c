"""An audit engagement in a real browser, by two people: staff create the engagement, the
auditor adds a request, staff attach evidence and mark it ready, the auditor accepts it. Every
page is looked at (screenshots at 1366 and 390 px, axe-core, nothing off screen)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from artifact.models.base import utcnow
from tests.e2e.test_journeys import clean

pytestmark = pytest.mark.e2e
Shot = Callable[[Any, str], Any]
SignIn = Callable[[Any, str], None]
WIDTHS = {"wide": (1366, 900), "narrow": (390, 844)}
NAME = "SOC-style review of Annex A (browser test)"


def look(page: Any, screenshot: Shot, what: str) -> None:
    """Screenshots at both widths; at each, no serious accessibility violation and nothing
    wider than the window."""
    for name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        screenshot(page, f"{what}-{name}")
        clean(page, f"{what} at {width}px")
    page.set_viewport_size({"width": 1366, "height": 900})


def test_staff_and_auditor_work_a_request_to_acceptance(
    axe_page: Any, browser: Any, live_server: Any, sign_in: SignIn, screenshot: Shot
) -> None:
    staff = axe_page
    staff.set_viewport_size({"width": 1366, "height": 900})
    sign_in(staff, "staff")
    staff.get_by_role("navigation", name="Main").get_by_role("link", name="Engagements").click()
    staff.get_by_role("heading", name="Engagements", level=1).wait_for()
    staff.get_by_role("link", name="New engagement").click()
    today = utcnow().date()
    staff.get_by_label("Name").fill(NAME)
    staff.get_by_label("Audit firm (organisation)").fill("Ledger & Co Auditors")
    staff.get_by_label("Framework under audit").select_option("iso27001-2022")
    staff.get_by_label("Period under audit: from").fill((today - timedelta(days=200)).isoformat())
    staff.get_by_label("Period under audit: to").fill(today.isoformat())
    staff.get_by_label("Auditors' access starts on").fill(today.isoformat())
    staff.get_by_label("Auditors' access ends on").fill((today + timedelta(days=30)).isoformat())
    staff.get_by_label("Auditors", exact=True).fill(live_server.email("auditor"))
    look(staff, screenshot, "engagement-new")
    staff.get_by_role("button", name="Create engagement").click()
    staff.get_by_text(f"Engagement {NAME} created").wait_for()
    engagement_url = staff.url

    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    context.set_default_timeout(15_000)
    auditor = context.new_page()
    try:
        auditor.set_viewport_size({"width": 1366, "height": 900})
        sign_in(auditor, "auditor")
        nav = auditor.get_by_role("navigation", name="Main")
        nav.get_by_role("link", name="My engagements").click()
        auditor.get_by_role("link", name=NAME).click()
        auditor.get_by_role("heading", name=NAME).wait_for()
        # The evidence in scope (approved, Annex A, collected in the period) with its buttons.
        evidence = auditor.get_by_role("region", name="Evidence in scope")
        assert evidence.get_by_text("Quarterly access review (sample)").count() == 1
        assert evidence.get_by_text("Change tickets, October (sample)").count() == 0  # in review
        auditor.get_by_text("Add a request").click()
        auditor.get_by_label("Title").fill("Quarterly user access reviews, all four")
        auditor.get_by_label("Requirement refs").fill("A.5.15")
        auditor.get_by_label("Due on").fill((today + timedelta(days=10)).isoformat())
        auditor.get_by_label("Sample size").fill("4")
        look(auditor, screenshot, "engagement-auditor")
        auditor.get_by_role("button", name="Add request").click()
        auditor.get_by_text("Request PBC-1 added.").wait_for()

        staff.goto(engagement_url)
        staff.get_by_role("link", name="Quarterly user access reviews, all four").click()
        heading = "PBC-1: Quarterly user access reviews, all four"
        staff.get_by_role("heading", name=heading).wait_for()
        staff.get_by_label("Evidence in scope").select_option(
            label="Quarterly access review (sample) (version 1)"
        )
        look(staff, screenshot, "request-staff")
        staff.get_by_role("button", name="Attach evidence").click()
        staff.get_by_text("Attached Quarterly access review (sample) (version 1).").wait_for()
        staff.get_by_role("button", name="Mark ready for review").click()
        staff.get_by_text("PBC-1 is ready for the auditors' review.").wait_for()

        auditor.reload()
        auditor.get_by_role("link", name="Quarterly user access reviews, all four").click()
        auditor.get_by_role("heading", name="Your review").wait_for()
        look(auditor, screenshot, "request-auditor")
        auditor.get_by_role("button", name="Accept").click()
        auditor.get_by_text("PBC-1 is accepted.").wait_for()
        assert auditor.locator("main .tag.status-accepted").count() == 1

        staff.goto(engagement_url)
        row = staff.get_by_role("row", name="PBC-1")
        assert row.get_by_text("accepted").count() == 1
        look(staff, screenshot, "engagement-staff")
    finally:
        context.close()
