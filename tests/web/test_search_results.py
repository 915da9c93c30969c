"""Issue 15's acceptance through the API, on both backends: one hit per document with its pages,
every version indexed (``version:all``), typo suggestions drawn only from documents in the
caller's scope, and staff searching inside the NDA-gated reports they administer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from artifact.catalog.services import grants, report_terms, reports
from artifact.extensions import db
from artifact.infra.search import Backend
from artifact.infra.search.backend import PAGES_PER_HIT
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR
from artifact.models import Agreement, Report, User
from tests.fixtures_catalog import make_pdf


def _store() -> Any:
    from flask import current_app

    from artifact.infra.storage import store_for

    return store_for(current_app)


def test_a_report_with_thirty_matching_pages_is_one_hit_with_its_pages(
    make_report: Callable[..., Report],
    customer: User,
    search_api: Callable[..., Any],
    search_index: Backend,
) -> None:
    report = make_report(
        "Thirty", visibility="customers", pdf=make_pdf(pages=30, marker="firewall ruleset")
    )
    _status, body = search_api(customer, q='"firewall ruleset"')
    assert body["total"] == 1
    [hit] = body["hits"]
    assert (hit["type"], hit["id"], hit["version"], hit["current"]) == (
        "report",
        report.id,
        1,
        True,
    )
    assert len(hit["pages"]) == PAGES_PER_HIT == len(set(hit["pages"]))
    assert set(hit["pages"]) <= set(range(1, 31))
    assert "<mark>firewall ruleset</mark>" in hit["snippet"]
    assert body["facets"]["type"] == {"report": 1}


def test_version_all_finds_a_word_only_in_version_one(
    make_report: Callable[..., Report],
    customer: User,
    search_api: Callable[..., Any],
    search_index: Backend,
) -> None:
    report = make_report("Versioned", visibility="public", pdf=make_pdf(marker="okapi clause"))
    reports.add_version(
        db.session,
        OPERATOR,
        _store(),
        report.id,
        make_pdf(marker="rewritten clause"),
        "v2.pdf",
        10**8,
    )
    uow.commit(db.session)
    assert search_api(customer, q="okapi")[1]["total"] == 0
    _status, body = search_api(customer, q="okapi version:all")
    assert [(h["id"], h["version"], h["current"], sorted(h["pages"])) for h in body["hits"]] == [
        (report.id, 1, False, [1, 2])
    ]
    # Where the current version matches too, both versions are hits, each marked.
    _status, body = search_api(customer, q="clause version:all")
    assert sorted((h["version"], h["current"]) for h in body["hits"]) == [(1, False), (2, True)]
    assert search_api(customer, q="okapi version:current")[1]["total"] == 0
    assert search_api(customer, q="version:some")[0] == 400


@pytest.fixture
def theirs(make_report: Callable[..., Report], hostile: User, search_index: Backend) -> Report:
    """A restricted report of another organisation, the only one with "tokenisation"."""
    report = make_report(
        "Other Org Review", visibility="restricted", pdf=make_pdf(marker="tokenisation vault")
    )
    assert hostile.organization is not None
    grants.create_grant(
        db.session, OPERATOR, report_id=report.id, organization=hostile.organization.name
    )
    uow.commit(db.session)
    return report


def test_a_typo_suggests_only_words_of_documents_in_scope(
    make_report: Callable[..., Report],
    theirs: Report,
    customer: User,
    hostile: User,
    search_api: Callable[..., Any],
) -> None:
    make_report("Cipher", visibility="public", pdf=make_pdf(marker="encryption at rest"))
    _status, body = search_api(customer, q="encyrption")
    assert (body["total"], body["suggestion"]) == (0, "encryption")
    _status, body = search_api(customer, q="encyrption at rest")
    assert body["suggestion"] == "encryption at rest"
    # Only the other organisation's restricted report has "tokenisation": never suggested here.
    _status, body = search_api(customer, q="tokenisaton")
    assert (body["total"], body["suggestion"]) == (0, None)
    assert "tokenisation" not in repr(body)
    # ... but it is to that organisation (so the line above can fail).
    assert search_api(hostile, q="tokenisaton")[1]["suggestion"] == "tokenisation"
    # One edit from four letters, none under four, nor when something was found.
    assert search_api(customer, q="rset")[1]["suggestion"] == "rest"
    assert search_api(customer, q="rst")[1]["suggestion"] is None
    assert search_api(customer, q="encryption")[1]["suggestion"] is None


def test_a_suggestion_needs_the_file_for_file_words(
    make_report: Callable[..., Report],
    nda: Agreement,
    customer: User,
    search_api: Callable[..., Any],
    search_index: Backend,
) -> None:
    """A customer who sees a gated report's metadata but may not download it yet is not
    offered words of its file."""
    report = make_report("Gated Review", visibility="customers", pdf=make_pdf(marker="hashicorp"))
    report_terms.set_terms(db.session, OPERATOR, report.id, nda.id)
    uow.commit(db.session)
    _status, body = search_api(customer, q="hashicorpp")
    assert (body["total"], body["suggestion"]) == (0, None)
    _status, body = search_api(customer, q="Reveiw")
    assert body["suggestion"] == "review"


def test_staff_search_inside_gated_reports_they_administer(
    make_report: Callable[..., Report],
    nda: Agreement,
    staff: User,
    customer: User,
    search_api: Callable[..., Any],
    search_index: Backend,
) -> None:
    report = make_report(
        "NDA Pentest", visibility="restricted", pdf=make_pdf(pages=2, marker="gatedmarmot")
    )
    report_terms.set_terms(db.session, OPERATOR, report.id, nda.id)
    uow.commit(db.session)
    _status, body = search_api(staff, q="gatedmarmot")
    assert [(h["id"], sorted(h["pages"])) for h in body["hits"]] == [(report.id, [1, 2])]
    _status, body = search_api(customer, q="gatedmarmot")
    assert (body["total"], body["hits"], body["suggestion"]) == (0, [], None)
