"""Browser-test fixtures: Debian's chromium driven by Playwright against a live server.

The browser is never downloaded: Playwright launches ``/usr/bin/chromium``. Where it is absent
every test here is skipped with a message saying how to enable them."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import LiveServer, migrate_and_seed, serve

CHROMIUM = Path("/usr/bin/chromium")
SKIP_REASON = (
    "browser tests skipped: /usr/bin/chromium is absent "
    "(enable them with `apt-get install chromium`)"
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"


# CI sets E2E_REQUIRED=1: there a missing browser or axe-core is a failure, not a skip.
REQUIRED = os.environ.get("E2E_REQUIRED") == "1"


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason}; E2E_REQUIRED=1 says they must run", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            if not CHROMIUM.exists() and not REQUIRED:
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app on loopback over a migrated, demo-seeded SQLite data directory (one per run)."""
    data_dir = tmp_path_factory.mktemp("e2e") / "data"
    passwords = migrate_and_seed(data_dir)
    with serve(data_dir, passwords) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, with a fresh profile (Playwright makes a temporary one)."""
    if not CHROMIUM.exists():
        _unavailable(SKIP_REASON)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _new_page(browser: Any, live_server: LiveServer, **context_options: Any) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server.url, accept_downloads=True, **context_options
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A page in its own browser context (own cookies), with the site's CSP in force."""
    yield from _new_page(browser, live_server)


@pytest.fixture
def other_page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A second person's page, in a browser context of its own (own cookies)."""
    yield from _new_page(browser, live_server)


@pytest.fixture
def axe_page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A page whose context lets Playwright inject axe-core despite the site's CSP (which
    refuses inline scripts, as it should)."""
    if not AXE_JS.exists():
        _unavailable(
            f"accessibility tests skipped: {AXE_JS} is absent "
            "(`make test` installs it with npm; install Node.js and npm)"
        )
    yield from _new_page(browser, live_server, bypass_csp=True)


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """``screenshot(page, "what")`` saves a full-page PNG under tests/e2e/screenshots/."""
    counter = iter(range(1, 100))
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")

    def take(page: Any, what: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{test_name}-{next(counter):02d}-{what}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def download() -> Callable[[Any, Any], tuple[str, bytes]]:
    """``download(page, locator)`` clicks a download link or button the way a person does and
    returns (the file name the browser was offered, the bytes it saved)."""

    def do(page: Any, locator: Any) -> tuple[str, bytes]:
        with page.expect_download() as info:
            locator.click()
        saved = info.value
        with open(saved.path(), "rb") as handle:
            return saved.suggested_filename, handle.read()

    return do


def pdf_page_texts(pdf: bytes) -> list[str]:
    """The extracted text of each page of a PDF."""
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture
def sign_in(live_server: LiveServer) -> Callable[[Any, str], None]:
    """``sign_in(page, "customer")`` signs in through the form as that demo role (admin,
    staff, auditor, org_admin, customer, other_customer) or a demo e-mail address."""

    def do(page: Any, role: str) -> None:
        page.goto("/login")
        page.get_by_label("E-mail").fill(live_server.email(role))
        page.get_by_label("Password").fill(live_server.password(role))
        page.get_by_role("button", name="Sign in").click()
        email = live_server.email(role)
        factors = live_server.factors
        if email in factors:  # staff and admins answer the second step
            page.get_by_label("Code from your authenticator app").fill(factors[email].code())
            page.get_by_role("button", name="Sign in").click()
        page.get_by_text(f"Signed in as {email}").wait_for()

    return do
