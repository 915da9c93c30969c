"""Pages kept rendered per account and policy generation (a reader's report page, an agreement's
page, catalog.views.browse and agreements.views): a change shows on the very next visit, and
each session's forms carry that session's own CSRF token, filled in at each request."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from artifact.catalog.services import grants, report_terms, reports
from artifact.extensions import db
from artifact.infra.search import Backend, Entry
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR
from artifact.models import AccessRequest, Report, User
from tests.conftest import sign_in
from tests.fixtures_catalog import make_pdf


def _token_of_form(page: str, action: str) -> str:
    """The CSRF token inside the form that posts to ``action``."""
    form = page[page.index(f'action="{action}"') :]
    form = form[: form.index("</form>")]
    found = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert found, form
    return found.group(1)


def _signed_in(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, user.email).status_code == 302
    return client


@pytest.fixture
def granted(make_report: Callable[..., Report], customer: User) -> Report:
    """A restricted report of the SOC series, granted to the customer."""
    report = make_report("Restricted SOC 2", visibility="restricted", series="SOC")
    grants.create_grant(db.session, OPERATOR, report_id=report.id, user_email=customer.email)
    uow.commit(db.session)
    return report


def test_a_readers_report_page_shows_a_new_version_and_a_purge_at_once(
    login_as: Callable[..., Any], client: FlaskClient, granted: Report, store, customer
) -> None:
    report = granted
    login_as(customer)
    for _ in range(3):  # rendered once, then kept
        page = client.get(f"/catalog/{report.id}").get_data(as_text=True)
        assert "1 (latest)" in page
        assert "2 (latest)" not in page

    reports.add_version(
        db.session, OPERATOR, store, report.id, make_pdf(marker="v2"), "report.pdf", 10**8
    )
    uow.commit(db.session)
    page = client.get(f"/catalog/{report.id}").get_data(as_text=True)
    assert "2 (latest)" in page
    assert "Purged versions" not in page

    reports.purge_version(db.session, OPERATOR, store, report.id, 1)
    uow.commit(db.session)
    assert "Purged versions: 1." in client.get(f"/catalog/{report.id}").get_data(as_text=True)


def test_a_readers_report_page_shows_new_terms_at_once(
    login_as: Callable[..., Any], client: FlaskClient, granted: Report, nda, customer
) -> None:
    report = granted
    login_as(customer)
    for _ in range(2):
        assert "Downloads need" not in client.get(f"/catalog/{report.id}").get_data(as_text=True)
    report_terms.set_terms(db.session, OPERATOR, report.id, nda.id)
    uow.commit(db.session)
    page = client.get(f"/catalog/{report.id}").get_data(as_text=True)
    assert "Downloads need your acceptance of <strong>Mutual NDA</strong>" in page


def test_each_session_of_one_account_gets_its_own_token_in_the_kept_report_page(
    app: Flask, granted: Report, customer
) -> None:
    """The page is kept once for the account; the token in its request form is the session's
    own, so it posts from that session only."""
    report = granted
    first, second = _signed_in(app, customer), _signed_in(app, customer)
    pages = [c.get(f"/catalog/{report.id}").get_data(as_text=True) for c in (first, second)]
    for page in pages:
        assert "Request access to the SOC series" in page
        assert "<csrf-token>" not in page
    first_token, second_token = (_token_of_form(p, "/catalog/access-requests") for p in pages)
    assert first_token != second_token

    def stored() -> int:
        db.session.rollback()
        return int(db.session.scalar(select(func.count()).select_from(AccessRequest)) or 0)

    refused = second.post(
        "/catalog/access-requests", data={"csrf_token": first_token, "series": "SOC"}
    )
    assert refused.status_code == 400
    assert stored() == 0
    sent = second.post(
        "/catalog/access-requests",
        data={"csrf_token": second_token, "series": "SOC", "message": "Vendor review"},
    )
    assert sent.status_code == 302
    assert stored() == 1


def test_the_kept_agreement_page_follows_its_next_target_and_an_acceptance(
    app: Flask, nda, customer
) -> None:
    client = _signed_in(app, customer)
    plain = f"/agreements/{nda.id}"
    onward = f"{plain}?next=/catalog/abc123"
    for _ in range(2):
        page = client.get(onward).get_data(as_text=True)
        assert 'name="next" type="hidden" value="/catalog/abc123"' in page
        page = client.get(plain).get_data(as_text=True)
        assert 'name="next" type="hidden" value=""' in page
    assert "<csrf-token>" not in page

    accepted = client.post(
        f"/agreements/{nda.id}/accept",
        data={
            "csrf_token": _token_of_form(page, f"/agreements/{nda.id}/accept"),
            "typed_name": customer.name,
            "consent": "y",
            "scope": "account",
            "version": "1",
            "text_sha256": nda.current.text_sha256,
        },
    )
    assert accepted.status_code == 302
    page = client.get(plain).get_data(as_text=True)
    assert "You already accepted this version" in page
    assert f'action="/agreements/{nda.id}/accept"' not in page
    assert 'href="/catalog/abc123">Continue to your download' in client.get(onward).get_data(
        as_text=True
    )


def test_the_headers_links_follow_where_the_app_is_mounted(client: FlaskClient) -> None:
    """The header's links are built once per script root (web.templating.link): an app
    mounted under a prefix by its proxy links under that prefix, and the same worker serving
    the root still links from the root."""
    for _ in range(2):
        root = client.get("/").get_data(as_text=True)
        mounted = client.get("/", base_url="http://localhost/trust/").get_data(as_text=True)
        assert 'href="/catalog/"' in root
        assert 'href="/trust/catalog/"' not in root
        assert 'href="/trust/catalog/"' in mounted
        assert 'href="/catalog/"' not in mounted


def test_kept_search_results_follow_a_change_to_the_index_at_once(
    login_as: Callable[..., Any], client: FlaskClient, search_index: Backend, customer
) -> None:
    """A search's results are kept per index state: an entry another process indexes (no
    change to the policy generation here) is found by the very next search."""
    login_as(customer)  # requirements are for signed-in users
    for _ in range(2):
        page = client.get("/search?q=zebrafish").get_data(as_text=True)
        assert '<p role="status">0 results.' in page
    search_index.replace([], [Entry("requirement", "zeb1", "Zebrafish husbandry", "zebrafish")])
    page = client.get("/search?q=zebrafish").get_data(as_text=True)
    assert '<p role="status">1 result.' in page
    assert "Zebrafish husbandry" in page
