"""Webhooks in a real browser: an admin registers an endpoint (the secret shown once), opens its
delivery log and deletes it after confirming; axe-core on each page; screenshots at 1366 and
390 px."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.test_accessibility import describe, violations

pytestmark = pytest.mark.e2e
Shot = Callable[[Any, str], Any]
SignIn = Callable[[Any, str], None]
WIDTHS = {"wide": (1366, 900), "narrow": (390, 844)}


def _look(page: Any, screenshot: Shot, what: str) -> None:
    """Screenshots at both widths and no serious accessibility violation."""
    for name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        screenshot(page, f"{what}-{name}")
    found = violations(page)
    assert not found, f"{what} ({page.url}):\n{describe(found)}"


def test_admin_registers_and_deletes_a_webhook(
    axe_page: Any, sign_in: SignIn, screenshot: Shot
) -> None:
    page = axe_page
    sign_in(page, "admin")
    page.goto("/admin/")
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_role("heading", name="Webhooks", level=1).wait_for()
    page.get_by_label("Receiver URL (https://)").fill("http://127.0.0.1:9/artifact-hooks")
    page.get_by_label("access_request.created").check()
    page.get_by_label("report.published").check()
    _look(page, screenshot, "webhooks-form")
    page.get_by_role("button", name="Register").click()
    page.get_by_role("heading", name="Webhook registered").wait_for()
    secret = page.get_by_label("Signing secret").input_value()
    assert secret.startswith("whsec_")
    _look(page, screenshot, "webhook-secret")
    page.get_by_role("link", name="Go to the endpoint").click()
    page.get_by_role("heading", name="Webhook deliveries").wait_for()
    assert secret not in page.content()
    _look(page, screenshot, "webhook-deliveries")
    page.get_by_role("link", name="Delete this webhook").click()
    page.get_by_role("heading", name="Delete webhook").wait_for()
    _look(page, screenshot, "webhook-delete")
    page.get_by_role("button", name="Delete the webhook").click()
    page.get_by_role("heading", name="Webhooks", level=1).wait_for()
    assert page.get_by_text("deleted.").count() == 1
    assert page.get_by_text("127.0.0.1:9/artifact-hooks").count() == 1  # the flash only
