"""Search never shows what the policy hides: hits, totals, facets and snippets, on both
backends, through every form of query."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from artifact.agreements.services import acceptance as agreements_accept
from artifact.catalog.services import grants, report_terms, reports
from artifact.extensions import db
from artifact.infra.search import Backend
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR, Caller
from artifact.models import Agreement, Report, User
from tests.fixtures_catalog import make_pdf

SECRET = "zanzibarquartz"  # appears only in the restricted report's file


@pytest.fixture
def restricted(make_report: Callable[..., Report], customer: User, search_index: Backend) -> Report:
    report = make_report(
        "Acme Penetration Test",
        visibility="restricted",
        series="PENTEST",
        frameworks=["SOC 2"],
        period_start="2025-01-01",
        period_end="2025-12-31",
        pdf=make_pdf(pages=3, marker=f"{SECRET} finding"),
    )
    grants.create_grant(db.session, OPERATOR, report_id=report.id, organization="Acme Health")
    uow.commit(db.session)
    return report


@pytest.fixture
def public(make_report: Callable[..., Report], search_index: Backend) -> Report:
    return make_report(
        "ISO 27001 Certificate",
        visibility="public",
        series="ISO",
        category="certifications",
        pdf=make_pdf(pages=2, marker="certified"),
    )


QUERIES = [
    {"q": SECRET},
    {"q": f'"{SECRET} finding"'},
    {"q": SECRET[:6] + "*"},
    {"q": "Penetration"},
    {"q": "series:pentest"},
    {"q": "category:reports"},
    {"q": 'framework:"SOC 2"'},
    {"q": "year:2025"},
    {"q": ""},
    {"q": "", "series": "PENTEST"},
    {"q": "type:report"},
    {"q": "-nothing"},
]


@pytest.mark.parametrize("params", QUERIES, ids=[str(p) for p in QUERIES])
def test_restricted_report_is_invisible_to_another_organisation(
    restricted: Report,
    public: Report,
    hostile: User,
    customer: User,
    search_api: Callable[..., Any],
    params: dict[str, str],
) -> None:
    """Hidden: nothing of it, whatever the query."""
    reports.update_report(db.session, OPERATOR, restricted.id, {"listing": "hidden"})
    uow.commit(db.session)
    status, body = search_api(hostile, **params)
    assert status == 200
    assert all(hit["id"] != restricted.id for hit in body["hits"])
    text = repr(body)
    for leak in (SECRET, "Penetration", "pentest", "soc 2", "2025"):
        assert leak.lower() not in text.lower()
    # Only the public certificate (its metadata and two pages) may be counted.
    assert body["total"] <= 3
    assert sum(body["facets"]["type"].values()) == body["total"]
    assert "reports" not in body["facets"]["category"]


@pytest.mark.parametrize("params", QUERIES, ids=[str(p) for p in QUERIES])
def test_a_listed_restricted_report_shows_locked_by_its_facts_never_its_text(
    restricted: Report,
    public: Report,
    hostile: User,
    customer: User,
    search_api: Callable[..., Any],
    params: dict[str, str],
) -> None:
    """Listed (the default): another organisation may find it by its catalog facts, as a
    locked hit without pages, never by a word of its file."""
    status, body = search_api(hostile, **params)
    assert status == 200
    mine = [hit for hit in body["hits"] if hit["id"] == restricted.id]
    assert all(hit["locked"] and hit["pages"] == [] for hit in mine)
    assert SECRET not in repr(body).lower()
    if params["q"] == "Penetration":
        assert mine, "its title finds it, locked"
    if SECRET in params["q"]:
        assert not mine
    # Only the public certificate (its metadata and two pages) is counted from the index; a
    # locked hit counts as one document and has no facets.
    assert body["total"] - len(mine) <= 3
    assert sum(body["facets"]["type"].values()) == body["total"] - len(mine)
    assert "reports" not in body["facets"]["category"]
    # The customer of the granted organisation finds it by the same query, open (can fail).
    status, theirs = search_api(customer, **params)
    assert status == 200
    assert all(not hit["locked"] for hit in theirs["hits"] if hit["id"] == restricted.id)
    assert theirs["total"] > body["total"] - len(mine)


def test_restricted_report_is_invisible_to_visitors(
    restricted: Report, public: Report, search_api: Callable[..., Any]
) -> None:
    for params in QUERIES:
        _status, body = search_api(None, **params)
        assert all(hit["id"] != restricted.id for hit in body["hits"]), params
        assert "pentest" not in repr(body["facets"]).lower()


def test_customer_sees_page_hits_with_highlighted_snippets(
    restricted: Report, customer: User, search_api: Callable[..., Any]
) -> None:
    _status, body = search_api(customer, q=SECRET)
    assert body["total"] == 1  # one hit per document, naming its pages
    assert [(h["id"], sorted(h["pages"])) for h in body["hits"]] == [(restricted.id, [1, 2, 3])]
    assert f"<mark>{SECRET}</mark>" in body["hits"][0]["snippet"]
    assert body["facets"]["series"] == {"pentest": 1}


@pytest.fixture
def gated(make_report: Callable[..., Report], nda: Agreement, search_index: Backend) -> Report:
    report = make_report(
        "Bridge Assessment",
        visibility="customers",
        pdf=make_pdf(pages=2, marker="quokkavault inside"),
    )
    report_terms.set_terms(db.session, OPERATOR, report.id, nda.id)
    uow.commit(db.session)
    return report


def test_terms_gate_hides_file_snippets_until_accepted(
    gated: Report, nda: Agreement, customer: User, search_api: Callable[..., Any]
) -> None:
    _status, body = search_api(customer, q="Bridge")
    assert [(h["id"], h["pages"], h["version"]) for h in body["hits"]] == [(gated.id, [], None)]
    assert "quokkavault" not in repr(body)
    _status, body = search_api(customer, q="quokkavault")
    assert body["total"] == 0
    assert body["hits"] == []
    assert sum(body["facets"]["type"].values()) == 0

    agreements_accept.accept(
        db.session,
        Caller.of_user(customer),
        nda.id,
        version=1,
        typed_name="Carla Customer",
        scope="account",
    )
    uow.commit(db.session)
    _status, body = search_api(customer, q="quokkavault")
    assert body["total"] == 1
    assert [sorted(h["pages"]) for h in body["hits"]] == [[1, 2]]
    assert "<mark>quokkavault</mark>" in body["hits"][0]["snippet"]


def test_staff_see_file_snippets_without_accepting_terms(
    gated: Report, public: Report, nda: Agreement, staff: User, search_api: Callable[..., Any]
) -> None:
    """Staff are the provider: the customer terms gate is not theirs (policy.may_download), so
    the pages of a gated report are found for them as its download is served to them."""
    _status, body = search_api(staff, q="quokkavault")
    assert [(h["id"], sorted(h["pages"])) for h in body["hits"]] == [(gated.id, [1, 2])]
    assert [h["id"] for h in search_api(staff, q="certified")[1]["hits"]] == [public.id]


def test_index_follows_retire_grants_and_new_versions(
    restricted: Report, customer: User, search_api: Callable[..., Any]
) -> None:
    reports.add_version(
        db.session,
        OPERATOR,
        _store(),
        restricted.id,
        make_pdf(pages=1, marker="walrusledger"),
        "v2.pdf",
        10**8,
    )
    uow.commit(db.session)
    _status, body = search_api(customer, q=SECRET)
    assert body["total"] == 0  # the old version is no longer current
    _status, body = search_api(customer, q=f"{SECRET} version:all")
    assert [(h["version"], h["current"]) for h in body["hits"]] == [(1, False)]
    _status, body = search_api(customer, q="walrusledger")
    assert [(h["pages"], h["version"], h["current"]) for h in body["hits"]] == [([1], 2, True)]

    grant = grants.list_grants(db.session, OPERATOR)[0]
    grants.revoke_grant(db.session, OPERATOR, grant.id)
    uow.commit(db.session)
    _status, body = search_api(customer, q="walrusledger")
    assert body["total"] == 0
    grants.create_grant(db.session, OPERATOR, series="PENTEST", organization="Acme Health")
    uow.commit(db.session)
    assert search_api(customer, q="walrusledger")[1]["total"] == 1
    reports.set_state(db.session, OPERATOR, restricted.id, "retired")
    uow.commit(db.session)
    _status, body = search_api(customer, q="Penetration")
    assert body["total"] == 0


def _store() -> Any:
    from flask import current_app

    from artifact.infra.storage import store_for

    return store_for(current_app)


def test_staff_find_drafts_that_customers_cannot(
    make_report: Callable[..., Report],
    staff: User,
    customer: User,
    search_api: Callable[..., Any],
    search_index: Backend,
) -> None:
    draft = make_report(
        "Draft Roadmap",
        visibility="public",
        state="draft",
        pdf=make_pdf(pages=1, marker="okapiplan"),
    )
    assert search_api(customer, q="okapiplan")[1]["total"] == 0
    _status, body = search_api(staff, q="okapiplan")
    assert [h["id"] for h in body["hits"]] == [draft.id]


def test_snippets_escape_what_the_document_says(
    make_report: Callable[..., Report],
    customer: User,
    search_api: Callable[..., Any],
    search_index: Backend,
) -> None:
    make_report(
        "Escaping",
        visibility="public",
        description='<script>alert("x")</script> & lemurtext <b>bold</b>',
    )
    _status, body = search_api(customer, q="lemurtext")
    snippet = body["hits"][0]["snippet"]
    assert "<script>" not in snippet
    assert "<b>" not in snippet
    assert "&lt;script&gt;" in snippet
    assert "<mark>lemurtext</mark>" in snippet
