"""The evidence and coverage an engagement opens to its auditors: approved versions of
evidence linked to in-scope requirements, effective inside the period under audit
(``policy.engagement_versions``). Anything else is a NotFound. Every read and every download
is an audit event naming the engagement; a download is a copy stamped with the recipient's
identity and a receipt id, recorded like report downloads."""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import selectinload

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.catalog.services.downloads import DEFAULT_TERMS
from artifact.catalog.services.integrity import read_verified
from artifact.engagements.services.records import get_engagement, in_scope_requirements
from artifact.infra.pdf.stamp import CoverFacts, Recipient, issue_copy
from artifact.infra.storage import BlobStore
from artifact.kernel.caller import Caller
from artifact.kernel.errors import NotFound, ValidationFailed
from artifact.models import (
    Engagement,
    EngagementReceipt,
    Evidence,
    EvidenceLink,
    EvidenceVersion,
    User,
)
from artifact.models.base import DbSession, is_id, utcnow


@dataclass(frozen=True)
class ScopedEvidence:
    """One evidence item as the engagement shows it: the latest version in scope, and every
    version number in scope."""

    evidence: Evidence
    version: EvidenceVersion
    numbers: tuple[int, ...]


@dataclass(frozen=True)
class EngagementFile:
    body: bytes
    filename: str
    content_type: str
    receipt: str
    version: int
    sha256: str  # of the bytes served


def _scoped_versions(
    db: DbSession, engagement: Engagement, evidence_id: str | None = None
) -> list[EvidenceVersion]:
    stmt = policy.engagement_versions(engagement)
    if evidence_id is not None:
        stmt = stmt.where(EvidenceVersion.evidence_id == evidence_id)
    stmt = stmt.options(
        selectinload(EvidenceVersion.evidence)
        .selectinload(Evidence.links)
        .selectinload(EvidenceLink.requirement)
    )
    return list(db.scalars(stmt.order_by(EvidenceVersion.evidence_id, EvidenceVersion.number)))


def _grouped(versions: list[EvidenceVersion]) -> list[ScopedEvidence]:
    by_item: dict[str, list[EvidenceVersion]] = defaultdict(list)
    for version in versions:
        by_item[version.evidence_id].append(version)
    found = [
        ScopedEvidence(vs[0].evidence, vs[-1], tuple(v.number for v in vs))
        for vs in by_item.values()
    ]
    return sorted(found, key=lambda s: (s.evidence.title.lower(), s.evidence.id))


def scoped_evidence(db: DbSession, engagement: Engagement) -> list[ScopedEvidence]:
    """Every evidence item in scope of ``engagement`` (no policy check, no event: for callers
    that checked already, such as the package export)."""
    return _grouped(_scoped_versions(db, engagement))


def scoped_item(
    db: DbSession, engagement: Engagement, evidence_id: str, number: int | None = None
) -> tuple[Evidence, EvidenceVersion]:
    """The evidence and its latest in-scope version (or version ``number``, if in scope).
    Raises NotFound for anything outside the scope."""
    if not is_id(evidence_id):
        raise NotFound("no such evidence")
    versions = _scoped_versions(db, engagement, evidence_id)
    if number is not None:
        versions = [v for v in versions if v.number == number]
    if not versions:
        raise NotFound("no such evidence")
    return versions[-1].evidence, versions[-1]


def list_evidence(db: DbSession, caller: Caller, engagement_id: str) -> list[ScopedEvidence]:
    """The evidence in scope, for the engagement's auditors and staff; recorded as
    ``engagement.evidence.list``. Raises NotFound."""
    engagement = get_engagement(db, caller, engagement_id, "engagement.evidence")
    found = scoped_evidence(db, engagement)
    audit.record(
        db,
        caller,
        "engagement.evidence.list",
        target_type="engagement",
        target_id=engagement.id,
        details={"evidence": [s.evidence.id for s in found]},
    )
    return found


def get_evidence(
    db: DbSession, caller: Caller, engagement_id: str, evidence_id: str
) -> ScopedEvidence:
    """One evidence item in scope; recorded as ``engagement.evidence.view``. Raises NotFound."""
    engagement = get_engagement(db, caller, engagement_id, "engagement.evidence")
    if not is_id(evidence_id):
        raise NotFound("no such evidence")
    found = _grouped(_scoped_versions(db, engagement, evidence_id))
    if not found:
        raise NotFound("no such evidence")
    audit.record(
        db,
        caller,
        "engagement.evidence.view",
        target_type="engagement",
        target_id=engagement.id,
        details={"evidence_id": evidence_id},
    )
    return found[0]


def head(
    db: DbSession, caller: Caller, engagement_id: str, evidence_id: str, number: int | None = None
) -> tuple[Evidence, EvidenceVersion]:
    """A HEAD request: what a download would serve, recorded as an access
    (``engagement.evidence.download`` with ``method: HEAD``; no copy is made, so no receipt).
    Raises NotFound."""
    engagement = get_engagement(db, caller, engagement_id, "engagement.evidence")
    evidence, version = scoped_item(db, engagement, evidence_id, number)
    audit.record(
        db,
        caller,
        "engagement.evidence.download",
        target_type="engagement",
        target_id=engagement.id,
        details={"evidence_id": evidence.id, "version": version.number, "method": "HEAD"},
    )
    return evidence, version


def download(
    db: DbSession,
    caller: Caller,
    store: BlobStore,
    engagement_id: str,
    evidence_id: str,
    number: int | None = None,
    *,
    recipient: User | None = None,
    terms: str = DEFAULT_TERMS,
) -> EngagementFile:
    """A copy of the latest in-scope version (or version ``number``) of ``evidence_id``: a PDF
    gets the cover page and the watermark of report downloads (the recipient's name, e-mail,
    organisation, time and receipt id); other files are served as stored, the receipt in the
    response header only. Recorded as ``engagement.evidence.download`` (naming the engagement,
    the evidence, the version and the receipt) with an ``EngagementReceipt``. ``recipient``:
    the auditor a copy is made for when someone else asks (the package export); by default
    the caller. Raises NotFound, IntegrityFailure (after recording it)."""
    engagement = get_engagement(db, caller, engagement_id, "engagement.evidence")
    evidence, version = scoped_item(db, engagement, evidence_id, number)
    receipt = secrets.token_hex(10)
    details: dict[str, Any] = {
        "evidence_id": evidence.id,
        "version": version.number,
        "receipt": receipt,
        "sha256": version.sha256,
    }
    data = read_verified(
        db,
        caller,
        store,
        version.blob_id,
        version.sha256,
        action="engagement.evidence.download",
        target_type="engagement",
        target_id=engagement.id,
        details=details,
    )
    who = _recipient(caller, recipient, receipt)
    if version.file_type == "pdf":
        facts = CoverFacts(
            title=evidence.title,
            version=version.number,
            sha256=version.sha256,
            issuer=f"Audit engagement: {engagement.name}",
            period=f"{engagement.period_start.isoformat()} to {engagement.period_end.isoformat()}",
            terms=terms,
        )
        data = issue_copy(data, facts, who)
    if recipient is not None:
        details["recipient"] = who.email
    event = audit.record(
        db,
        caller,
        "engagement.evidence.download",
        target_type="engagement",
        target_id=engagement.id,
        details=details,
    )
    db.add(
        EngagementReceipt(
            id=receipt,
            engagement_id=engagement.id,
            evidence_id=evidence.id,
            version_id=version.id,
            user_id=recipient.id if recipient is not None else caller.user_id,
            email=who.email,
            organization=who.organization or None,
            ip_address=caller.ip_address,
            created_at=who.at,
            audit_seq=event.seq,
        )
    )
    stamped = version.file_type == "pdf"
    return EngagementFile(
        body=data,
        filename=_download_name(version, stamped),
        content_type="application/pdf" if stamped else version.content_type,
        receipt=receipt,
        version=version.number,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _recipient(caller: Caller, recipient: User | None, receipt: str) -> Recipient:
    if recipient is not None:
        firm = recipient.organization.name if recipient.organization else ""
        return Recipient(recipient.name, recipient.email, firm, utcnow(), receipt)
    return Recipient(
        caller.name or "",
        caller.email or "",
        caller.organization_name or "",
        utcnow(),
        receipt,
    )


def _download_name(version: EvidenceVersion, stamped: bool) -> str:
    stem, dot, suffix = version.filename.rpartition(".")
    if not dot:
        stem, suffix = version.filename, ""
    name = f"{stem} v{version.number}"
    return f"{name}.pdf" if stamped else (f"{name}.{suffix}" if suffix else name)


def version_number(value: str | None) -> int | None:
    """``?version=N``: None when absent. Raises ValidationFailed."""
    if value is None:
        return None
    if not value.isdigit() or not 0 < int(value) < 1_000_000:
        raise ValidationFailed("version must be a positive whole number")
    return int(value)


def coverage(db: DbSession, caller: Caller, engagement_id: str) -> list[dict[str, Any]]:
    """Per in-scope requirement: the evidence in scope linked to it (ids and titles) and
    ``covered`` when there is any; recorded as ``engagement.coverage.view``. Only evidence in
    scope is ever named. Raises NotFound."""
    engagement = get_engagement(db, caller, engagement_id, "engagement.evidence")
    requirements = in_scope_requirements(db, engagement)
    items = scoped_evidence(db, engagement)
    by_requirement: dict[str, list[ScopedEvidence]] = defaultdict(list)
    for item in items:
        for link in item.evidence.links:
            by_requirement[link.requirement_id].append(item)
    rows = [
        {
            "requirement": requirement.name,
            "ref": requirement.ref,
            "title": requirement.title,
            "covered": bool(by_requirement.get(requirement.id)),
            "evidence": [
                {"id": s.evidence.id, "title": s.evidence.title, "version": s.version.number}
                for s in by_requirement.get(requirement.id, [])
            ],
        }
        for requirement in requirements
    ]
    audit.record(
        db,
        caller,
        "engagement.coverage.view",
        target_type="engagement",
        target_id=engagement.id,
    )
    return rows


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def evidence_json(item: ScopedEvidence, engagement: Engagement | None = None) -> dict[str, Any]:
    """What the engagement shows of one evidence item: never its draft versions nor links to
    requirements outside the scope (``engagement`` given: only in-scope links are named)."""
    version = item.version
    in_scope: set[str] | None = None
    if engagement is not None:
        in_scope = {s.requirement_id for s in engagement.scope}
    links = [
        link.requirement.name
        for link in item.evidence.links
        if engagement is None
        or (
            link.requirement.framework_id == engagement.framework_id
            if engagement.framework_id
            else link.requirement_id in (in_scope or set())
        )
    ]
    return {
        "id": item.evidence.id,
        "title": item.evidence.title,
        "requirements": sorted(links),
        "version": version.number,
        "versions": list(item.numbers),
        "effective_date": _day(version.effective_date),
        "expires_on": _day(version.expires_on),
        "type": version.file_type,
        "content_type": version.content_type,
        "filename": version.filename,
        "size": version.size,
        "sha256": version.sha256,
    }
