"""Search in a real browser: a visitor's typo is answered with "Did you mean …" (a word of a
document they may see), the link runs the suggested query, and each certificate is one hit
naming its matching page, which opens the stamped copy at that page. Screenshots at 1366 and
390 pixels wide."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
Shot = Callable[[Any, str], Any]


@pytest.mark.parametrize("width", [1366, 390])
def test_visitor_follows_a_suggestion_to_grouped_hits_with_pages(
    page: Any, screenshot: Shot, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/search?q=applicabilty")
    page.get_by_text("0 results.").wait_for()
    suggestion = page.get_by_role("link", name="applicability")
    assert page.get_by_text("Did you mean").is_visible()
    screenshot(page, f"suggestion-{width}")
    suggestion.click()
    page.get_by_role("heading", name="Search", level=1).wait_for()
    assert page.locator("main input[name=q]").input_value() == "applicability"
    hits = page.locator("ol.hits > li")
    titles = [t.strip() for t in hits.locator("> a").all_inner_texts()]
    assert "ISO/IEC 27001:2022 certificate (sample)" in titles
    assert len(titles) == len(set(titles))  # one hit per document
    status = page.get_by_role("status").inner_text()
    assert status.startswith(f"{len(titles)} result")
    iso = hits.filter(has=page.get_by_role("link", name="ISO/IEC 27001:2022 certificate (sample)"))
    assert "Matching page:" in iso.inner_text()
    link = iso.locator(".hit-pages a").first
    assert re.fullmatch(r"/catalog/[0-9a-f]+/download#page=1", link.get_attribute("href") or "")
    assert iso.locator("mark").first.inner_text().lower() == "applicability"
    screenshot(page, f"grouped-{width}")
