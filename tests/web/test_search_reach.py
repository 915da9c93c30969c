"""``policy.report_reach`` (what search filters reports by: classes of their attributes) admits
exactly what ``policy.listed`` and ``policy.may_download`` admit, for every kind of caller, on
both backends: the same rule in two forms cannot drift apart unnoticed."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from artifact import policy
from artifact.agreements.services import acceptance as agreements_accept
from artifact.catalog.services import grants, report_terms
from artifact.extensions import db
from artifact.infra.search import Backend
from artifact.infra.search.query import Query
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR, Caller
from artifact.models import Agreement, Report, ReportVersion, User
from artifact.models.base import utcnow
from artifact.search import services as search_service
from tests.fixtures_catalog import make_pdf


def _expected(caller: Caller) -> tuple[set[str], set[str]]:
    stmt = select(Report.id, Report.terms_agreement_id)
    rows = db.session.execute(policy.listed(stmt, caller)).all()  # type: ignore[arg-type]

    @functools.cache
    def met(agreement_id: str) -> bool:
        return policy.terms_met(db.session, caller, agreement_id)

    with_file = set(db.session.scalars(select(ReportVersion.report_id)))
    files = {r.id for r in rows if policy.may_download(caller, r, met, known_visible=True)}
    files &= with_file  # a report without a file is found by its metadata
    return {r.id for r in rows} - files, files


def _found(index: Backend, caller: Caller) -> tuple[set[str], set[str]]:
    scope = search_service.scope(db.session, caller)
    found = index.search(Query(), scope, limit=200, facets=False)
    reports = [h for h in found.hits if h.type == "report"]
    assert len(reports) == len({h.id for h in reports})  # each document once
    return {h.id for h in reports if h.part == "meta"}, {h.id for h in reports if h.part == "doc"}


def test_reach_admits_what_the_policy_lists_and_lets_download(
    make_report: Callable[..., Report],
    make_user: Callable[..., User],
    nda: Agreement,
    search_index: Backend,
) -> None:
    made = {}
    for visibility in ("public", "customers", "restricted"):
        for state in ("published", "draft", "retired", "outdated"):
            for listing in ("listed", "hidden"):
                title = f"{visibility} {state} {listing}"
                made[title] = make_report(
                    title, visibility=visibility, state=state, listing=listing, pdf=make_pdf()
                )
    make_report("By series", series="PENTEST", pdf=make_pdf())
    make_report("By category", category="certifications", pdf=make_pdf())
    expired = make_report("Expired grant", pdf=make_pdf())
    revoked = make_report("Revoked grant", pdf=make_pdf())
    make_report("No file yet", visibility="public", state="draft")
    gated = make_report("Gated", visibility="customers", pdf=make_pdf())
    gated_granted = make_report("Gated granted", pdf=make_pdf())
    for report in (gated, gated_granted, made["public published listed"]):
        report_terms.set_terms(db.session, OPERATOR, report.id, nda.id)
    org = "Acme Health"
    customer = make_user("customer", org=org)
    accepted = make_user("customer", org=org)
    grants.create_grant(
        db.session, OPERATOR, report_id=made["restricted published listed"].id, organization=org
    )
    grants.create_grant(
        db.session, OPERATOR, report_id=made["restricted draft listed"].id, organization=org
    )
    grants.create_grant(db.session, OPERATOR, report_id=gated_granted.id, organization=org)
    grants.create_grant(db.session, OPERATOR, series="PENTEST", organization=org)
    grants.create_grant(db.session, OPERATOR, category="certifications", organization=org)
    lapsed = grants.create_grant(db.session, OPERATOR, report_id=expired.id, organization=org)
    lapsed.expires_at = utcnow() - timedelta(days=1)
    gone = grants.create_grant(db.session, OPERATOR, report_id=revoked.id, organization=org)
    grants.revoke_grant(db.session, OPERATOR, gone.id)
    uow.commit(db.session)

    agreements_accept.accept(
        db.session,
        Caller.of_user(accepted),
        nda.id,
        version=1,
        typed_name=accepted.name,
        scope="account",
    )
    uow.commit(db.session)
    callers = {
        "anonymous": Caller.anonymous(),
        "customer": Caller.of_user(customer),
        "accepted": Caller.of_user(accepted),
        "other organisation": Caller.of_user(make_user("customer", org="Evil Corp")),
        "no organisation": Caller.of_user(make_user("customer")),
        "auditor": Caller.of_user(make_user("auditor", org="Ledger Auditors")),
        "staff": Caller.of_user(make_user("staff")),
        "admin": Caller.of_user(make_user("admin")),
        "operator": OPERATOR,
    }
    for name, caller in callers.items():
        meta, files = _expected(caller)
        assert _found(search_index, caller) == (meta, files), name
    # The line above can fail: the callers differ.
    assert _expected(callers["customer"]) != _expected(callers["accepted"])
    assert _expected(callers["customer"]) != _expected(callers["other organisation"])


def test_standing_grants_are_named_by_grantee_and_expiring_ones_lapse_without_a_reindex(
    make_report: Callable[..., Report],
    make_user: Callable[..., User],
    search_index: Backend,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A grant without an expiry reaches the index as its grantee on the report, so the
    customer's scope names them, not the report (its size does not grow with their grants); a
    grant with an expiry is named by the report's id and ends when it expires, though nothing
    was reindexed; a revoked grant leaves the index with the report's next write."""
    org = "Acme Health"
    customer = make_user("customer", org=org)
    standing = make_report("Standing grant", pdf=make_pdf())
    mine = make_report("My own grant", pdf=make_pdf())
    timed = make_report("Timed grant", pdf=make_pdf())
    grants.create_grant(db.session, OPERATOR, report_id=standing.id, organization=org)
    own = grants.create_grant(db.session, OPERATOR, report_id=mine.id, user_email=customer.email)
    soon = utcnow() + timedelta(hours=1)
    grants.create_grant(
        db.session, OPERATOR, report_id=timed.id, organization=org, expires_at=soon.isoformat()
    )
    uow.commit(db.session)

    caller = Caller.of_user(customer)
    (rule,) = [r for r in search_service.scope(db.session, caller).rules if r.type == "report"]
    named = set().union(*rule.seen)
    assert f"id/{timed.id}" in named
    assert f"id/{standing.id}" not in named
    assert f"id/{mine.id}" not in named
    assert {f"to/org:{customer.organization_id}", f"to/user:{customer.id}"} <= named
    granted = {standing.id, mine.id, timed.id}
    assert _found(search_index, caller)[1] & granted == granted
    assert _found(search_index, caller) == _expected(caller)

    later = utcnow() + timedelta(hours=2)
    monkeypatch.setattr(policy, "utcnow", lambda: later)
    assert _found(search_index, caller)[1] & granted == {standing.id, mine.id}
    assert _found(search_index, caller) == _expected(caller)

    grants.revoke_grant(db.session, OPERATOR, own.id)
    uow.commit(db.session)
    assert _found(search_index, caller)[1] & granted == {standing.id}
    # Another member of the organisation holds the organisation's grant, not the account's.
    colleague = Caller.of_user(make_user("customer", org=org))
    assert _found(search_index, colleague)[1] & granted == {standing.id}
