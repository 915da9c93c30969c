"""The catalog in a real browser: a visitor downloads a public certificate; a customer without
a grant asks for the SOC series, staff approve, and the customer goes through the NDA to the
watermarked report and the acceptance certificate. Screenshots of every step."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import pdf_page_texts
from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e
Shot = Callable[[Any, str], Any]
SignIn = Callable[[Any, str], None]
Download = Callable[[Any, Any], tuple[str, bytes]]
RECEIPT = re.compile(r"receipt ([0-9a-f]{20})")
SOC2 = "SOC 2 Type II report 2025 (sample)"
ISO = "ISO/IEC 27001:2022 certificate (sample)"


def new_customer(server: LiveServer, organization: str) -> str:
    """A customer of ``organization`` made through the accounts service (no grants of their
    own); returns the e-mail, whose password the server's fixture now knows."""
    from artifact.extensions import db
    from artifact.identity.services import accounts
    from artifact.kernel import uow
    from artifact.kernel.caller import OPERATOR

    email = f"dana-{secrets.token_hex(3)}@globex.test"
    password = secrets.token_urlsafe(12)
    with server.app.app_context():
        accounts.create_user(
            db.session,
            OPERATOR,
            email=email,
            role="customer",
            password=password,
            name="Dana Globex",
            organization=organization,
        )
        uow.commit(db.session)  # the test owns this unit of work
        db.session.remove()
    server.passwords[email] = password
    return email


def test_visitor_browses_the_catalog_and_downloads_a_public_certificate(
    page: Any, screenshot: Shot, download: Download
) -> None:
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog").click()
    page.get_by_role("heading", name="Catalog", level=1).wait_for()
    assert page.get_by_role("link", name=ISO).is_visible()
    assert page.get_by_role("link", name=SOC2).count() == 0  # restricted: not even listed
    screenshot(page, "catalog")
    page.get_by_role("link", name=ISO).click()
    page.get_by_role("heading", name=ISO, level=1).wait_for()
    assert "public" in page.locator("table.facts").inner_text()
    screenshot(page, "certificate-page")
    filename, pdf = download(page, page.get_by_role("link", name="Download").first)
    assert filename.endswith(".pdf")
    assert pdf.startswith(b"%PDF-")
    pages = pdf_page_texts(pdf)
    cover = pages[0]
    # A public document names its recipient and receipt but claims no confidentiality.
    assert "Artifact trust center · public document" in cover
    assert "confidential" not in " ".join(pages).lower()
    assert ISO in " ".join(cover.split())
    assert "anonymous visitor" in cover
    receipt = RECEIPT.search(cover)
    assert receipt, cover
    assert all(receipt.group(1) in text for text in pages)  # every page carries the receipt
    assert any("ISO/IEC 27001" in text for text in pages[1:])  # the certificate itself follows


def test_customer_requests_access_is_approved_accepts_the_nda_and_downloads(
    page: Any,
    other_page: Any,
    live_server: LiveServer,
    sign_in: SignIn,
    screenshot: Shot,
    download: Download,
) -> None:
    email = new_customer(live_server, "Globex")
    sign_in(page, email)
    page.goto("/catalog/")
    # Restricted and listed: a locked card with the catalog facts and a way to ask.
    card = page.locator("li.report.locked", has=page.get_by_role("link", name=SOC2))
    card.get_by_text("Locked").wait_for()
    screenshot(page, "catalog-locked-card")
    card.get_by_role("link", name=f"Request access to {SOC2}").click()
    page.get_by_text("This report is shared on request").wait_for()
    assert page.get_by_role("link", name="Download").count() == 0
    page.get_by_label("Why do you need access?").fill("Vendor review of Artifact Cloud")
    screenshot(page, "locked-page-request-filled")
    page.get_by_role("button", name="Request access").click()
    page.get_by_text("Your request was sent to the compliance team.").wait_for()
    screenshot(page, "request-sent")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My requests").click()
    page.get_by_role("heading", name="My requests", level=1).wait_for()
    page.get_by_text("Waiting for the compliance team.").wait_for()
    screenshot(page, "my-requests-pending")

    approve_request(other_page, sign_in, screenshot, email)
    page.goto("/catalog/requests/mine")
    page.get_by_text("Approved on").wait_for()
    screenshot(page, "my-requests-approved")

    page.goto("/catalog/")
    page.get_by_role("link", name=SOC2).click()
    page.get_by_role("heading", name=SOC2, level=1).wait_for()
    page.get_by_text("Downloads need your acceptance of").wait_for()
    screenshot(page, "report-needs-nda")
    page.get_by_role("link", name="Download").first.click()
    page.get_by_role("heading", name="Mutual NDA", level=1).wait_for()  # sent to the NDA
    assert "next=" in page.url
    assert "download" in page.url
    page.get_by_label("Type your full name to sign").fill("Dana Globex")
    page.get_by_role("checkbox").check()
    screenshot(page, "nda-filled")
    page.get_by_role("button", name="Accept").click()
    page.get_by_role("heading", name="Mutual NDA: acceptance record").wait_for()
    screenshot(page, "nda-record")
    # The record, then on to the download the NDA stood in front of.
    filename, pdf = download(page, page.get_by_role("link", name="Continue to your download"))
    assert filename.endswith(".pdf")
    pages = pdf_page_texts(pdf)
    assert len(pages) >= 2
    assert all(email in text for text in pages), "a page lacks the watermark"
    assert SOC2 in " ".join(pages[0].split())
    assert "Dana Globex" in pages[0]

    page.goto("/agreements/")
    history = page.get_by_role("table", name="Acceptance history")
    history.get_by_text("“Dana Globex”").wait_for()
    screenshot(page, "acceptance-history")
    certificate = history.get_by_role("link", name="Certificate (PDF)").first
    _name, certificate_pdf = download(page, certificate)
    text = " ".join(pdf_page_texts(certificate_pdf))
    assert "Dana Globex" in text
    assert "Mutual NDA" in text
    assert email in text
    page.goto("/catalog/?series=SOC+2")
    page.get_by_role("link", name=SOC2).wait_for()
    screenshot(page, "soc-series-open")


def approve_request(page: Any, sign_in: SignIn, screenshot: Shot, email: str) -> None:
    """Staff (with their second factor) approve the pending request from ``email``."""
    sign_in(page, "staff")
    page.goto("/catalog/")
    page.get_by_role("link", name="Access requests and grants").click()
    page.get_by_role("heading", name="Access requests", level=1).wait_for()
    row = page.locator("tr", has_text=email)
    assert SOC2 in row.inner_text()
    assert "Globex" in row.inner_text()
    screenshot(page, "staff-requests")
    row.get_by_role("button", name="Approve").click()
    page.get_by_text("Request approved.").wait_for()
    decided = page.locator("tr", has_text=email)
    assert decided.get_by_role("button", name="Approve").count() == 0  # no longer pending
    assert SOC2 in decided.inner_text()  # a live grant now
    screenshot(page, "staff-approved")
