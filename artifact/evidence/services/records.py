"""Evidence records: upload, new versions, links to requirements, review and approval.

Only staff and admins may see evidence; to anyone else every evidence id is a NotFound."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.catalog.services import upload_guard
from artifact.catalog.services.integrity import VERSION_RACE, recorded_or_destroyed
from artifact.catalog.services.upload_guard import UploadGuard
from artifact.evidence.services.filetypes import Limits, identify
from artifact.frameworks.services import requirement_by_name
from artifact.identity.services.lookup import user_by_email
from artifact.infra.storage import BlobStore
from artifact.kernel.caller import Caller
from artifact.kernel.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    TooLarge,
    Unauthenticated,
    ValidationFailed,
)
from artifact.kernel.filenames import clean_filename
from artifact.kernel.text import check_text
from artifact.models import Evidence, EvidenceApproval, EvidenceLink, EvidenceVersion, User
from artifact.models.accounts import Role
from artifact.models.base import DbSession, is_id, utcnow
from artifact.models.evidence import STORED_STATES, EvidenceState
from artifact.models.frameworks import Framework, Requirement
from artifact.search import indexer

MAX_LINKS = 200
TITLE_MAX, DESCRIPTION_MAX, NOTE_MAX = 200, 10_000, 2_000
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = 50 * 1024 * 1024
    file: Limits = field(default_factory=Limits)
    guard: UploadGuard = field(default_factory=UploadGuard)  # virus scan and quotas


def require(caller: Caller, action: str, obj: Any = None) -> None:
    """Evidence hides itself: any denial but 'sign in' or 'own upload' is a NotFound."""
    decision = policy.decide(caller, action, obj)
    if decision:
        return
    if decision.reason == policy.Reason.SIGN_IN:
        raise Unauthenticated("sign in required")
    if decision.reason == policy.Reason.OWN_EVIDENCE:
        raise PermissionDenied(
            "you uploaded the current version, so someone else on the staff must approve it"
        )
    raise NotFound("not found")


def get_evidence(
    db: DbSession, caller: Caller, evidence_id: str, action: str = "evidence.view"
) -> Evidence:
    """Raises NotFound when absent or not visible to ``caller``."""
    require(caller, "evidence.view")
    if not is_id(evidence_id):
        raise NotFound("no such evidence")
    stmt = select(Evidence).where(Evidence.id == evidence_id)
    evidence: Evidence | None = db.scalar(policy.visible(stmt, caller, Evidence))
    if evidence is None:
        raise NotFound("no such evidence")
    if action != "evidence.view":
        require(caller, action, evidence)
    return evidence


def list_evidence(
    db: DbSession,
    caller: Caller,
    today: date,
    *,
    state: str | None = None,
    framework: str | None = None,
    owner: str | None = None,
) -> list[Evidence]:
    """Visible evidence, filtered by display state, framework key and owner (id or e-mail).
    Raises ValidationFailed for a state that does not exist."""
    require(caller, "evidence.list")
    if state and state not in state_choices():
        raise ValidationFailed(f"the state must be one of {', '.join(state_choices())}")
    if any("\x00" in value for value in (framework, owner) if value):
        return []  # no key nor e-mail holds NUL (and PostgreSQL refuses it in a query)
    stmt = policy.visible(select(Evidence), caller, Evidence).options(
        selectinload(Evidence.versions),
        selectinload(Evidence.approvals),
        selectinload(Evidence.owner),
        selectinload(Evidence.links),  # the list shows how many requirements each covers
    )
    if framework:
        linked = (
            select(EvidenceLink.evidence_id)
            .join(Requirement)
            .join(Framework)
            .where(Framework.key == framework.strip())
        )
        stmt = stmt.where(Evidence.id.in_(linked))
    if owner:
        stmt = stmt.join(User, Evidence.owner_id == User.id).where(
            (User.id == owner) | (func.lower(User.email) == owner.strip().lower())
        )
    found = list(db.scalars(stmt.order_by(Evidence.title)))
    if state:
        found = [e for e in found if e.display_state(today) == state]
    return found


def _text(values: dict[str, Any], name: str, limit: int, required: bool = False) -> str:
    """At most ``limit`` characters as sent, without NUL; white space trimmed (and, but in the
    description, runs of it made one space)."""
    raw = str(values.get(name) or "")
    check_text(raw, name, multiline=name == "description")
    value = raw.strip() if name == "description" else " ".join(raw.split())
    if required and not value:
        raise ValidationFailed(f"the {name} is required")
    if len(raw) > limit or "\x00" in raw:
        raise ValidationFailed(f"the {name} is too long (at most {limit} characters)")
    return value


def _date(value: Any, name: str, required: bool = False) -> date | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed(f"the {name} is required (a date like 2025-06-30)")
        return None
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if not _ISO_DAY.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"the {name} must be a date like 2025-06-30") from None


def _dates(values: dict[str, Any], today: date) -> tuple[date, date | None]:
    effective = _date(values.get("effective_date"), "effective date", required=True)
    assert effective is not None
    expires = _date(values.get("expires_on"), "expiry date")
    if effective > today:
        raise ValidationFailed(
            "the effective date (when the evidence was collected) is in the future"
        )
    if expires is not None and expires < effective:
        raise ValidationFailed("the expiry date is before the effective date")
    return effective, expires


def _owner(db: DbSession, caller: Caller, value: Any) -> User:
    if value in (None, "") and caller.user_id is not None:
        own = db.get(User, caller.user_id)
        if own is not None:
            return own
    user = user_by_email(db, str(value or "").strip())
    if user is None or not user.is_active or user.role not in (Role.STAFF, Role.ADMIN):
        # Well formed, but naming no one who may own evidence now: a conflict with the state.
        raise Conflict("the owner must be an active staff member (their e-mail)")
    return user


def requirement_names(value: Any) -> list[str]:
    """A list of ``framework:ref`` names, or one string of them separated by commas or lines."""
    if value in (None, ""):
        return []
    items: Iterable[Any] = value if isinstance(value, list | tuple) else [value]
    if isinstance(value, list | tuple) and len(value) > MAX_LINKS:
        raise ValidationFailed(f"too many requirements (at most {MAX_LINKS})")
    names = []
    for item in items:
        if not isinstance(item, str):
            raise ValidationFailed("requirements must be names like iso27001-2022:A.5.15")
        names += [" ".join(n.split()) for n in item.replace("\n", ",").split(",") if n.strip()]
    if len(names) > MAX_LINKS:
        raise ValidationFailed(f"too many requirements (at most {MAX_LINKS})")
    return list(dict.fromkeys(names))


def _requirements(db: DbSession, caller: Caller, value: Any) -> list[Requirement]:
    found = []
    for name in requirement_names(value):
        try:
            found.append(requirement_by_name(db, caller, name))
        except NotFound as error:
            # A name that names nothing (yet: its framework may be imported later).
            raise Conflict(f"unknown requirement {name!r}: {error.message}") from None
    return list({r.id: r for r in found}.values())


def _store_file(
    db: DbSession,
    caller: Caller,
    store: BlobStore,
    data: bytes,
    filename: str | None,
    limits: UploadLimits,
    evidence_id: str | None,
) -> tuple[Any, Any]:
    if len(data) > limits.max_bytes:
        raise TooLarge(
            f"the file is larger than the limit of {limits.max_bytes // (1024 * 1024)} MB"
        )
    upload_guard.screen(
        db, caller, limits.guard, data, target_type="evidence", target_id=evidence_id
    )
    kind = identify(data, filename, limits.file)
    return kind, store.put(io.BytesIO(data))


def _version(
    evidence: Evidence,
    number: int,
    blob: Any,
    kind: Any,
    filename: str | None,
    caller: Caller,
    effective: date,
    expires: date | None,
) -> EvidenceVersion:
    default = f"evidence-v{number}{kind.extensions[0]}"
    return EvidenceVersion(
        evidence_id=evidence.id,
        number=number,
        blob_id=blob.id,
        filename=clean_filename(filename, default),
        file_type=kind.name,
        content_type=kind.content_type,
        size=blob.size,
        sha256=blob.sha256,
        effective_date=effective,
        expires_on=expires,
        created_by_id=caller.user_id,
    )


def _version_details(version: EvidenceVersion, kek_version: int) -> dict[str, Any]:
    return {
        "number": version.number,
        "sha256": version.sha256,
        "size": version.size,
        "type": version.file_type,
        "filename": version.filename,
        "effective_date": version.effective_date.isoformat(),
        "expires_on": version.expires_on.isoformat() if version.expires_on else None,
        "kek_version": kek_version,
    }


def create_evidence(
    db: DbSession,
    caller: Caller,
    store: BlobStore,
    values: dict[str, Any],
    data: bytes,
    filename: str | None,
    limits: UploadLimits = UploadLimits(),
) -> Evidence:
    """New evidence (draft) with its first version, once ``limits.guard`` scanned the file and
    within its quotas. Raises ValidationFailed, Conflict (an unknown requirement or owner),
    TooLarge (QuotaExceeded too), UnsupportedType, InvalidFile (malware too), Unavailable (no
    scanner); once the owner rolls a failure back, neither a blob nor a row is left."""
    require(caller, "evidence.upload")
    today = utcnow().date()
    title = _text(values, "title", TITLE_MAX, required=True)
    description = _text(values, "description", DESCRIPTION_MAX)
    effective, expires = _dates(values, today)
    owner = _owner(db, caller, values.get("owner"))
    requirements = _requirements(db, caller, values.get("requirements"))
    kind, blob = _store_file(db, caller, store, data, filename, limits, None)
    with recorded_or_destroyed(db, store, blob.id):
        evidence = Evidence(
            title=title,
            description=description,
            owner_id=owner.id,
            effective_date=effective,
            expires_on=expires,
            state=EvidenceState.DRAFT,
            created_by_id=caller.user_id,
        )
        db.add(evidence)
        db.flush()
        version = _version(evidence, 1, blob, kind, filename, caller, effective, expires)
        db.add(version)
        db.flush()
        upload_guard.enforce_quota(db, caller, limits.guard, blob.size)
        for requirement in requirements:
            db.add(
                EvidenceLink(
                    evidence_id=evidence.id,
                    requirement_id=requirement.id,
                    created_by_id=caller.user_id,
                )
            )
        db.flush()
        audit.record(
            db,
            caller,
            "evidence.create",
            target_type="evidence",
            target_id=evidence.id,
            details={
                "title": title,
                "owner": owner.email,
                "requirements": [r.name for r in requirements],
                **_version_details(version, blob.kek_version),
            },
        )
    indexer.note(db, "evidence", evidence.id)
    return evidence


def add_version(
    db: DbSession,
    caller: Caller,
    store: BlobStore,
    evidence_id: str,
    data: bytes,
    filename: str | None,
    values: dict[str, Any] | None = None,
    limits: UploadLimits = UploadLimits(),
) -> EvidenceVersion:
    """The next version (a new file, newly collected); the evidence returns to draft, as an
    approval is of one version. Dates default to the previous version's. Raises NotFound,
    ValidationFailed, TooLarge (QuotaExceeded too), UnsupportedType, InvalidFile (malware
    too), Unavailable (no scanner), Conflict (a version race lost at
    the flush); once the owner rolls a failure back, neither a blob nor a row is left."""
    evidence = get_evidence(db, caller, evidence_id, "evidence.upload")
    values = values or {}
    effective, expires = _dates(
        {
            "effective_date": values.get("effective_date") or evidence.effective_date,
            "expires_on": values.get("expires_on")
            if "expires_on" in values and values.get("expires_on") not in (None, "")
            else evidence.expires_on,
        },
        utcnow().date(),
    )
    kind, blob = _store_file(db, caller, store, data, filename, limits, evidence.id)
    with recorded_or_destroyed(db, store, blob.id, conflict=VERSION_RACE):
        number = (
            db.scalar(
                select(func.max(EvidenceVersion.number)).where(
                    EvidenceVersion.evidence_id == evidence.id
                )
            )
            or 0
        ) + 1
        version = _version(evidence, number, blob, kind, filename, caller, effective, expires)
        db.add(version)
        before = evidence.state
        evidence.state, evidence.effective_date, evidence.expires_on = (
            EvidenceState.DRAFT,
            effective,
            expires,
        )
        db.flush()
        upload_guard.enforce_quota(db, caller, limits.guard, blob.size)
        audit.record(
            db,
            caller,
            "evidence.version.upload",
            target_type="evidence",
            target_id=evidence.id,
            details={
                **_version_details(version, blob.kek_version),
                "state_from": before,
                "state_to": EvidenceState.DRAFT,
            },
        )
    indexer.note(db, "evidence", evidence.id)
    db.refresh(evidence)
    return version


def set_links(db: DbSession, caller: Caller, evidence_id: str, requirements: Any) -> Evidence:
    """Replace the requirements the evidence addresses (a link is not a new version). Raises
    NotFound, ValidationFailed, Conflict (an unknown requirement)."""
    evidence = get_evidence(db, caller, evidence_id, "evidence.edit")
    wanted = {r.id: r for r in _requirements(db, caller, requirements)}
    before = {link.requirement.name for link in evidence.links}
    evidence.links = [link for link in evidence.links if link.requirement_id in wanted]
    present = {link.requirement_id for link in evidence.links}
    for requirement_id in wanted.keys() - present:
        evidence.links.append(
            EvidenceLink(requirement_id=requirement_id, created_by_id=caller.user_id)
        )
    after = {r.name for r in wanted.values()}
    audit.record(
        db,
        caller,
        "evidence.links",
        target_type="evidence",
        target_id=evidence.id,
        details={"added": sorted(after - before), "removed": sorted(before - after)},
    )
    # Every entry of the evidence carries its frameworks, so changed links rewrite them all.
    indexer.note(db, "evidence", evidence.id, full=after != before)
    return evidence


def _transition(
    db: DbSession,
    caller: Caller,
    evidence: Evidence,
    to: str,
    action: str,
    expected: tuple[str, ...],
    details: dict[str, Any] | None = None,
) -> Evidence:
    today = utcnow().date()
    shown = evidence.display_state(today)
    if shown == EvidenceState.EXPIRED:
        raise Conflict(
            "the evidence has expired; upload a new version collected "
            "recently (with a new expiry date) first"
        )
    if evidence.state not in expected:
        raise Conflict(
            f"the evidence is {shown.replace('_', ' ')}; this needs it "
            f"{' or '.join(s.replace('_', ' ') for s in expected)}"
        )
    before = evidence.state
    evidence.state = to
    audit.record(
        db,
        caller,
        action,
        target_type="evidence",
        target_id=evidence.id,
        details={"from": before, "to": to, **(details or {})},
    )
    indexer.note(db, "evidence", evidence.id, full=False)
    return evidence


def submit(db: DbSession, caller: Caller, evidence_id: str) -> Evidence:
    """Draft -> in review. Raises NotFound, Conflict (not a draft, or expired)."""
    evidence = get_evidence(db, caller, evidence_id, "evidence.submit")
    _transition(
        db, caller, evidence, EvidenceState.IN_REVIEW, "evidence.submit", (EvidenceState.DRAFT,)
    )
    return evidence


def send_back(db: DbSession, caller: Caller, evidence_id: str) -> Evidence:
    """In review or approved -> draft (a reviewer's rejection, or a withdrawal)."""
    evidence = get_evidence(db, caller, evidence_id, "evidence.submit")
    _transition(
        db,
        caller,
        evidence,
        EvidenceState.DRAFT,
        "evidence.send_back",
        (EvidenceState.IN_REVIEW, EvidenceState.APPROVED),
    )
    return evidence


def approve(db: DbSession, caller: Caller, evidence_id: str, note: str = "") -> Evidence:
    """In review -> approved, by a staff member who did not upload the current version; the
    approval names that version. Raises NotFound, PermissionDenied, Conflict."""
    evidence = get_evidence(db, caller, evidence_id, "evidence.approve")
    version = evidence.current_version()
    if version is None or caller.user_id is None:
        raise PermissionDenied("approval needs a signed-in staff member and a version")
    note = _text({"note": note}, "note", NOTE_MAX)
    _transition(
        db,
        caller,
        evidence,
        EvidenceState.APPROVED,
        "evidence.approve",
        (EvidenceState.IN_REVIEW,),
        {"version": version.number, "sha256": version.sha256},
    )
    db.add(
        EvidenceApproval(
            evidence_id=evidence.id, version_id=version.id, approved_by_id=caller.user_id, note=note
        )
    )
    db.refresh(evidence)
    return evidence


def state_choices() -> list[str]:
    return [*STORED_STATES, EvidenceState.EXPIRED]
