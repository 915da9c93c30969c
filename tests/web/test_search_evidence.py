"""Evidence in search: staff find it (metadata, requirement links and the file's text); nobody
else ever sees a trace of it (hits, totals, facets, snippets), on both backends, through every
form of query."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import current_app
from flask.testing import FlaskClient

from artifact.evidence import services as evidence
from artifact.extensions import db
from artifact.infra.search import Backend
from artifact.infra.storage import store_for
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.models import Evidence, User
from tests.fixtures_catalog import make_pdf
from tests.fixtures_evidence import make_png

SECRET = "pangolinledger"  # only inside the evidence's text file
CSV_WORD = "okapiroster"  # only inside a CSV evidence file
PDF_WORD = "narwhalcipher"  # only inside a PDF evidence file


@pytest.fixture
def secret_evidence(
    search_index: Backend, evidence_frameworks: None, make_evidence: Callable[..., Evidence]
) -> Evidence:
    return make_evidence(
        "Quarterly firewall review",
        requirements=["iso-sample:A.5.15"],
        data=f"rules reviewed; {SECRET} exception closed\n".encode(),
        filename="firewall.txt",
    )


QUERIES = [
    {"q": SECRET},
    {"q": f'"{SECRET} exception"'},
    {"q": SECRET[:7] + "*"},
    {"q": "firewall"},
    {"q": "type:evidence"},
    {"q": "", "type": "evidence"},
    {"q": "category:evidence"},
    {"q": "framework:iso-sample"},
    {"q": "", "framework": "iso-sample"},
    {"q": '"A.5.15"'},
    {"q": ""},
    {"q": "-nothing"},
]


def _assert_no_evidence(body: dict[str, Any], item: Evidence) -> None:
    assert all(hit["type"] != "evidence" and hit["id"] != item.id for hit in body["hits"])
    assert "evidence" not in body["facets"]["type"]
    assert "evidence" not in body["facets"]["category"]
    # Every counted entry is of a kind the caller may see (so none is evidence).
    assert sum(body["facets"]["type"].values()) == body["total"]
    text = repr(body).lower()
    for leak in (SECRET, "firewall", "quarterly", item.id):
        assert leak not in text


@pytest.mark.parametrize("params", QUERIES, ids=[str(p) for p in QUERIES])
@pytest.mark.parametrize("role", ["customer", "auditor", "hostile"])
def test_evidence_is_invisible_to_everyone_but_staff(
    secret_evidence: Evidence,
    request: pytest.FixtureRequest,
    staff: User,
    search_api: Callable[..., Any],
    params: dict[str, str],
    role: str,
) -> None:
    user: User = request.getfixturevalue(role)
    status, body = search_api(user, **params)
    assert status == 200
    _assert_no_evidence(body, secret_evidence)
    # Staff run the same query and find the evidence in hits or counts (the test can fail).
    status, theirs = search_api(staff, **params)
    assert status == 200
    assert theirs["facets"]["type"].get("evidence", 0) >= 1
    assert theirs["total"] == body["total"] + theirs["facets"]["type"]["evidence"]


def test_evidence_is_invisible_to_visitors(
    secret_evidence: Evidence, search_api: Callable[..., Any]
) -> None:
    for params in QUERIES:
        status, body = search_api(None, **params)
        assert status == 200, params
        _assert_no_evidence(body, secret_evidence)


def test_evidence_never_reaches_the_search_page_of_a_customer(
    secret_evidence: Evidence, customer: User, login_as: Callable[..., Any], client: FlaskClient
) -> None:
    login_as(customer)
    for q in (SECRET, "type:evidence", ""):
        page = client.get("/search", query_string={"q": q}).get_data(as_text=True)
        assert f"<mark>{SECRET}" not in page  # (the query itself is echoed in the box)
        assert f"/evidence/{secret_evidence.id}" not in page
        assert "Quarterly firewall review" not in page
    assert "0 results" in client.get("/search", query_string={"q": SECRET}).get_data(as_text=True)


def test_staff_find_evidence_text_with_a_snippet_and_a_link(
    secret_evidence: Evidence,
    staff: User,
    search_api: Callable[..., Any],
    login_as: Callable[..., Any],
    client: FlaskClient,
) -> None:
    _status, body = search_api(staff, q=SECRET)
    assert body["total"] == 1
    [hit] = body["hits"]
    assert (hit["type"], hit["id"], hit["pages"]) == ("evidence", secret_evidence.id, [1])
    assert f"<mark>{SECRET}</mark>" in hit["snippet"]
    assert body["facets"]["framework"] == {"iso-sample": 1}
    # The metadata: title, owner and the requirements it addresses.
    _status, body = search_api(staff, q='"A.5.15" firewall')
    # (found through its file's entry, which holds the metadata; no page says it)
    assert [(h["id"], h["pages"]) for h in body["hits"]] == [(secret_evidence.id, [])]
    _status, body = search_api(staff, q=staff.email.split("@")[0])
    assert secret_evidence.id in {h["id"] for h in body["hits"]}
    login_as(staff)
    page = client.get("/search", query_string={"q": SECRET}).get_data(as_text=True)
    assert f'href="/evidence/{secret_evidence.id}"' in page
    assert f'href="/evidence/{secret_evidence.id}/download#page=1">1</a>' in page
    assert f"<mark>{SECRET}</mark>" in page


def test_csv_pdf_and_image_evidence(
    search_index: Backend,
    staff: User,
    make_evidence: Callable[..., Evidence],
    search_api: Callable[..., Any],
) -> None:
    roster = make_evidence(
        "Access roster", data=f"user,role\nalice,{CSV_WORD}\n".encode(), filename="roster.csv"
    )
    scan = make_evidence("Badge scan", data=make_pdf(pages=2, marker=PDF_WORD), filename="scan.pdf")
    photo = make_evidence("Server room photo", data=make_png(), filename="room.png")
    _status, body = search_api(staff, q=CSV_WORD)
    assert [(h["id"], h["pages"]) for h in body["hits"]] == [(roster.id, [1])]
    _status, body = search_api(staff, q=PDF_WORD)
    assert [(h["id"], sorted(h["pages"])) for h in body["hits"]] == [(scan.id, [1, 2])]
    _status, body = search_api(staff, q="photo")
    assert [(h["id"], h["pages"]) for h in body["hits"]] == [(photo.id, [])]
    _status, body = search_api(staff, q="type:evidence")
    assert body["total"] == 3  # documents, not pages


def test_index_follows_new_versions_links_and_state(
    secret_evidence: Evidence, staff: User, search_api: Callable[..., Any]
) -> None:
    store = store_for(current_app)
    evidence.add_version(
        db.session,
        Caller.of_user(staff),
        store,
        secret_evidence.id,
        b"second collection: wombatgate\n",
        "firewall-v2.txt",
    )
    uow.commit(db.session)
    assert search_api(staff, q=SECRET)[1]["total"] == 0  # the old version is not current
    _status, body = search_api(staff, q=f"{SECRET} version:all")
    assert [(h["version"], h["current"]) for h in body["hits"]] == [(1, False)]
    assert [h["id"] for h in search_api(staff, q="wombatgate")[1]["hits"]] == [secret_evidence.id]
    evidence.set_links(db.session, Caller.of_user(staff), secret_evidence.id, ["soc-sample:CC6.1"])
    uow.commit(db.session)
    _status, body = search_api(staff, q="type:evidence")
    assert body["facets"]["framework"] == {"soc-sample": 1}  # one document
    assert search_api(staff, q='"A.5.15" firewall')[1]["total"] == 0
    assert search_api(staff, q='"CC6.1" firewall')[1]["total"] == 1
    evidence.submit(db.session, Caller.of_user(staff), secret_evidence.id)
    uow.commit(db.session)
    assert search_api(staff, q="wombatgate")[1]["total"] == 1  # state changes keep it found
