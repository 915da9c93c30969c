"""Serving evidence: verified downloads (recorded in the trail) and the JSON shape."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from artifact.audit.services import chain as audit
from artifact.catalog.services.integrity import read_verified
from artifact.evidence.services.records import get_evidence
from artifact.infra.pdf.stamp import sanitized_copy
from artifact.infra.storage import BlobStore
from artifact.kernel.caller import Caller
from artifact.kernel.errors import NotFound
from artifact.models import Evidence, EvidenceVersion
from artifact.models.base import DbSession


@dataclass(frozen=True)
class EvidenceFile:
    body: bytes
    filename: str
    content_type: str
    version: int
    sha256: str


def find_version(evidence: Evidence, number: int | None) -> EvidenceVersion:
    """The current version, or version ``number``. Raises NotFound."""
    version = (
        evidence.current_version()
        if number is None
        else next((v for v in evidence.versions if v.number == number), None)
    )
    if version is None:
        raise NotFound("no such version")
    return version


def download(
    db: DbSession, caller: Caller, store: BlobStore, evidence_id: str, number: int | None = None
) -> EvidenceFile:
    """The stored bytes, checked against their SHA-256, as an audit event; a PDF without its
    active content (JavaScript, actions, embedded files: then ``sha256`` is the served copy's).
    Raises NotFound (also when not visible), IntegrityFailure (after recording it)."""
    evidence = get_evidence(db, caller, evidence_id, "evidence.download")
    version = find_version(evidence, number)
    data = read_verified(
        db,
        caller,
        store,
        version.blob_id,
        version.sha256,
        action="evidence.download",
        target_type="evidence",
        target_id=evidence.id,
        details={"version": version.number},
    )
    removed: list[str] = []
    if version.file_type == "pdf":
        data, removed = sanitized_copy(data)
    details: dict[str, Any] = {"version": version.number, "sha256": version.sha256}
    if removed:
        details["removed_content"] = removed
    audit.record(
        db,
        caller,
        "evidence.download",
        target_type="evidence",
        target_id=evidence.id,
        details=details,
    )
    return EvidenceFile(
        body=data,
        filename=version.filename,
        content_type=version.content_type,
        version=version.number,
        sha256=hashlib.sha256(data).hexdigest() if removed else version.sha256,
    )


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def version_json(version: EvidenceVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "sha256": version.sha256,
        "size": version.size,
        "type": version.file_type,
        "content_type": version.content_type,
        "filename": version.filename,
        "effective_date": _day(version.effective_date),
        "expires_on": _day(version.expires_on),
        "created_at": version.created_at.isoformat(),
        "uploaded_by": version.created_by.email if version.created_by else None,
    }


def evidence_json(evidence: Evidence, today: date, *, full: bool = False) -> dict[str, Any]:
    approval = evidence.approval()
    current = evidence.current_version()
    body: dict[str, Any] = {
        "id": evidence.id,
        "title": evidence.title,
        "state": evidence.display_state(today),
        "owner": evidence.owner.email,
        "effective_date": _day(evidence.effective_date),
        "expires_on": _day(evidence.expires_on),
        "current_version": current.number if current else None,
        "requirements": sorted(link.requirement.name for link in evidence.links),
        "approved": None
        if approval is None
        else {
            "version": approval.version.number,
            "by": approval.approved_by.email,
            "at": approval.approved_at.isoformat(),
        },
    }
    if full:
        body["description"] = evidence.description
        body["versions"] = [version_json(v) for v in evidence.versions]
    return body
