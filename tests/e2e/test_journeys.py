"""The journeys of issue 13 in a real browser, on a laptop (1366x900) and a phone (390x844):
the agreement page that says who signs for whom, the record after accepting, a destructive
action's confirmation step, the staff analytics page and the 403/404 pages. axe-core runs on
every page; screenshots of each step are under tests/e2e/screenshots/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.conftest import AXE_JS, _new_page, _unavailable
from tests.e2e.test_accessibility import describe, violations
from tests.e2e.test_catalog_flows import new_customer
from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e
Shot = Callable[[Any, str], Any]
SignIn = Callable[[Any, str], None]
VIEWPORTS = {"laptop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=sorted(VIEWPORTS))
def view(request: pytest.FixtureRequest, browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A page at a laptop's and a phone's size, axe-core injectable despite the CSP."""
    if not AXE_JS.exists():
        _unavailable(f"accessibility tests skipped: {AXE_JS} is absent")
    viewport = VIEWPORTS[request.param]
    yield from _new_page(browser, live_server, bypass_csp=True, viewport=viewport)


def clean(page: Any, what: str) -> None:
    """No serious or critical axe-core violation, nothing wider than the window and no button
    off screen (but for those in a table that scrolls sideways inside its own box)."""
    found = violations(page)
    assert not found, f"{what} ({page.url}):\n{describe(found)}"
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{what}: the page is {overflow}px wider than the window"
    offscreen = page.evaluate(
        """() => [...document.querySelectorAll('main button, main .button')]
            .filter(b => b.offsetParent !== null && !b.closest('.table-scroll'))
            .filter(b => { const r = b.getBoundingClientRect();
                           return r.left < 0 || r.right > window.innerWidth; })
            .map(b => b.textContent.trim())"""
    )
    assert offscreen == [], f"{what}: buttons off screen: {offscreen}"


def test_agreement_page_states_signer_and_organisation_then_the_record(
    view: Any, live_server: LiveServer, sign_in: SignIn, screenshot: Shot
) -> None:
    email = new_customer(live_server, "Globex")
    sign_in(view, email)
    view.goto("/agreements/")
    view.get_by_role("link", name="Mutual NDA").first.click()
    view.get_by_role("heading", name="Mutual NDA", level=1).wait_for()
    signer = view.locator("p.signer")
    statement = " ".join(signer.inner_text().split())
    assert statement.startswith(f"You are accepting as Dana Globex, {email}, for yourself only")
    assert "Globex" in statement
    assert view.get_by_role("link", name="Printable version").is_visible()
    assert view.locator("article.agreement-text h2").count() >= 3  # the text's headings
    signer.scroll_into_view_if_needed()
    screenshot(view, "agreement-signer")
    clean(view, "agreement page")

    view.get_by_label("Type your full name to sign").fill("Mickey Mouse")
    view.get_by_role("checkbox").check()
    view.get_by_role("button", name="Accept").click()
    view.get_by_text("Type your name as it is on your account: “Dana Globex”").wait_for()
    view.get_by_label("Type your full name to sign").scroll_into_view_if_needed()
    screenshot(view, "agreement-name-refused")
    clean(view, "agreement page with a refused name")

    view.get_by_label("Type your full name to sign").fill("dana  globex")
    view.get_by_role("checkbox").check()
    view.get_by_role("button", name="Accept").click()
    view.get_by_role("heading", name="Mutual NDA: acceptance record").wait_for()
    record = " ".join(view.locator("dl.facts").inner_text().split())
    assert f"dana globex (typed name), account {email}" in record
    assert "Dana Globex only (member of Globex)" in record
    assert view.get_by_role("link", name="Download the certificate (PDF)").is_visible()
    screenshot(view, "acceptance-record")
    clean(view, "acceptance record")

    view.goto("/agreements/")
    view.get_by_role("link", name="Mutual NDA").first.click()
    view.get_by_text("You already accepted this version on ").wait_for()
    assert view.get_by_role("button", name="Accept").count() == 0
    screenshot(view, "agreement-already-accepted")

    view.goto(view.get_by_role("link", name="Printable version").get_attribute("href"))
    view.emulate_media(media="print")
    screenshot(view, "agreement-printable")
    view.emulate_media(media="screen")


def test_org_admin_sees_whom_they_can_bind(view: Any, sign_in: SignIn, screenshot: Shot) -> None:
    sign_in(view, "org_admin")
    view.goto("/agreements/")
    view.get_by_role("link", name="Business Associate Agreement").first.click()
    view.get_by_role("heading", name="Business Associate Agreement", level=1).wait_for()
    statement = " ".join(view.locator("p.signer").inner_text().split())
    assert statement.startswith(
        "You are accepting as Alice Acme, alice@acme-health.test, for Acme Health"
    )
    view.get_by_role("group", name="Accept for").scroll_into_view_if_needed()
    screenshot(view, "agreement-org-admin")
    clean(view, "agreement page (org admin)")


def test_terminating_asks_first(
    view: Any, live_server: LiveServer, sign_in: SignIn, screenshot: Shot
) -> None:
    email = new_customer(live_server, "Globex")
    sign_in(view, email)
    view.goto("/agreements/")
    view.get_by_role("link", name="Mutual NDA").first.click()
    view.get_by_label("Type your full name to sign").fill("Dana Globex")
    view.get_by_role("checkbox").check()
    view.get_by_role("button", name="Accept").click()
    view.get_by_role("heading", name="Mutual NDA: acceptance record").wait_for()

    view.goto("/agreements/")
    screenshot(view, "agreements-with-terminate")
    clean(view, "my agreements")
    view.get_by_role("link", name="Terminate…").first.click()
    view.get_by_role("heading", name="Terminate Mutual NDA?").wait_for()
    consequences = view.locator("ul.consequences").inner_text()
    assert "ends for you, effective now" in consequences
    assert "cannot be downloaded until it is accepted again" in consequences
    screenshot(view, "terminate-confirm")
    clean(view, "terminate confirmation")
    view.get_by_role("link", name="Cancel").click()
    view.get_by_role("heading", name="My agreements").wait_for()
    assert view.get_by_role("link", name="Terminate…").count() == 1  # nothing changed

    view.get_by_role("link", name="Terminate…").click()
    view.get_by_label("Reason (optional)").fill("Evaluation over")
    view.get_by_role("button", name="Terminate Mutual NDA").click()
    view.get_by_text("Terminated 1 acceptance(s), effective now.").wait_for()
    assert view.get_by_role("link", name="Terminate…").count() == 0
    screenshot(view, "terminated")


def test_staff_read_the_analytics(view: Any, sign_in: SignIn, screenshot: Shot) -> None:
    sign_in(view, "staff")
    view.goto("/catalog/")  # a download of our own, so there is something to count
    view.get_by_role("link", name="ISO/IEC 27001:2022 certificate (sample)").first.click()
    href = view.get_by_role("link", name="Download").first.get_attribute("href")
    assert view.request.get(href).status == 200
    view.goto("/analytics/")
    view.get_by_role("heading", name="Download analytics", level=1).wait_for()
    view.get_by_label("From", exact=True).fill("2000-01-01")
    view.get_by_label("To", exact=True).fill("2100-12-31")
    view.get_by_role("button", name="Show").click()
    view.get_by_role("img", name="Downloads and acceptances by report").wait_for()
    table = view.get_by_role("table", name="Downloads and acceptances by report")
    assert "ISO/IEC 27001:2022 certificate (sample)" in table.inner_text()  # names, not ids
    screenshot(view, "analytics-by-report")
    clean(view, "analytics by report")
    view.get_by_label("By", exact=True).select_option("organization")
    view.get_by_role("button", name="Show").click()
    view.get_by_role("table", name="Downloads and acceptances by organisation").wait_for()
    screenshot(view, "analytics-by-organisation")
    clean(view, "analytics by organisation")
    view.get_by_label("By", exact=True).select_option("week")
    view.get_by_role("button", name="Show").click()  # 2000 to 2100: too many weeks to draw
    view.get_by_role("alert").filter(has_text="spans more than").wait_for()
    screenshot(view, "analytics-refused")
    view.get_by_label("From", exact=True).fill("2026-01-01")
    view.get_by_label("To", exact=True).fill("2026-12-31")
    view.get_by_role("button", name="Show").click()
    view.get_by_role("table", name="Downloads and acceptances by week").wait_for()
    screenshot(view, "analytics-by-week")
    response = view.request.get(
        view.get_by_role("link", name="Export as CSV").get_attribute("href")
    )
    assert response.status == 200
    assert response.text().splitlines()[0] == "week,key,downloads,acceptances"


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_signed_in_header_stays_on_one_line(
    page: Any, sign_in: SignIn, screenshot: Shot, role: str
) -> None:
    """At 1366 and 1280 px the header of the role with the most links does not wrap."""
    sign_in(page, role)
    for width in (1366, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/catalog/")
        height = page.locator("header.site .bar").bounding_box()["height"]
        screenshot(page, f"header-{width}")
        assert height < 64, f"the {role}'s header wraps at {width}px ({height}px tall)"
        wide = page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= width, f"the {role}'s header runs off the screen at {width}px ({wide}px)"
        sign_out = page.get_by_role("button", name="Sign out").bounding_box()
        assert sign_out["x"] + sign_out["width"] <= width, f"Sign out is cut off at {width}px"
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/catalog/")
    screenshot(page, "header-390")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the {role}'s page is {width}px wide on a phone"


def test_403_and_404_pages_speak_to_people(view: Any, sign_in: SignIn, screenshot: Shot) -> None:
    sign_in(view, "customer")
    response = view.goto("/analytics/")
    assert response.status == 403
    view.get_by_role("heading", name="You don't have access to this page").wait_for()
    assert view.get_by_role("link", name="Back to the trust center").is_visible()
    screenshot(view, "forbidden")
    clean(view, "403 page")
    response = view.goto("/catalog/0123456789abcdef0123456789abcdef")
    assert response.status == 404
    view.get_by_role("heading", name="We couldn't find this page").wait_for()
    screenshot(view, "not-found")
    clean(view, "404 page")
