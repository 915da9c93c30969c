"""Every report download goes through here: the policy, the terms gate, the integrity check,
the stamped copy, the receipt and the audit event; and staff's fetch of an uploaded original."""

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
from artifact.models.catalog import Visibility

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
    sha256: str = ""


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


def head(
    db: DbSession, caller: Caller, report_id: str, number: int | None = None
) -> tuple[Report, ReportVersion]:
    """A HEAD request: what ``check`` finds, recorded as an access (``report.download`` with
    ``method: HEAD``; no copy is made, so no receipt). Raises what ``check`` raises."""
    report, version = check(db, caller, report_id, number)
    audit.record(
        db,
        caller,
        "report.download",
        target_type="report",
        target_id=report.id,
        details={"version": version.number, "sha256": version.sha256, "method": "HEAD"},
    )
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
        filename=download_name(report, version),
        content_type="application/pdf",
        receipt=receipt,
        version=version.number,
    )


def download_name(report: Report, version: ReportVersion, suffix: str = "") -> str:
    """The name a copy is served under, ours and never the uploader's: the report's title, its
    period of coverage if it has one, the version (``SOC 2 Type II 2025-01-01 to 2025-06-30
    v2.pdf``). ``web.files`` makes it safe for the header."""
    start, end = report.period_start, report.period_end
    period = (
        f" {start.isoformat()} to {end.isoformat()}"
        if start and end
        else f" to {end.isoformat()}"
        if end
        else f" from {start.isoformat()}"
        if start
        else ""
    )
    title = report.title.replace("/", "-").replace("\\", "-")
    return f"{title}{period} v{version.number}{suffix}.pdf"


def original(
    db: DbSession, caller: Caller, store: BlobStore, report_id: str, number: int
) -> Download:
    """The bytes of version ``number`` exactly as they were uploaded (staff), as an audit
    event. Raises NotFound (also for callers who may not fetch originals), IntegrityFailure."""
    report = get_report(db, caller, report_id)
    policy.require(caller, "report.original", report)
    version = find_version(report, number)
    details = {"version": version.number, "sha256": version.sha256}
    data = read_verified(
        db,
        caller,
        store,
        version.blob_id,
        version.sha256,
        action="report.original",
        target_type="report",
        target_id=report.id,
        details=details,
    )
    audit.record(
        db, caller, "report.original", target_type="report", target_id=report.id, details=details
    )
    return Download(
        body=data,
        filename=download_name(report, version, " original"),
        content_type="application/pdf",
        receipt="",
        version=version.number,
        sha256=version.sha256,
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


def _period(report: Report) -> str:
    if report.period_start or report.period_end:
        return f"{_day(report.period_start)} to {_day(report.period_end)}"
    return ""


def _cover_facts(report: Report, version: ReportVersion, terms: str) -> CoverFacts:
    public = report.visibility == Visibility.PUBLIC
    return CoverFacts(
        title=report.title,
        version=version.number,
        sha256=version.sha256,
        issuer=report.issuer,
        period=_period(report),
        terms="" if public else terms,
        public=public,
    )


def _day(value: date | None) -> str:
    return value.isoformat() if value else "open"


def trace(db: DbSession, receipt: str) -> DownloadReceipt | None:
    """The download a receipt id names."""
    return db.get(DownloadReceipt, receipt)
