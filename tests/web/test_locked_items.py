"""Locked items (issue 13): a restricted report is listed (the default) or hidden. A listed one
shows to signed-in users who cannot open it as locked (catalog facts only, a "Request access"
button, `"locked": true` in the API with no versions and no download); with
ARTIFACT_PUBLIC_LISTING visitors see it too. Hidden reports stay 404. Its text is never
searchable for them."""

from __future__ import annotations

from artifact.extensions import db
from artifact.kernel import uow
from tests.conftest import post_form
from tests.fixtures_catalog import make_pdf

SECRET_WORD = "Zanzibarquokka"


def _reports(make_report):
    listed = make_report("SOC 2 Type II 2025", pdf=make_pdf(marker=f"{SECRET_WORD} controls"))
    hidden = make_report("Pentest summary 2025", listing="hidden", series="PEN")
    public = make_report("ISO 27001 certificate", visibility="public", series="ISO")
    return listed, hidden, public


def test_black_box_locked_listed_hidden_request_and_download(
    client, make_report, make_user, bearer
) -> None:
    listed, hidden, public = _reports(make_report)
    bob = bearer(make_user("customer", org="Globex", email="bob@globex.test"))
    items = client.get("/api/v1/reports", headers=bob).get_json()["items"]
    shown = {item["id"]: item for item in items}
    assert shown[listed.id]["locked"] is True
    assert "versions" not in shown[listed.id]
    assert shown[public.id]["locked"] is False
    assert hidden.id not in shown

    one = client.get(f"/api/v1/reports/{listed.id}", headers=bob)
    assert one.status_code == 200
    assert one.get_json()["locked"] is True
    assert "versions" not in one.get_json()
    assert client.get(f"/api/v1/reports/{hidden.id}", headers=bob).status_code == 404
    assert client.get(f"/api/v1/reports/{listed.id}/download", headers=bob).status_code == 404
    assert client.get(f"/api/v1/reports/{listed.id}/history", headers=bob).status_code in (403, 404)

    found = client.get("/api/v1/search", query_string={"q": SECRET_WORD}, headers=bob).get_json()
    assert listed.id not in {hit["id"] for hit in found["hits"]}

    asked = client.post("/api/v1/access-requests", headers=bob, json={"report_id": listed.id})
    assert asked.status_code == 201
    again = client.post("/api/v1/access-requests", headers=bob, json={"report_id": listed.id})
    assert again.status_code == 409
    hidden_ask = client.post("/api/v1/access-requests", headers=bob, json={"report_id": hidden.id})
    assert hidden_ask.status_code == 404
    mine = client.get("/api/v1/access-requests?mine=1", headers=bob).get_json()["items"]
    assert [(m["report_id"], m["state"]) for m in mine] == [(listed.id, "pending")]

    staff = bearer(make_user("staff"))
    approved = client.post(
        f"/api/v1/access-requests/{asked.get_json()['id']}/approve", headers=staff
    )
    assert approved.status_code == 200
    opened = client.get(f"/api/v1/reports/{listed.id}", headers=bob).get_json()
    assert opened["locked"] is False
    assert [v["number"] for v in opened["versions"]] == [1]
    assert client.get(f"/api/v1/reports/{listed.id}/download", headers=bob).status_code == 200
    # Staff never see anything locked.
    staff_items = client.get("/api/v1/reports", headers=staff).get_json()["items"]
    assert not any(item["locked"] for item in staff_items)


def test_visitors_see_locked_items_only_with_public_listing(client, app, make_report) -> None:
    listed, hidden, public = _reports(make_report)
    customers_only = make_report("Bridge letter 2026", visibility="customers", series="SOC")
    ids = {i["id"] for i in client.get("/api/v1/reports").get_json()["items"]}
    assert ids == {public.id}
    assert client.get(f"/api/v1/reports/{listed.id}").status_code == 404

    app.config["PUBLIC_LISTING"] = True
    items = {i["id"]: i["locked"] for i in client.get("/api/v1/reports").get_json()["items"]}
    assert items == {public.id: False, listed.id: True, customers_only.id: True}
    page = client.get(f"/catalog/{listed.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Sign in</a>\n    to ask the compliance team for access" in text
    assert SECRET_WORD not in text
    assert client.get(f"/catalog/{hidden.id}").status_code == 404
    catalog = client.get("/catalog/").get_data(as_text=True)
    assert "Sign in to request access" in catalog


def test_catalog_page_locked_card_request_form_and_pending_note(
    client, make_report, make_user, login_as
) -> None:
    listed, hidden, _public = _reports(make_report)
    login_as(make_user("customer", org="Globex"))
    catalog = client.get("/catalog/").get_data(as_text=True)
    assert f'href="/catalog/{listed.id}#request">Request access' in catalog
    assert "Pentest summary" not in catalog
    page = client.get(f"/catalog/{listed.id}").get_data(as_text=True)
    assert "This report is shared on request" in page
    assert f'name="report_id" value="{listed.id}"' in page
    assert "/download" not in page
    sent = post_form(
        client,
        "/catalog/access-requests",
        {"report_id": listed.id, "message": "vendor review"},
        token_from=f"/catalog/{listed.id}",
    )
    assert sent.status_code == 302
    page = client.get(f"/catalog/{listed.id}").get_data(as_text=True)
    assert "the request is pending" in page
    assert f'name="report_id" value="{listed.id}"' not in page


def test_a_grant_holder_sees_it_open_and_a_retired_report_is_not_listed(
    client, make_report, make_user, bearer
) -> None:
    from artifact.catalog.services import grants
    from artifact.kernel.caller import OPERATOR

    listed, _hidden, _public = _reports(make_report)
    retired = make_report("SOC 2 Type II 2023", state="retired")
    carol = make_user("customer", org="Initech")
    grants.create_grant(db.session, OPERATOR, series="SOC", organization="Initech")
    uow.commit(db.session)
    items = {
        i["id"]: i["locked"]
        for i in client.get("/api/v1/reports", headers=bearer(carol)).get_json()["items"]
    }
    assert items[listed.id] is False
    assert retired.id not in items


def test_search_finds_a_locked_report_by_its_catalog_facts_never_by_its_text(
    client, app, make_report, make_user, bearer
) -> None:
    listed, hidden, _public = _reports(make_report)
    bob = bearer(make_user("customer", org="Globex"))

    def hits(query, headers=None):
        answer = client.get("/api/v1/search", query_string={"q": query}, headers=headers or {})
        assert answer.status_code == 200
        return {h["id"]: h for h in answer.get_json()["hits"]}

    by_title = hits("soc 2 type ii", bob)
    assert by_title[listed.id]["locked"] is True
    assert by_title[listed.id]["pages"] == []
    assert SECRET_WORD not in by_title[listed.id]["snippet"]
    assert listed.id not in hits(SECRET_WORD, bob)
    assert listed.id not in hits(f"SOC {SECRET_WORD}", bob)  # every word must be in its facts
    assert hidden.id not in hits("pentest summary", bob)
    assert listed.id not in hits("version:all soc", bob)
    # Staff find it as an open report; visitors only with public listing.
    staff_hits = hits("soc 2 type ii", bearer(make_user("staff")))
    assert staff_hits[listed.id]["locked"] is False
    assert listed.id not in hits("soc 2 type ii")
    app.config["PUBLIC_LISTING"] = True
    assert hits("soc 2 type ii")[listed.id]["locked"] is True
    page = client.get("/search", query_string={"q": "soc 2"}).get_data(as_text=True)
    assert '<span class="tag lock">Locked</span>' in page
