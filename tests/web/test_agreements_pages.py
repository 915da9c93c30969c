"""Agreement pages through the browser's eyes: read, accept with CSRF, continue to ``next``,
terminate, the staff register and its CSV, the admin pages."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re

from sqlalchemy import select

from artifact.agreements.services import acceptance as agreements_accept
from artifact.agreements.services import agreements
from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.models import Acceptance, Agreement, AuditEvent
from artifact.web.links import terms_page_url
from tests.callers import as_caller
from tests.conftest import post_form
from tests.fixtures_agreements import NDA_TEXT


def _rendered_text(page: str) -> str:
    """Turn the rendered agreement text back into plain text, as a reader would copy it."""
    body = re.search(
        r'<article class="card agreement-text"[^>]*>\n(.*?)\n</article>', page, re.S
    ).group(1)
    paragraphs = re.findall(r"<p>(.*?)</p>", body, re.S)
    return "\n\n".join(html.unescape(p.replace("<br>\n", "\n")) for p in paragraphs)


def _accept_page(client, nda_id: str, **query: str) -> str:
    response = client.get(f"/agreements/{nda_id}", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_page_shows_the_exact_text_and_get_never_accepts(client, nda, customer, login_as) -> None:
    login_as(customer)
    page = _accept_page(client, nda.id)
    assert "&lt;b&gt;Not&lt;/b&gt; markup &amp; co." in page
    assert "<b>Not</b>" not in page
    assert _rendered_text(page) == NDA_TEXT
    assert 'name="consent"' in page
    assert 'value="organization"' not in page  # a plain member cannot bind the organisation
    client.get(f"/agreements/{nda.id}/accept")
    assert db.session.scalars(select(Acceptance)).all() == []


def test_accepting_on_the_page_records_what_was_shown(client, nda, customer, login_as) -> None:
    login_as(customer)
    page = _accept_page(client, nda.id, next="/reports/x/download")
    shown_hash = hashlib.sha256(_rendered_text(page).encode()).hexdigest()
    form = {
        "typed_name": "Carla Customer",
        "consent": "y",
        "scope": "account",
        "version": "1",
        "text_sha256": re.search(
            r'name="text_sha256" type="hidden" value="([0-9a-f]+)"', page
        ).group(1),
        "next": "/reports/x/download",
    }
    assert (
        post_form(client, f"/agreements/{nda.id}/accept", {**form, "consent": ""}).status_code
        == 400
    )
    assert db.session.scalars(select(Acceptance)).all() == []
    assert client.post(f"/agreements/{nda.id}/accept", data=form).status_code == 400  # no CSRF
    response = post_form(client, f"/agreements/{nda.id}/accept", form)
    assert response.status_code == 302
    row = db.session.scalars(select(Acceptance)).one()
    # The record first, which then continues to the download.
    assert response.headers["Location"] == (
        f"/agreements/acceptances/{row.id}?next=/reports/x/download"
    )
    record = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'href="/reports/x/download">Continue to your download</a>' in record
    assert row.text_sha256 == shown_hash
    assert (row.typed_name, row.scope, row.user_id) == ("Carla Customer", "account", customer.id)
    assert agreements.terms_status(db.session, as_caller(customer), nda.id).satisfied
    page = _accept_page(client, nda.id, next="/reports/x/download")
    assert 'href="/reports/x/download">Continue to your download' in page
    assert 'name="consent"' not in page


def test_next_is_checked_and_the_gate_link_carries_it(app, client, nda, customer, login_as) -> None:
    with app.test_request_context():
        assert terms_page_url(nda.id, "/reports/r1/download?version=2") == (
            f"/agreements/{nda.id}?next=/reports/r1/download?version%3D2"
        )
        assert terms_page_url(nda.id, "https://evil.test/") == f"/agreements/{nda.id}"
    login_as(customer)
    response = post_form(
        client,
        f"/agreements/{nda.id}/accept",
        {
            "typed_name": "Carla Customer",
            "consent": "y",
            "scope": "account",
            "version": "1",
            "text_sha256": nda.current.text_sha256,
            "next": "//evil.test/x",
        },
    )
    assert response.status_code == 302
    row = db.session.scalars(select(Acceptance)).one()
    assert response.headers["Location"] == f"/agreements/acceptances/{row.id}"


def test_stale_form_is_409_and_shows_the_new_text(client, nda, customer, admin, login_as) -> None:
    login_as(customer)
    old_hash = nda.current.text_sha256
    agreements.publish_version(db.session, Caller.of_user(admin), nda.id, "Version two text.")
    uow.commit(db.session)
    response = post_form(
        client,
        f"/agreements/{nda.id}/accept",
        {
            "typed_name": "Carla Customer",
            "consent": "y",
            "scope": "account",
            "version": "1",
            "text_sha256": old_hash,
        },
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Version two text." in page
    assert "not the current version" in page
    assert db.session.scalars(select(Acceptance)).all() == []
    # The refusal is kept in the trail although the request failed (and rolled back).
    refused = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "agreement.accept", AuditEvent.outcome == "failure"
        )
    ).one()
    assert '"reason":"not_current"' in refused.details


def test_member_cannot_bind_the_organisation_org_admin_can(
    client, nda, make_user, login_as
) -> None:
    member = make_user("customer", org="Acme Health")
    login_as(member)
    form = {
        "typed_name": "Carla Customer",
        "consent": "y",
        "scope": "organization",
        "version": "1",
        "text_sha256": nda.current.text_sha256,
    }
    assert post_form(client, f"/agreements/{nda.id}/accept", form).status_code == 403
    assert db.session.scalars(select(Acceptance)).all() == []
    denied = db.session.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied")).one()
    assert denied.action == "agreement.accept"
    post_form(client, "/logout")
    org_admin = make_user("customer", org="Acme Health", org_admin=True)
    login_as(org_admin)
    assert 'value="organization"' in _accept_page(client, nda.id)
    assert post_form(client, f"/agreements/{nda.id}/accept", form).status_code == 302
    assert agreements.terms_status(db.session, as_caller(member), nda.id).satisfied


def test_my_agreements_history_and_terminate(client, nda, customer, login_as) -> None:
    accepted = agreements_accept.accept(
        db.session,
        Caller.of_user(customer),
        nda.id,
        version=1,
        typed_name="Carla Customer",
        scope="account",
    )
    uow.commit(db.session)
    login_as(customer)
    page = client.get("/agreements/").get_data(as_text=True)
    assert "Accepted" in page
    assert f"/agreements/acceptances/{accepted.id}/certificate.pdf" in page
    response = post_form(
        client,
        f"/agreements/{nda.id}/terminate",
        {"scope": "account", "reason": "done"},
        follow_redirects=True,
    )
    assert "effective now" in response.get_data(as_text=True)
    assert not agreements.terms_status(db.session, as_caller(customer), nda.id).satisfied
    assert db.session.get(Acceptance, accepted.id).termination.reason == "done"
    page = client.get("/agreements/").get_data(as_text=True)
    assert "Terminated" in page
    pdf = client.get(f"/agreements/acceptances/{accepted.id}/certificate.pdf")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"


def test_staff_register_and_csv_are_injection_safe(client, nda, make_user, staff, login_as) -> None:
    names = ['=HYPERLINK("http://evil.test")', "+1+1", "-2", "@SUM(A1)", "Plain Name"]
    for name in names:
        user = make_user("customer", org="Acme Health", name=name)
        agreements_accept.accept(
            db.session,
            Caller.of_user(user, ip_address="10.0.0.1"),
            nda.id,
            version=1,
            typed_name=name,
            scope="account",
            user_agent="=cmd|' /C calc'!A0",
        )
    uow.commit(db.session)
    customer = make_user("customer")
    login_as(customer)
    assert client.get(f"/agreements/{nda.id}/acceptances").status_code == 403
    assert client.get(f"/agreements/{nda.id}/acceptances.csv").status_code == 403
    post_form(client, "/logout")
    login_as(staff)
    page = client.get(f"/agreements/{nda.id}/acceptances").get_data(as_text=True)
    assert "Version 1 (current)" in page
    assert "Plain Name" in page
    response = client.get(f"/agreements/{nda.id}/acceptances.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert sorted(row["typed_name"] for row in rows) == sorted(
        ["'" + n if n[0] in "=+-@" else n for n in names]
    )
    assert {row["user_agent"] for row in rows} == {"'=cmd|' /C calc'!A0"}
    assert all(row["text_sha256"] == nda.current.text_sha256 for row in rows)
    assert (
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == "acceptance.export"))
        .one()
        .details
        == '{"rows":5}'
    )


def test_admin_pages_create_and_publish(client, admin, customer, login_as) -> None:
    login_as(admin)
    response = post_form(
        client,
        "/admin/agreements/",
        {"title": "Platform terms", "kind": "terms", "text": "Be nice.\r\n\r\nReally."},
    )
    assert response.status_code == 302
    agreement = db.session.scalars(select(Agreement)).one()
    assert agreement.current.text == "Be nice.\n\nReally."
    assert (
        post_form(
            client,
            f"/admin/agreements/{agreement.id}/versions",
            {"text": "Be nice.\n\nReally.\n\nNew."},
        ).status_code
        == 302
    )
    assert (
        post_form(
            client,
            f"/admin/agreements/{agreement.id}/versions",
            {"text": "Be nice.\n\nReally.\n\nNew."},
        ).status_code
        == 400
    )  # unchanged
    db.session.expire_all()
    assert [v.number for v in db.session.get(Agreement, agreement.id).versions] == [1, 2]
    page = client.get(f"/admin/agreements/{agreement.id}").get_data(as_text=True)
    assert "Publish version 3" in page
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"agreement.create", "agreement.publish_version"} <= actions
    post_form(client, "/logout")
    login_as(customer)
    assert client.get("/admin/agreements/").status_code == 403
    assert "Agreements</a>" in client.get("/").get_data(as_text=True)


def test_a_title_race_lost_at_the_flush_is_a_message_not_a_500(client, admin, login_as) -> None:
    """Two admins create "Platform terms" at the same moment: the one whose flush loses the
    race gets the form back with a message (the unit of work rolled back), not a 500."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from artifact.models.base import new_id

    def race(session, _context, _instances) -> None:
        for obj in list(session.new):
            if isinstance(obj, Agreement):  # the other admin's row, committed just before
                table = Agreement.__table__
                session.connection().execute(
                    table.insert().values(id=new_id(), title=obj.title, kind=obj.kind)
                )

    login_as(admin)
    event.listen(Session, "before_flush", race)
    try:
        response = post_form(
            client, "/admin/agreements/", {"title": "Platform terms", "kind": "terms", "text": "T."}
        )
    finally:
        event.remove(Session, "before_flush", race)
    assert response.status_code == 400
    assert "already exists" in html.unescape(response.get_data(as_text=True))
    assert db.session.scalars(select(Agreement)).all() == []
