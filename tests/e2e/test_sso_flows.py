"""Single sign-on in a real browser: an admin registers an OpenID provider (node's
oidc-provider on loopback) on the admin page; a person of that company clicks "Sign in with"
on the sign-in page, signs in at the provider, and lands signed in here, in the right
organisation. axe-core on our pages; screenshots at 1366 and 390 px."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.test_accessibility import describe, violations
from tests.fixtures_oidc import OidcProvider, running_oidc_provider
from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e
Shot = Callable[[Any, str], Any]
WIDTHS = {"wide": (1366, 900), "narrow": (390, 844)}


@pytest.fixture(scope="module")
def idp(live_server: LiveServer) -> Iterator[OidcProvider]:
    with running_oidc_provider(
        [live_server.url + "/sso/oidc/callback"], [live_server.url + "/login"]
    ) as provider:
        yield provider


def _look(page: Any, screenshot: Shot, what: str, axe: bool = True) -> None:
    for name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        screenshot(page, f"{what}-{name}")
    if axe:
        found = violations(page)
        assert not found, f"{what} ({page.url}):\n{describe(found)}"


def test_a_person_signs_in_through_their_companys_openid_provider(
    axe_page: Any,
    other_page: Any,
    sign_in: Callable[[Any, str], None],
    screenshot: Shot,
    idp: OidcProvider,
) -> None:
    admin = axe_page
    sign_in(admin, "admin")
    admin.goto("/admin/")
    admin.get_by_role("link", name="Single sign-on (identity providers)").click()
    admin.get_by_role("heading", name="Single sign-on", level=1).wait_for()
    admin.get_by_label("Name shown on the sign-in page").fill("Acme Okta")
    admin.get_by_label("Organisation").select_option(label="Acme Health")
    admin.get_by_label("E-mail domains (comma-separated)").fill("acme-sso.test")
    admin.get_by_label('Show a "Sign in with" button').check()
    admin.get_by_label("Group to role").fill("trust-readers=auditor")
    admin.get_by_label("OIDC issuer URL").fill(idp.issuer)
    admin.get_by_label("OIDC client id").fill(idp.client_id)
    admin.get_by_label("OIDC client secret").fill(idp.client_secret)
    _look(admin, screenshot, "sso-admin-form")
    admin.get_by_role("button", name="Register").click()
    admin.get_by_text("Identity provider Acme Okta registered.").wait_for()
    assert idp.client_secret not in admin.content()
    _look(admin, screenshot, "sso-admin-list")

    page = other_page
    page.goto("/login")
    _look(page, screenshot, "sso-sign-in-page", axe=False)
    # The work address leads to the provider too (through a page that moves on by itself: the
    # form-action CSP would stop a redirect chain leaving our origin).
    page.get_by_label("Your work address").fill("dana@acme-sso.test")
    page.get_by_role("button", name="Continue with your company's sign-in").click()
    page.get_by_role("heading", name="Test IdP").wait_for()
    page.goto("/login")
    page.get_by_role("link", name="Sign in with Acme Okta").click()
    page.get_by_role("heading", name="Test IdP").wait_for()  # the provider's own page
    page.get_by_label("E-mail").fill("dana@acme-sso.test")
    page.get_by_label("Name").fill("Dana Sso")
    page.get_by_label("Groups").fill("trust-readers")
    page.get_by_role("button", name="Sign in at the IdP").click()
    page.get_by_text("Signed in as dana@acme-sso.test").wait_for()
    assert page.url == idp_free(page.url)
    _look(page, screenshot, "sso-signed-in", axe=False)
    page.goto("/account")
    organisation = page.locator("dt:has-text('Organisation') + dd")
    assert organisation.inner_text() == "Acme Health"
    _look(page, screenshot, "sso-account", axe=False)


def idp_free(url: str) -> str:
    """The page is ours (not the provider's)."""
    assert ":" in url
    assert "/sso/" not in url
    return url
