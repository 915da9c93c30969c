"""The search page, the API's errors and the reindex command."""

from __future__ import annotations

import re
import shutil
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from artifact.extensions import db
from artifact.frameworks import services as frameworks
from artifact.infra.search import Backend, Entry, index_for
from artifact.infra.search.backend import PAGES_PER_HIT
from artifact.infra.search.query import QueryError, parse
from artifact.kernel.caller import OPERATOR
from artifact.models import Report, User
from artifact.search.openapi import QUERY_PATTERN, UNSEARCHABLE
from tests.fixtures_catalog import make_pdf

MALFORMED = ['"unbalanced', "NOT NOT x", "category:", "q" * 10_000, "ctrl\x07char", "x\x00"]


@pytest.mark.parametrize("q", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_query_is_a_friendly_400_on_the_page(
    client: FlaskClient, q: str, search_index: Backend
) -> None:
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    assert "Traceback" not in page


@pytest.mark.parametrize("q", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_query_is_a_400_in_the_api(
    search_api: Callable[..., Any], customer: User, q: str
) -> None:
    status, body = search_api(customer, q=q)
    assert status == 400
    assert body["error"]["code"] == "invalid"
    assert body["error"]["message"]


@pytest.mark.parametrize(
    "params",
    [
        {"page": "x"},
        {"page": "0"},
        {"page": "101"},
        {"page": ""},
        {"series": "a\x01b"},
        {"category": "c" * 300},
    ],
)
def test_bad_parameters_are_400(search_api: Callable[..., Any], params: dict[str, str]) -> None:
    assert search_api(None, q="x", **params)[0] == 400


def test_page_shows_facets_snippets_pages_and_paging(
    make_report: Callable[..., Report], client: FlaskClient, search_index: Backend
) -> None:
    scan = make_report(
        "Quarterly <Scan>",
        visibility="public",
        series="SCAN",
        pdf=make_pdf(pages=12, marker="vulnerability scan"),
    )
    page = client.get("/search", query_string={"q": "vulnerability"}).get_data(as_text=True)
    assert "1 result." in page  # one hit per document
    assert "<mark>vulnerability</mark>" in page
    assert "Matching pages:" in page
    # A visitor may download a public report: its pages open the stamped copy at that page.
    links = re.findall(rf'href="/catalog/{scan.id}/download#page=(\d+)">(\d+)</a>', page)
    assert len(links) == PAGES_PER_HIT  # the best ten of twelve equally good pages
    assert all(a == b and 1 <= int(a) <= 12 for a, b in links)
    assert "Quarterly &lt;Scan&gt;" in page
    assert 'href="/search?q=vulnerability&amp;series=scan"' in page
    for number in range(11):
        make_report(f"Scan {number}", visibility="public", series="SCAN", pdf=make_pdf(pages=1))
    page = client.get("/search", query_string={"q": "scan"}).get_data(as_text=True)
    assert "12 results, page 1 of 2." in page
    assert 'rel="next"' in page
    second = client.get("/search", query_string={"q": "scan", "page": 2})
    assert "page 2 of 2" in second.get_data(as_text=True)
    filtered = client.get("/search", query_string={"q": "vulnerability", "series": "nothing"})
    assert "0 results." in filtered.get_data(as_text=True)


def test_a_typo_suggests_a_word_of_a_document_in_scope_on_the_page(
    make_report: Callable[..., Report], client: FlaskClient, search_index: Backend
) -> None:
    make_report("Cipher", visibility="public", pdf=make_pdf(pages=1, marker="encryption at rest"))
    page = client.get("/search", query_string={"q": "encyrption"}).get_data(as_text=True)
    assert "0 results." in page
    assert 'Did you mean <a href="/search?q=encryption">encryption</a>?' in page


def test_header_has_a_search_box(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'role="search"' in page
    assert 'action="/search"' in page


def test_reindex_rebuilds_from_the_database(
    app: Flask,
    make_report: Callable[..., Report],
    runner: Any,
    customer: User,
    search_api: Callable[..., Any],
    search_index: Backend,
) -> None:
    make_report("Rebuilt", visibility="public", pdf=make_pdf(pages=3, marker="capybara"))
    if search_index.name == "postgres":
        search_index.rebuild([])  # the index is rows of the database: emptied
    else:
        app.extensions.pop("artifact_search").close()
        shutil.rmtree(Path(app.config["DATA_DIR"]) / "search")
    assert search_api(customer, q="capybara")[1]["total"] == 0
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "indexed 5 entries" in result.output  # metadata, the file, its three pages
    _status, body = search_api(customer, q="capybara")
    assert [sorted(h["pages"]) for h in body["hits"]] == [[1, 2, 3]]


def test_imported_requirements_are_found_without_a_reindex(
    search_index: Backend,
    small_frameworks: None,
    customer: User,
    search_api: Callable[..., Any],
    login_as: Callable[..., FlaskClient],
) -> None:
    """`frameworks import` indexes its requirements once it commits; a hit opens the tree."""
    _status, body = search_api(customer, q='"secure authentication"')
    assert [(h["type"], h["title"]) for h in body["hits"]] == [
        ("requirement", "iso-sample:A.8.5 Secure authentication")
    ]
    assert search_api(customer, q="type:requirement")[1]["total"] == 7  # five and two
    iso = frameworks.get_framework(db.session, OPERATOR, key="iso-sample")
    page = login_as(customer).get("/search", query_string={"q": "authentication"})
    assert (
        f'href="/frameworks/{iso.id}">iso-sample:A.8.5 Secure authentication</a>'
        in page.get_data(as_text=True)
    )


def test_the_documented_unsearchable_characters_are_the_parsers() -> None:
    """The query pattern spells the categories the parser refuses as ranges; a new Unicode
    version in Python must show up here, not as a contract failure."""
    refused = [
        point
        for point in range(sys.maxunicode + 1)
        if unicodedata.category(chr(point)) in ("Cc", "Cf", "Co")
    ]
    spelled = [point for low, high in UNSEARCHABLE for point in range(low, high + 1)]
    assert spelled == refused


DOCUMENTED = [
    ("", True),
    ("soc 2 encryption", True),
    ('framework:"SOC 2" -draft', True),
    ("secur* NOT retired", True),
    ("AC-2", True),
    ("a" * 40, True),
    ("é" * 30 + " " + "b" * 40, True),
    ('"unbalanced', False),
    ("a" * 41, False),
    ("x NOT", False),
    ('"a b" -', False),
    ('""NOT', False),
    ("NOT NOT x", False),
    ("NOT -x", False),
    ("a OR b", False),
    ("ctrl\x07char", False),
    ("soft\u00adhyphen", False),
    ("private\U000f0001", False),
]


@pytest.mark.parametrize(("q", "documented"), DOCUMENTED, ids=range(len(DOCUMENTED)))
def test_the_documented_query_pattern_agrees_with_the_parser(q: str, documented: bool) -> None:
    assert (re.search(QUERY_PATTERN, q) is not None) is documented
    try:
        parse(q)
    except QueryError:
        parsed = False
    else:
        parsed = True
    assert parsed is documented


def test_check_deploy_names_tantivy_past_five_thousand_whoosh_entries(
    app: Flask, runner: Any
) -> None:
    app.config["SEARCH_BACKEND"] = "whoosh"
    index = index_for(app)
    index.rebuild(Entry("requirement", f"r{n}", "R", "words") for n in range(10))
    assert "WARN" not in runner.invoke(args=["check-deploy"]).output
    index.rebuild(Entry("requirement", f"r{n}", "R", "words") for n in range(5_001))
    output = runner.invoke(args=["check-deploy"]).output
    assert "WARN the whoosh search index holds 5,001 entries" in output
    assert "set ARTIFACT_SEARCH_BACKEND=tantivy and run `flask --app app search reindex`" in output
