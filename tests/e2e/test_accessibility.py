"""axe-core (from the npm registry, pinned in package-lock.json) on the main pages: a serious or
critical violation fails the test, naming the rule, the help text and the offending elements."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import AXE_JS
from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e
FAILING_IMPACTS = ("serious", "critical")
# (who, path or (path, the links to follow from it, in turn), what the page is)
DEMO_AUDIT = "ISO/IEC 27001:2022 surveillance audit (demo)"
PAGES = [
    (None, "/", "front page"),
    (None, "/login", "sign-in"),
    ("customer", "/account/", "account"),
    ("customer", "/agreements/", "agreements list"),
    ("customer", ("/agreements/", "Mutual NDA"), "agreement page"),
    ("org_admin", ("/agreements/", "Business Associate Agreement"), "agreement page (org admin)"),
    ("auditor", "/frameworks", "frameworks list"),
    ("auditor", ("/frameworks", "ISO/IEC 27001:2022 Annex A (sample)"), "framework tree"),
    ("auditor", "/regulations", "regulations list"),
    ("auditor", "/regulations/gdpr", "regulation page"),
    ("staff", ("/agreements/", "All acceptances"), "acceptance register"),
    ("admin", "/admin/", "admin"),
    ("admin", "/admin/agreements/", "agreements admin"),
    (None, "/catalog/", "catalog"),
    ("customer", "/catalog/", "catalog (customer)"),
    ("customer", ("/catalog/", "SOC 2 Type II report 2025 (sample)"), "report page"),
    ("staff", ("/catalog/", "SOC 2 Type II report 2025 (sample)"), "report page (staff)"),
    ("other_customer", ("/catalog/", "SOC 2 Type II report 2025 (sample)"), "locked report page"),
    ("other_customer", "/catalog/requests/mine", "my requests"),
    ("staff", "/catalog/requests", "access requests queue"),
    ("customer", "/search?q=SOC+report", "search page"),
    ("staff", "/evidence", "evidence list"),
    ("staff", ("/regulations/gdpr", "Coverage and freshness"), "coverage page"),
    ("admin", "/admin/audit/", "audit page"),
    ("customer", "/subscriptions", "subscriptions"),
    ("staff", "/subscriptions", "subscriptions (staff)"),
    ("admin", "/admin/queue", "job queue"),
    ("auditor", "/engagements/", "my engagements"),
    ("auditor", ("/engagements/", DEMO_AUDIT), "engagement page (auditor)"),
    (
        "auditor",
        ("/engagements/", DEMO_AUDIT, "User access reviews"),
        "request page (auditor)",
    ),
    ("staff", "/engagements/", "engagements list"),
    ("staff", "/engagements/new", "new engagement"),
    ("staff", ("/engagements/", DEMO_AUDIT), "engagement page (staff)"),
    (
        "staff",
        ("/engagements/", DEMO_AUDIT, "Information security policy and its approval"),
        "request page (staff)",
    ),
    ("staff", ("/engagements/", DEMO_AUDIT, "Close engagement…"), "close engagement confirmation"),
]


def violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is; the serious and critical violations."""
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    assert len(result["passes"]) >= 10, "axe-core checked almost nothing: is the page empty?"
    return [v for v in result["violations"] if v["impact"] in FAILING_IMPACTS]


def describe(found: list[dict[str, Any]]) -> str:
    return json.dumps(
        [
            {
                "rule": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
            }
            for v in found
        ],
        indent=1,
    )


@pytest.mark.parametrize(("who", "where", "what"), PAGES, ids=[p[2] for p in PAGES])
def test_no_serious_accessibility_violations(
    axe_page: Any,
    live_server: LiveServer,
    sign_in: Callable[[Any, str], None],
    screenshot: Callable[[Any, str], Any],
    who: str | None,
    where: Any,
    what: str,
) -> None:
    if who is not None:
        sign_in(axe_page, who)
    path, *links = (where,) if isinstance(where, str) else where
    response = axe_page.goto(path)
    assert response is not None
    assert response.status == 200, f"{path} answered {response.status}"
    if not links:  # the page itself, not a gate or sign-in page it redirected to
        here, asked = urlsplit(axe_page.url), urlsplit(path)
        assert (here.path, here.query) == (asked.path, asked.query), f"{path} led to {axe_page.url}"
    for link in links:
        before = urlsplit(axe_page.url).path
        axe_page.get_by_role("link", name=link).first.click()
        axe_page.wait_for_load_state()
        assert urlsplit(axe_page.url).path != before, f"{link!r} on {before} led nowhere"
    axe_page.locator("main h1").first.wait_for()
    screenshot(axe_page, what.replace(" ", "-"))
    found = violations(axe_page)
    assert not found, f"{what} ({axe_page.url}):\n{describe(found)}"
