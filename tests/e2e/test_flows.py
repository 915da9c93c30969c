"""Flows a person goes through in a real browser, each with screenshots of what they saw.

Waits are on selectors and text, never on time."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from pypdf import PdfReader

from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e
Shot = Callable[[Any, str], Any]
SignIn = Callable[[Any, str], None]


def test_visitor_sees_the_front_page_and_signs_in(
    page: Any, live_server: LiveServer, screenshot: Shot
) -> None:
    page.goto("/")
    page.get_by_role("heading", name="Trust center").wait_for()
    assert page.title() == "Welcome · Artifact trust center"
    screenshot(page, "front-page")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in").click()
    page.wait_for_url("**/login")
    page.get_by_label("E-mail").fill(live_server.email("customer"))
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").filter(has_text="Invalid e-mail or password.").wait_for()
    screenshot(page, "sign-in-refused")
    page.get_by_label("Password").fill(live_server.password("customer"))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {live_server.email('customer')}.").wait_for()
    assert page.get_by_text("You are signed in as").is_visible()
    screenshot(page, "signed-in")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out.").wait_for()
    screenshot(page, "signed-out")


def test_customer_accepts_the_nda_and_opens_the_certificate(
    page: Any,
    live_server: LiveServer,
    sign_in: SignIn,
    screenshot: Shot,
    download: Callable[[Any, Any], tuple[str, bytes]],
) -> None:
    sign_in(page, "customer")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Agreements").click()
    page.get_by_role("heading", name="My agreements").wait_for()
    screenshot(page, "my-agreements")
    page.get_by_role("link", name="Mutual NDA").click()
    page.get_by_role("heading", name="Mutual NDA", level=1).wait_for()
    assert "sample" in page.locator("article.agreement-text").inner_text().lower()
    name = page.get_by_label("Type your full name to sign")
    page.get_by_role("button", name="Accept").click()  # nothing typed: the browser stops it
    assert name.evaluate("el => el.validity.valueMissing")
    screenshot(page, "nda-incomplete")
    name.fill("Bob Acme")
    page.get_by_role("checkbox").check()
    screenshot(page, "nda-filled")
    page.get_by_role("button", name="Accept").click()
    page.get_by_text("You accepted Mutual NDA, version 1.").wait_for()
    screenshot(page, "nda-accepted")
    page.goto("/agreements/")
    history = page.get_by_role("table", name="Acceptance history")
    history.get_by_text("“Bob Acme”").wait_for()
    screenshot(page, "history")
    certificate = history.get_by_role("link", name="Certificate (PDF)").first
    response = page.request.get(certificate.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")
    filename, pdf = download(page, certificate)
    assert filename.endswith(".pdf")
    assert pdf.startswith(b"%PDF-")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Bob Acme" in text
    assert "Mutual NDA" in text


def test_signed_in_user_browses_frameworks_and_a_regulation(
    page: Any, sign_in: SignIn, screenshot: Shot
) -> None:
    sign_in(page, "auditor")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Frameworks").click()
    page.get_by_role("heading", name="Frameworks and regulations").wait_for()
    screenshot(page, "frameworks")
    page.get_by_role("link", name="ISO/IEC 27001:2022 Annex A (sample)").click()
    page.get_by_role("heading", name="ISO/IEC 27001:2022 Annex A (sample)").wait_for()
    page.locator("summary").filter(has=page.get_by_text("A.8", exact=True)).click()
    page.get_by_text("A.8.24", exact=True).wait_for()  # the group opened in the tree
    screenshot(page, "framework-tree")
    nav.get_by_role("link", name="Regulations").click()
    page.get_by_role("heading", name="Regulations").wait_for()
    page.get_by_role("link", name="GDPR: Regulation (EU) 2016/679 (sample)").click()
    row = page.locator("tr", has=page.get_by_role("rowheader", name="Art.32", exact=True))
    row.wait_for()
    assert "Security of processing" in row.inner_text()
    assert "iso27001-2022:A.8.24" in row.inner_text()
    screenshot(page, "regulation")
