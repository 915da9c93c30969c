"""/feed.atom: a valid Atom 1.0 feed of public catalog changes; restricted reports never."""

from __future__ import annotations

from datetime import date, timedelta

import feedparser
import pytest
from flask import Flask
from lxml import etree

from artifact.catalog.services import reports
from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR
from artifact.models.base import utcnow
from tests.fixtures_catalog import make_pdf

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def catalog(app: Flask, make_report, store):
    app.config["BASE_URL"] = "https://trust.example.com"
    public = make_report(
        "ISO 27001 certificate",
        visibility="public",
        category="certifications",
        series="ISO",
        period_start=date(2025, 1, 1),
        period_end=utcnow().date() + timedelta(days=90),
    )
    reports.add_version(
        db.session,
        OPERATOR,
        store,
        public.id,
        make_pdf(marker="v2"),
        "v2.pdf",
        10**8,
        release_notes="Surveillance audit added",
    )
    secret = make_report("Secret pentest report", visibility="restricted", series="SOC")
    customers = make_report("SOC 2 Type II", visibility="customers", series="SOC")
    draft = make_report("Draft SOC 3", visibility="public", state="draft", series="SOC")
    hidden = make_report(
        "Hidden bridge letter", visibility="public", series="SOC", listing="hidden"
    )
    uow.commit(db.session)
    return {
        "public": public,
        "secret": secret,
        "customers": customers,
        "draft": draft,
        "hidden": hidden,
    }


def test_feed_is_valid_atom_listing_public_changes_only(client, catalog) -> None:
    response = client.get("/feed.atom")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    raw = response.get_data()
    root = etree.fromstring(raw)
    assert root.tag == f"{ATOM}feed"
    for element in (root, *root.findall(f"{ATOM}entry")):
        for required in ("id", "title", "updated"):
            found = element.find(f"{ATOM}{required}")
            assert found is not None, (element.tag, required)
            assert found.text, (element.tag, required)
    assert root.find(f"{ATOM}author/{ATOM}name").text
    parsed = feedparser.parse(raw)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == "atom10"
    titles = [e.title for e in parsed.entries]
    public = catalog["public"]
    assert "New report: ISO 27001 certificate" in titles
    assert "New version 2: ISO 27001 certificate" in titles
    assert not any(t.startswith(("Expiring", "Expired")) for t in titles)  # 90 days to go
    text = raw.decode()
    for name in ("Secret pentest", "SOC 2 Type II", "Draft SOC 3", "Hidden bridge"):
        assert name not in text
    for key in ("secret", "customers", "draft", "hidden"):
        assert catalog[key].id not in text
    link = next(e for e in parsed.entries if e.title.startswith("New version 2"))
    assert link.link == f"https://trust.example.com/catalog/{public.id}"
    assert "Surveillance audit added" in link.summary
    assert parsed.feed.links[0].href == "https://trust.example.com/feed.atom"
    assert len({e.id for e in parsed.entries}) == len(parsed.entries)


def test_status_changes_appear_when_their_day_comes(catalog) -> None:
    """The certificate is valid for 90 more days: expiring in 30 (60 days before its end),
    expired the day after its end."""
    from artifact.catalog.services import feed

    def titles(days: int) -> list[str]:
        return [e.title for e in feed.entries(db.session, now=utcnow() + timedelta(days=days))]

    assert "Expiring soon: ISO 27001 certificate" not in titles(29)
    assert "Expiring soon: ISO 27001 certificate" in titles(31)
    assert "Expired: ISO 27001 certificate" not in titles(90)
    later = titles(92)
    assert later[0] == "Expired: ISO 27001 certificate"
    assert "Expiring soon: ISO 27001 certificate" in later


def test_feed_follows_visibility_and_supersession(client, catalog, make_report) -> None:
    reports.update_report(db.session, OPERATOR, catalog["public"].id, {"visibility": "restricted"})
    uow.commit(db.session)
    assert "ISO 27001" not in client.get("/feed.atom").get_data(as_text=True)
    older = make_report(
        "SOC 3 2024",
        visibility="public",
        category="reports",
        series="SOC3",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 12, 31),
        valid_until=utcnow().date() + timedelta(days=300),
    )
    make_report(
        "SOC 3 2025",
        visibility="public",
        category="reports",
        series="SOC3",
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
    )
    parsed = feedparser.parse(client.get("/feed.atom").get_data())
    titles = [e.title for e in parsed.entries]
    assert "Superseded: SOC 3 2024" in titles
    assert "New report: SOC 3 2025" in titles
    superseded = next(e for e in parsed.entries if e.title == "Superseded: SOC 3 2024")
    assert older.id in superseded.id
    assert superseded.link.endswith(f"/catalog/{older.id}")


def test_feed_is_cacheable_and_answers_conditional_requests(client, catalog) -> None:
    first = client.get("/feed.atom")
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    assert "public" in first.headers["Cache-Control"]
    again = client.get("/feed.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""


def test_empty_feed_is_still_valid(client) -> None:
    raw = client.get("/feed.atom").get_data()
    parsed = feedparser.parse(raw)
    assert not parsed.bozo
    assert parsed.version == "atom10"
    assert parsed.entries == []
    assert etree.fromstring(raw).find(f"{ATOM}updated").text


def test_catalog_page_announces_the_feed(client) -> None:
    page = client.get("/catalog/").get_data(as_text=True)
    assert '<link rel="alternate" type="application/atom+xml"' in page
    assert 'href="/feed.atom"' in page
