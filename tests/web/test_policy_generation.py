"""The policy generation: every write that changes what the policy reads bumps one number in
the database, and what workers keep across requests (the reports a caller's scope may see, the
signed-in user) is asked again at the next request after a change. Runs on SQLite and, with
ARTIFACT_DATABASE_URL pointing at PostgreSQL, on PostgreSQL (conftest)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from artifact.agreements.services import acceptance as agreements_accept
from artifact.catalog.services import grants, report_terms, reports, taxonomy
from artifact.extensions import db
from artifact.identity.services import accounts
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR, Caller
from artifact.models import AccessRequest, Report, ReportCategory, User, generation
from tests.conftest import post_form, sign_in
from tests.fixtures_catalog import make_pdf


def _now() -> tuple[str, int]:
    db.session.rollback()  # a fresh transaction reads what others committed
    return generation.read(db.session)


def _second_client(app: Flask, user: User) -> FlaskClient:
    other = app.test_client()
    response = sign_in(other, user.email)
    assert response.status_code == 302
    return other


def test_grant_revocation_takes_effect_on_the_very_next_request(
    app: Flask, client: FlaskClient, login_as: Callable[..., Any], make_report, customer, staff
) -> None:
    report = make_report("Restricted SOC 2", visibility="restricted")
    grant = grants.create_grant(
        db.session, OPERATOR, report_id=report.id, user_email=customer.email
    )
    uow.commit(db.session)
    login_as(customer)
    for _ in range(3):  # asked once, then kept
        assert client.get(f"/catalog/{report.id}").status_code == 200
        assert "Restricted SOC 2" in client.get("/catalog/").get_data(as_text=True)
    staff_client = _second_client(app, staff)
    before = _now()
    response = post_form(
        staff_client, f"/catalog/grants/{grant.id}/revoke", token_from="/catalog/requests"
    )
    assert response.status_code == 302
    assert _now() != before
    # Listed, so it stays in sight as a locked item: its facts and a way to ask, nothing more.
    assert "This report is shared on request" in client.get(f"/catalog/{report.id}").get_data(
        as_text=True
    )
    assert f'href="/catalog/{report.id}#request"' in client.get("/catalog/").get_data(as_text=True)
    assert client.get(f"/catalog/{report.id}/download").status_code == 404


def test_a_new_grant_opens_the_report_on_the_very_next_request(
    client: FlaskClient, login_as: Callable[..., Any], make_report, customer
) -> None:
    report = make_report("Restricted PCI", visibility="restricted", series="PCI")
    login_as(customer)
    for _ in range(2):  # locked: asked once, then kept
        page = client.get(f"/catalog/{report.id}").get_data(as_text=True)
        assert "This report is shared on request" in page
    assert client.get(f"/catalog/{report.id}/download").status_code == 404
    grants.create_grant(db.session, OPERATOR, series="PCI", user_email=customer.email)
    uow.commit(db.session)  # another unit of work, as another worker's would be
    page = client.get(f"/catalog/{report.id}").get_data(as_text=True)
    assert "This report is shared on request" not in page
    assert "<h2>Versions</h2>" in page


def test_a_role_change_takes_effect_on_the_very_next_request(
    app: Flask, client: FlaskClient, login_as: Callable[..., Any], make_user, bearer, admin
) -> None:
    member = make_user("staff")
    token = bearer(member)
    login_as(member)
    for _ in range(3):
        assert client.get("/evidence").status_code == 200
        assert client.get("/api/v1/evidence", headers=token).status_code == 200
    admin_client = _second_client(app, admin)
    response = post_form(
        admin_client,
        f"/admin/users/{member.id}/role",
        {"role": "customer"},
        token_from=f"/admin/users/{member.id}",
    )
    assert response.status_code == 302
    # Sessions and tokens made under the old role end with it.
    assert client.get("/evidence").status_code == 302
    assert client.get("/api/v1/evidence", headers=token).status_code == 401


def test_the_signed_in_user_kept_by_workers_is_as_current_as_the_database(
    client: FlaskClient, login_as: Callable[..., Any], make_user
) -> None:
    member = make_user("customer", org="Acme Health")
    login_as(member)
    for _ in range(3):
        assert "(customer, Acme Health)" in client.get("/").get_data(as_text=True)
    # A write no service makes on its own (set_role also ends sessions): the row alone changes.
    db.session.get(User, member.id).role = "auditor"
    uow.commit(db.session)
    assert "(auditor, Acme Health)" in client.get("/").get_data(as_text=True)


WRITES: dict[str, Callable[[Any], object]] = {
    "grant": lambda f: grants.create_grant(
        db.session, OPERATOR, report_id=f["report"].id, organization="Acme Health"
    ),
    "state": lambda f: reports.set_state(db.session, OPERATOR, f["report"].id, "retired"),
    "listing": lambda f: reports.update_report(
        db.session, OPERATOR, f["report"].id, {"listing": "hidden"}
    ),
    "visibility": lambda f: reports.update_report(
        db.session, OPERATOR, f["report"].id, {"visibility": "public"}
    ),
    "terms": lambda f: report_terms.set_terms(db.session, OPERATOR, f["report"].id, f["nda"].id),
    "acceptance": lambda f: agreements_accept.accept(
        db.session,
        Caller.of_user(f["customer"]),
        f["nda"].id,
        version=1,
        typed_name=f["customer"].name,
        scope="account",
    ),
    "access request": lambda f: grants.request_access(
        db.session, Caller.of_user(f["customer"]), report_id=f["report"].id
    ),
    "version": lambda f: reports.add_version(
        db.session, OPERATOR, f["store"], f["report"].id, make_pdf(marker="v2"), "v2.pdf", 10**8
    ),
    "role": lambda f: accounts.set_role(db.session, OPERATOR, f["customer"], "auditor"),
    "disabled": lambda f: accounts.set_disabled(db.session, OPERATOR, f["customer"], True),
    "membership": lambda f: accounts.create_user(
        db.session,
        OPERATOR,
        email="new-member@example.test",
        role="customer",
        password="correct horse battery staple 42",
        organization="Acme Health",
        create_organization_if_missing=True,
    ),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_every_policy_write_bumps_the_generation(
    write: str, make_report, nda, customer, store
) -> None:
    fixtures = {"report": make_report("SOC 2", visibility="restricted"), "nda": nda}
    fixtures["store"] = store
    fixtures["customer"] = db.session.get(User, customer.id)
    before = _now()
    WRITES[write](fixtures)
    uow.commit(db.session)
    after = _now()
    assert after[1] > before[1]
    assert after[0] != before[0]


def test_a_rolled_back_change_bumps_nothing_and_reads_do_not_bump(make_report) -> None:
    report = make_report("SOC 2", visibility="restricted")
    before = _now()
    reports.set_state(db.session, OPERATOR, report.id, "retired")
    uow.rollback(db.session)
    db.session.get(Report, report.id)
    db.session.commit()
    assert _now() == before


def test_a_transaction_that_changed_the_policy_neither_keeps_nor_takes_kept_answers(
    make_report, customer
) -> None:
    from artifact import policy
    from tests.callers import as_caller

    report = make_report("Restricted SOC 2", visibility="restricted")
    caller = as_caller(customer)
    assert report.id not in policy.visible_report_ids(db.session, caller)
    grants.create_grant(db.session, OPERATOR, report_id=report.id, user_email=customer.email)
    assert report.id in policy.visible_report_ids(db.session, caller)  # its own change
    uow.rollback(db.session)
    assert report.id not in policy.visible_report_ids(db.session, caller)


def test_last_seen_is_written_at_most_once_a_minute(
    client: FlaskClient, login_as: Callable[..., Any], customer
) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from artifact.models import UserSession

    login_as(customer)
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == customer.id))
    signed_in_at = row.last_seen_at
    for _ in range(3):
        assert client.get("/").status_code == 200
    db.session.refresh(row)
    assert row.last_seen_at == signed_in_at  # no write on every request
    row.last_seen_at = signed_in_at - timedelta(seconds=61)
    uow.commit(db.session)
    assert client.get("/").status_code == 200
    db.session.refresh(row)
    assert row.last_seen_at > signed_in_at


def test_a_read_ends_without_commit_and_a_write_still_commits(
    app: Flask, login_as: Callable[..., Any], make_report, customer
) -> None:
    """A page that only reads ends its transaction without a COMMIT; a form that writes
    commits what it wrote."""
    make_report("Public SOC 3", visibility="public")
    client = login_as(customer)
    client.get("/catalog/")  # the session's last-seen write, if due, happens here
    commits: list[object] = []

    def count(_conn: object) -> None:
        commits.append(_conn)

    event.listen(db.engine, "commit", count)
    try:
        assert client.get("/catalog/").status_code == 200
        assert client.get("/search?q=SOC").status_code == 200
        assert commits == []
        response = post_form(
            client,
            "/catalog/access-requests",
            {"series": "SOC", "message": "Vendor review"},
            "/catalog/",
        )
        assert response.status_code == 302
        assert commits
        db.session.rollback()
        stored = db.session.scalars(
            select(AccessRequest).where(AccessRequest.user_id == customer.id)
        ).all()
        assert [r.message for r in stored] == ["Vendor review"]
    finally:
        event.remove(db.engine, "commit", count)


def test_a_renamed_category_shows_in_the_catalog_at_once(
    login_as: Callable[..., Any], make_report, customer
) -> None:
    make_report("Public SOC 3", visibility="public")
    client = login_as(customer)
    assert "Audit reports" not in client.get("/catalog/").get_data(as_text=True)
    category = db.session.scalars(
        select(ReportCategory).where(ReportCategory.slug == "reports")
    ).one()
    taxonomy.update_category(db.session, OPERATOR, category.id, {"name": "Audit reports"})
    uow.commit(db.session)
    assert "Audit reports" in client.get("/catalog/").get_data(as_text=True)


def test_the_front_page_list_follows_grants_and_publishing_at_once(
    app: Flask, client: FlaskClient, login_as: Callable[..., Any], make_report, customer, staff
) -> None:
    """The front page's list is rendered once per scope and generation: a revoked grant and a
    newly published report show on the very next visit, for that customer and for visitors."""
    report = make_report("Restricted SOC 2", visibility="restricted")
    grant = grants.create_grant(
        db.session, OPERATOR, report_id=report.id, user_email=customer.email
    )
    uow.commit(db.session)
    visitor = app.test_client()
    login_as(customer)
    for _ in range(3):  # rendered once, then kept
        assert f'href="/catalog/{report.id}"' in client.get("/").get_data(as_text=True)
        assert "Restricted SOC 2" not in visitor.get("/").get_data(as_text=True)

    grants.revoke_grant(db.session, OPERATOR, grant.id)
    public = make_report("Public ISO 27001 certificate", visibility="public")
    uow.commit(db.session)

    page = client.get("/").get_data(as_text=True)
    assert f'href="/catalog/{report.id}"' not in page
    assert "Public ISO 27001 certificate" in page
    assert f'href="/catalog/{public.id}"' in visitor.get("/").get_data(as_text=True)


def test_the_pending_requests_badge_follows_a_request_and_its_decision_at_once(
    app: Flask, login_as: Callable[..., Any], client: FlaskClient, make_report, customer, staff
) -> None:
    """The count in every staff page's header is kept per generation: a customer's request and
    a decision on it show on the staff member's very next page."""
    report = make_report("Restricted SOC 2", visibility="restricted")
    login_as(staff)
    badge = '<span class="badge">1<span class="visually-hidden"> pending</span></span>'
    for _ in range(2):
        assert badge not in client.get("/").get_data(as_text=True)
    asked = grants.request_access(db.session, Caller.of_user(customer), report_id=report.id)
    uow.commit(db.session)
    for _ in range(2):
        assert badge in client.get("/").get_data(as_text=True)
    grants.decide_request(db.session, OPERATOR, asked.id, approve=False)
    uow.commit(db.session)
    assert badge not in client.get("/").get_data(as_text=True)


def test_a_full_store_of_kept_answers_lets_its_oldest_go_first(app: Flask) -> None:
    """A full store drops only its oldest answer, never everything it keeps (a burst of new
    pages would otherwise have every kept page worked out again)."""
    from artifact import policy

    store: dict[Any, Any] = {}
    asked: list[str] = []

    def keep(name: str) -> str:
        return policy._remember(
            store, 2, db.session, name, lambda: asked.append(name) or name, None
        )

    for name in ("a", "b", "c", "c", "b"):
        assert keep(name) == name
    assert asked == ["a", "b", "c"]
    assert keep("a") == "a"
    assert asked == ["a", "b", "c", "a"]


def test_threads_sharing_a_full_store_of_kept_answers_never_fail(app: Flask) -> None:
    """Threads of one worker (the development server is threaded) fill one small store at
    once: every answer comes back and the store keeps its bound."""
    import sys
    import threading

    from artifact import policy

    store: dict[Any, Any] = {}
    session = db.session()  # the session itself: the threads have no app context
    policy._remember(store, 4, session, "primed", lambda: "primed", None)  # reads the generation
    errors: list[BaseException] = []

    def fill(worker: int) -> None:
        try:
            for n in range(3000):
                name = f"{worker}:{n}"
                kept = policy._remember(store, 4, session, name, lambda name=name: name, None)
                assert kept == name
        except BaseException as error:  # noqa: BLE001  (reported by the assertion below)
            errors.append(error)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=fill, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert len(store) <= 4
