"""Staff and admins in a real browser: a new report version and new evidence uploaded through
the pages, and the audit trail verified. Screenshots of every step."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import pdf_page_texts

pytestmark = pytest.mark.e2e
Shot = Callable[[Any, str], Any]
SignIn = Callable[[Any, str], None]
Download = Callable[[Any, Any], tuple[str, bytes]]
PCI = "PCI DSS v4.0.1 attestation of compliance (sample)"


def make_pdf(path: Path, marker: str) -> Path:
    """A real two-page PDF rendered by WeasyPrint, carrying ``marker`` in its text."""
    from artifact.infra.pdf.render import render_pdf

    html = (
        f"<!doctype html><html lang=en><head><title>{marker}</title></head><body>"
        f"<h1>Attestation update (sample)</h1><p>{marker}</p>"
        "<p style='page-break-before: always'>Second page of the sample.</p></body></html>"
    )
    path.write_bytes(render_pdf(html))
    return path


def test_staff_uploads_a_report_version_and_evidence(
    page: Any, sign_in: SignIn, screenshot: Shot, download: Download, tmp_path: Path
) -> None:
    marker = f"Sample attestation update {secrets.token_hex(4)}"
    pdf = make_pdf(tmp_path / "pci-aoc-2026.pdf", marker)
    sign_in(page, "staff")
    page.goto("/catalog/")
    page.get_by_role("link", name=PCI).click()
    page.get_by_role("heading", name=PCI, level=1).wait_for()
    versions = page.get_by_role("table").filter(has_text="SHA-256")
    before = versions.locator("tbody tr").count()
    page.get_by_label("PDF file").set_input_files(str(pdf))
    screenshot(page, "report-before-upload")
    page.get_by_role("button", name="Upload new version").click()
    stored = page.get_by_text(f"Version {before + 1} stored (SHA-256")
    stored.wait_for()
    latest = versions.locator("tbody tr").first
    assert latest.inner_text().startswith(f"{before + 1} (latest)")
    screenshot(page, "report-version-stored")
    filename, copy = download(page, latest.get_by_role("link", name="Download"))
    # Named by us after the report, its period and version, never the uploaded file's name.
    assert filename == f"{PCI} 2025-06-01 to 2026-05-31 v{before + 1}.pdf"
    pages = pdf_page_texts(copy)
    assert len(pages) == 3  # the cover, then the two pages uploaded
    assert PCI in " ".join(pages[0].split())  # the title may wrap
    assert "Version 2" in pages[0]
    assert marker in pages[1]
    assert all("staff@artifact.test" in text for text in pages)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Evidence").click()
    page.get_by_role("heading", name="Evidence", level=1).wait_for()
    page.get_by_role("link", name="Upload evidence").click()
    title = f"Access review export {secrets.token_hex(3)}"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill("Quarterly access review of production (sample)")
    page.get_by_label("Effective date (when it was collected)").fill(date.today().isoformat())
    page.get_by_label("Requirements it addresses").fill("iso27001-2022:A.5.18")
    page.get_by_label("File").set_input_files(str(make_pdf(tmp_path / "review.pdf", title)))
    screenshot(page, "evidence-filled")
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("Evidence stored as a draft.").wait_for()
    page.get_by_role("heading", name=title, level=1).wait_for()
    assert "A.5.18" in page.locator("main").inner_text()
    screenshot(page, "evidence-stored")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Evidence").click()
    page.get_by_role("link", name=title).wait_for()
    screenshot(page, "evidence-list")


def test_admin_verifies_the_audit_trail(page: Any, sign_in: SignIn, screenshot: Shot) -> None:
    sign_in(page, "admin")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Admin", exact=True).click()
    page.get_by_role("link", name="Audit trail").click()
    page.get_by_role("heading", name="Audit trail", level=1).wait_for()
    events = page.get_by_role("table", name="Audit events")
    assert events.get_by_text("auth.sign_in").count() >= 1
    screenshot(page, "audit-trail")
    page.get_by_role("link", name="Verify the chain").click()
    result = page.get_by_role("status").filter(has_text="events (")
    result.wait_for()
    assert result.inner_text().startswith("ok "), result.inner_text()
    screenshot(page, "audit-verified")
