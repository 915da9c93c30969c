"""The engagement package: one ZIP for the receiving auditor with the accepted evidence
(decrypted, PDFs stamped with the auditor's identity and a receipt), the request list as CSV,
the audit trail as ``flask audit export`` writes it (its standalone verifier included) with the
engagement's own events picked out, and a manifest with the SHA-256 of every file.

The audit verifier walks the hash chain from its first event, so the package carries the whole
trail: a subset of it could not be verified. ``engagement-events.jsonl`` lists the events that
name the engagement; each is also in ``audit/events.jsonl``, where the chain vouches for it.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.audit.services import trail as audit_trail
from artifact.engagements.services import csv_io, scope
from artifact.engagements.services.records import get_engagement, trail
from artifact.infra.storage import BlobStore
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.kernel.errors import ValidationFailed
from artifact.kernel.filenames import ascii_fallback, clean_filename
from artifact.models import User
from artifact.models.base import DbSession, utcnow
from artifact.models.engagements import (
    Engagement,
    RequestEvidence,
    RequestStatus,
)
from artifact.models.evidence import EvidenceVersion

PACKAGE_TERMS = (
    "This evidence is confidential. It is provided to you for the audit engagement named "
    "above and for no other purpose.\n\nDo not copy, forward or publish it, in whole or in "
    "part, without the provider's written consent. This copy is marked with your identity and "
    "a receipt id that is recorded in the provider's audit trail."
)
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass
class Manifest:
    engagement: dict[str, Any]
    recipient: dict[str, str]
    created_at: str
    created_by: str
    files: list[dict[str, Any]] = field(default_factory=list)
    audit: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> bytes:
        body = {
            "format": "artifact-engagement-package-v1",
            "engagement": self.engagement,
            "recipient": self.recipient,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "files": self.files,
            "audit": self.audit,
        }
        return json.dumps(body, indent=2, sort_keys=True).encode() + b"\n"


def recipients(engagement: Engagement) -> list[User]:
    """The auditors a package may be made for, by e-mail."""
    return sorted((a.user for a in engagement.auditors), key=lambda user: user.email)


def _recipient(engagement: Engagement, email: str | None) -> User:
    auditors = recipients(engagement)
    if email is None or not email.strip():
        if len(auditors) == 1:
            return auditors[0]
        raise ValidationFailed(
            f"the engagement has {len(auditors)} auditors: name the one who receives the "
            "package (" + ", ".join(user.email for user in auditors) + ")"
            if auditors
            else "the engagement has no auditor to receive the package"
        )
    wanted = email.strip().lower()
    for user in auditors:
        if user.email.lower() == wanted:
            return user
    raise ValidationFailed(f"{email.strip()[:320]} is not an auditor of this engagement")


def accepted_attachments(engagement: Engagement) -> list[RequestEvidence]:
    """Evidence attached to the accepted requests, one entry per evidence version."""
    seen: dict[str, RequestEvidence] = {}
    for request in engagement.requests:
        if request.status != RequestStatus.ACCEPTED:
            continue
        for attachment in request.attachments:
            seen.setdefault(attachment.version_id, attachment)
    return list(seen.values())


def _requests_of(engagement: Engagement, version_id: str) -> list[str]:
    return [
        csv_io.request_ref(request)
        for request in engagement.requests
        if request.status == RequestStatus.ACCEPTED
        and any(a.version_id == version_id for a in request.attachments)
    ]


def _evidence_name(index: int, version: EvidenceVersion) -> str:
    name = ascii_fallback(clean_filename(version.filename, "evidence"), "evidence")
    return f"evidence/{index:03d}-{name}"


def engagement_event(fields: dict[str, Any], engagement_id: str) -> bool:
    """Whether an audit event is one of the engagement's (its target)."""
    return fields.get("target_type") == "engagement" and fields.get("target_id") == engagement_id


class _Zip:
    """A ZIP being written, remembering each file's SHA-256 and size for the manifest."""

    def __init__(self, out: IO[bytes]) -> None:
        self.zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED)
        self.hashes: dict[str, tuple[str, int]] = {}

    def add(self, name: str, data: bytes) -> str:
        info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        self.zip.writestr(info, data)
        digest = hashlib.sha256(data).hexdigest()
        self.hashes[name] = (digest, len(data))
        return digest


def write_package(
    db: DbSession,
    caller: Caller,
    store: BlobStore,
    engagement_id: str,
    out: IO[bytes],
    *,
    auditor_email: str | None,
    data_dir: str | Path,
    witness: str | None = None,
) -> Manifest:
    """Write the package ZIP to ``out`` and return its manifest. The package is an audit event
    (a durable one: the bytes may be out by the time the owner rolls back), written before the
    trail is copied, so the package holds its own record. Raises NotFound (also when the
    caller may not see the engagement), PermissionDenied, ValidationFailed (no such auditor),
    IntegrityFailure (a stored file failed its check: nothing is written)."""
    engagement = get_engagement(db, caller, engagement_id, "engagement.export")
    auditor = _recipient(engagement, auditor_email)
    full_trail = policy.decide(caller, "audit.export").allowed
    witnessed = audit_trail.witness_records(db, data_dir, witness) if full_trail else None
    archive = _Zip(out)
    manifest = Manifest(
        engagement={
            "id": engagement.id,
            "name": engagement.name,
            "organization": engagement.organization.name,
            "framework": engagement.framework.key if engagement.framework else None,
            "period_start": engagement.period_start.isoformat(),
            "period_end": engagement.period_end.isoformat(),
            "starts_on": engagement.starts_on.isoformat(),
            "ends_on": engagement.ends_on.isoformat(),
            "state": engagement.state,
        },
        recipient={
            "email": auditor.email,
            "name": auditor.name or "",
            "organization": auditor.organization.name if auditor.organization else "",
        },
        created_at=utcnow().isoformat(),
        created_by=caller.email or caller.name or "operator",
    )
    for index, attachment in enumerate(accepted_attachments(engagement), start=1):
        version = attachment.version
        copy = scope.download(
            db,
            caller,
            store,
            engagement.id,
            attachment.evidence_id,
            version.number,
            recipient=auditor,
            terms=PACKAGE_TERMS,
        )
        body, receipt = copy.body, copy.receipt
        name = _evidence_name(index, version)
        digest = archive.add(name, body)
        manifest.files.append(
            {
                "path": name,
                "sha256": digest,
                "size": len(body),
                "evidence_id": attachment.evidence_id,
                "title": attachment.evidence.title,
                "version": version.number,
                "original_sha256": version.sha256,
                "receipt": receipt,
                "watermarked": version.file_type == "pdf",
                "requests": _requests_of(engagement, version.id),
            }
        )
    csv_text = csv_io.render(engagement.requests).encode("utf-8")
    digest = archive.add("requests.csv", csv_text)
    manifest.files.append({"path": "requests.csv", "sha256": digest, "size": len(csv_text)})
    details = {
        "engagement_id": engagement.id,
        "recipient": auditor.email,
        "files": len(manifest.files) - 1,
    }
    uow.durable(
        db,
        lambda session: audit.record(
            session,
            caller,
            "engagement.export",
            target_type="engagement",
            target_id=engagement.id,
            details=details,
        ),
    )
    if full_trail:
        _add_trail(db, archive, manifest, engagement.id, data_dir, witnessed)
    else:
        _add_engagement_events(db, caller, archive, manifest, engagement.id)
    archive.add("manifest.json", manifest.as_json())
    archive.zip.close()
    return manifest


def _add_trail(
    db: DbSession,
    archive: _Zip,
    manifest: Manifest,
    engagement_id: str,
    data_dir: str | Path,
    witnessed: list[dict[str, Any]] | None,
) -> None:
    """The trail as ``flask audit export`` writes it, under audit/, and the engagement's events
    picked out of it."""
    with tempfile.TemporaryDirectory(prefix="artifact-package-") as scratch:
        directory = Path(scratch) / "audit"
        count = audit_trail.write_trail(db, data_dir, directory, witnessed)
        picked: list[bytes] = []
        for line in _lines(directory / "events.jsonl"):
            if engagement_event(json.loads(line), engagement_id):
                picked.append(line)
        for path in sorted(directory.iterdir()):
            name = f"audit/{path.name}"
            data = path.read_bytes()
            manifest.files.append(
                {"path": name, "sha256": archive.add(name, data), "size": len(data)}
            )
    joined = b"".join(picked)
    digest = archive.add("engagement-events.jsonl", joined)
    manifest.files.append(
        {"path": "engagement-events.jsonl", "sha256": digest, "size": len(joined)}
    )
    manifest.audit = {
        "events": count,
        "engagement_events": [json.loads(line)["seq"] for line in picked],
        "verify": "python3 audit/verify.py audit",
    }


def _add_engagement_events(
    db: DbSession, caller: Caller, archive: _Zip, manifest: Manifest, engagement_id: str
) -> None:
    """For a caller who may not export the audit trail (staff): the engagement's events alone,
    each with its hashes, but not the rest of the trail the verifier needs to walk the chain
    (an administrator's package, or ``flask engagements export``, carries it)."""
    picked = [audit.event_fields(event) for event in trail(db, caller, engagement_id)]
    joined = b"".join(json.dumps(fields, sort_keys=True).encode() + b"\n" for fields in picked)
    digest = archive.add("engagement-events.jsonl", joined)
    manifest.files.append(
        {"path": "engagement-events.jsonl", "sha256": digest, "size": len(joined)}
    )
    manifest.audit = {
        "events": None,
        "engagement_events": [fields["seq"] for fields in picked],
        "verify": "the audit trail is not in this package: only administrators may export it. "
        "An administrator's package (the page's button, or flask engagements export) carries "
        "it with its standalone verifier.",
    }


def _lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        yield from (line for line in handle if line.strip())


def package_name(engagement: Engagement) -> str:
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return ascii_fallback(
        clean_filename(f"{engagement.name} package {stamp}.zip", "package.zip"), "package.zip"
    )
