"""Subscriptions and the job queue in a real browser, at desktop and phone widths."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}


def test_customer_subscribes_to_a_series(page: Any, sign_in: Any, screenshot: Any) -> None:
    sign_in(page, "customer")
    page.goto("/account/")
    page.get_by_role("link", name="My subscriptions").click()
    page.get_by_role("heading", name="My subscriptions").wait_for()
    page.get_by_label("SOC 2 Type II", exact=True).check()
    page.get_by_label("Decisions on your access requests").uncheck()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Your subscriptions are saved.").wait_for()
    assert page.get_by_label("SOC 2 Type II", exact=True).is_checked()
    assert not page.get_by_label("Decisions on your access requests").is_checked()
    # Customers are not offered the staff-only kinds.
    assert page.get_by_label("Access requests waiting for a decision (staff)").count() == 0
    for name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        screenshot(page, f"subscriptions-{name}")


def test_admin_sees_the_job_queue(page: Any, sign_in: Any, screenshot: Any) -> None:
    sign_in(page, "admin")
    page.goto("/admin/")
    page.get_by_role("link", name="Job queue and mail").click()
    page.get_by_role("heading", name="Job queue", exact=True).wait_for()
    page.get_by_role("heading", name="Events not processed yet").wait_for()
    facts = page.locator("dl.facts").inner_text()
    # The demo's queue is the embedded one, reachable; the counts are numbers an admin reads.
    assert "not reachable" not in facts
    assert re.search(r"Queued jobs\s+\d+", facts), facts
    assert re.search(r"Mails\s+\d+ sent, \d+ failed, \d+ interrupted", facts), facts
    for name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        # Nothing runs off the screen sideways (wide tables scroll inside their box).
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"queue-{name}")
