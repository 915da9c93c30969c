"""The terms gate's side of reports: which agreement a report needs, and whether the caller has
accepted it. The download itself is gated in ``services/downloads.py``."""

from __future__ import annotations

from collections.abc import Iterable

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.catalog.services.reports import agreement_for, get_report
from artifact.kernel.caller import Caller
from artifact.models import Report
from artifact.models.base import DbSession
from artifact.search import indexer


def set_terms(db: DbSession, caller: Caller, report_id: str, agreement_id: str | None) -> Report:
    """Require (or stop requiring) acceptance of an agreement before downloads.
    Raises NotFound, ValidationFailed."""
    report = get_report(db, caller, report_id, "report.set_terms")
    agreement = agreement_for(db, agreement_id)
    before = report.terms_agreement_id
    report.terms_agreement_id = agreement.id if agreement else None
    audit.record(
        db,
        caller,
        "report.set_terms",
        target_type="report",
        target_id=report.id,
        details={"from": before, "to": report.terms_agreement_id},
    )
    indexer.note(db, "report", report.id, full=False)
    return report


def unmet_terms(db: DbSession, caller: Caller, found: Iterable[Report]) -> set[str]:
    """The agreement ids among ``found`` reports that ``caller`` has not accepted (current
    version) and must (staff need not); one look-up per distinct agreement, not per report,
    kept per policy generation (``policy.kept_terms_met``)."""
    if not policy.terms_gate_applies(caller):
        return set()
    needed = {report.terms_agreement_id for report in found if report.terms_agreement_id}
    return {
        agreement_id
        for agreement_id in needed
        if not policy.kept_terms_met(db, caller, agreement_id)
    }


def needs_terms(db: DbSession, caller: Caller, report: Report) -> bool:
    # Through the relationship, so the report holds the agreement (and its versions) for the
    # page that shows them instead of the session loading them twice.
    if report.terms_agreement is None:
        return False
    return bool(unmet_terms(db, caller, [report]))
