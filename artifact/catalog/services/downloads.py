"""Every report download goes through here: the policy, the terms gate, the integrity check,
the stamped copy, the receipt and the audit event."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from artifact import policy
from artifact.agreements.services import agreements
from artifact.audit.services import chain as audit
from artifact.catalog.services.integrity import read_verified
from artifact.catalog.services.reports import find_version, get_report
from artifact.infra.pdf.stamp import CoverFacts, Recipient, issue_copy
from artifact.infra.storage import BlobStore
from artifact.kernel.caller import Caller
from artifact.models import DownloadReceipt, Report, ReportVersion
from artifact.models.base import DbSession, utcnow

DEFAULT_TERMS = (
    "This document is confidential. It is provided to you solely to evaluate the provider's "
    "security and compliance posture, under the agreement between your organisation and the "
    "provider.\n\nDo not copy, forward or publish it, in whole or in part, without the "
    "provider's written consent. This copy is marked with your identity and a receipt id that "
    "is recorded in the provider's audit trail."
)


@dataclass(frozen=True)
class Download:
    body: bytes
    filename: str
    content_type: str
    receipt: str
    version: int


def check(
    db: DbSession, caller: Caller, report_id: str, number: int | None = None
) -> tuple[Report, ReportVersion]:
    """What a download would serve, without serving it (HEAD). Raises NotFound, and
    TermsRequired while the caller (or their organisation) has not accepted the current version
    of the report's agreement: checked on the server at every download."""
    report = get_report(db, caller, report_id, "report.download")
    version = find_version(report, number)

    def terms_met(agreement_id: str) -> bool:
        return agreements.terms_status(db, caller, agreement_id).satisfied

    decision = policy.may_download(caller, report, terms_met, known_visible=True)
    if decision.reason == policy.Reason.ACCEPT_TERMS and report.terms_agreement_id:
        # The 428 names the agreement and its current version, for the accept form.
        agreements.require_terms(db, caller, report.terms_agreement_id)
    policy.enforce(decision)
    return report, version


def download(
    db: DbSession,
    caller: Caller,
    store: BlobStore,
    report_id: str,
    number: int | None = None,
    terms: str = DEFAULT_TERMS,
) -> Download:
    """A stamped copy of the latest (or ``number``) version. Raises NotFound when the report
    or version is not visible, IntegrityFailure (after recording it) when the stored bytes fail
    their check."""
    report, version = check(db, caller, report_id, number)
    receipt = secrets.token_hex(10)
    original = _read_verified(db, caller, store, report, version, receipt)
    now = utcnow()
    signed_in = caller.is_authenticated and caller.user_id
    organization = (caller.organization_name or "") if signed_in else ""
    recipient = Recipient(
        name=(caller.name or "") if signed_in else "",
        email=(caller.email or "") if signed_in else "anonymous visitor",
        organization=organization,
        at=now,
        receipt=receipt,
    )
    body = issue_copy(original, _cover_facts(report, version, terms), recipient)
    event = audit.record(
        db,
        caller,
        "report.download",
        target_type="report",
        target_id=report.id,
        details={"version": version.number, "receipt": receipt, "sha256": version.sha256},
    )
    db.add(
        DownloadReceipt(
            id=receipt,
            report_id=report.id,
            version_id=version.id,
            user_id=caller.user_id if signed_in else None,
            email=recipient.email,
            organization=organization or None,
            ip_address=caller.ip_address,
            created_at=now,
            audit_seq=event.seq,
        )
    )
    return Download(
        body=body,
        filename=version.filename,
        content_type="application/pdf",
        receipt=receipt,
        version=version.number,
    )


def _read_verified(
    db: DbSession,
    caller: Caller,
    store: BlobStore,
    report: Report,
    version: ReportVersion,
    receipt: str,
) -> bytes:
    return read_verified(
        db,
        caller,
        store,
        version.blob_id,
        version.sha256,
        action="report.download",
        target_type="report",
        target_id=report.id,
        details={"version": version.number, "receipt": receipt},
    )


def _cover_facts(report: Report, version: ReportVersion, terms: str) -> CoverFacts:
    period = ""
    if report.period_start or report.period_end:
        period = f"{_day(report.period_start)} to {_day(report.period_end)}"
    return CoverFacts(
        title=report.title,
        version=version.number,
        sha256=version.sha256,
        issuer=report.issuer,
        period=period,
        terms=terms,
    )


def _day(value: date | None) -> str:
    return value.isoformat() if value else "open"


def trace(db: DbSession, receipt: str) -> DownloadReceipt | None:
    """The download a receipt id names."""
    return db.get(DownloadReceipt, receipt)
