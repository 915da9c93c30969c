"""Agreements: publish immutable versions, accept (click-through), terminate, and the terms gate.

The gate for downloads is ``require_terms(db, user, agreement_id)``: it raises ``TermsRequired``
(HTTP 428, carrying ``agreement_id`` and ``version``) unless the user, or their organisation,
holds an active acceptance of the agreement's current version."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.kernel.caller import Caller
from artifact.kernel.errors import Conflict, NotFound, TermsRequired, ValidationFailed
from artifact.kernel.text import one_line
from artifact.models import Acceptance, Agreement, AgreementVersion
from artifact.models.agreements import AcceptanceScope, AgreementKind
from artifact.models.base import DbSession, is_id
from artifact.notifications import events
from artifact.search import indexer

TITLE_MAX, TEXT_MAX, TYPED_NAME_MAX, REASON_MAX, USER_AGENT_MAX = 200, 200_000, 200, 500, 400
SCOPES = tuple(scope.value for scope in AcceptanceScope)
KINDS = tuple(kind.value for kind in AgreementKind)


@dataclass(frozen=True)
class TermsStatus:
    satisfied: bool
    agreement_id: str
    current_version: int
    acceptance_id: str | None = None


def text_sha256(text: str) -> str:
    """The hash recorded with an acceptance: SHA-256 of the UTF-8 text as stored and shown."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _clean_line(value: str, what: str, limit: int) -> str:
    """Runs of white space as one space; not empty, at most ``limit`` characters as sent, and no
    control characters but white space (the OpenAPI document's ``LINE_PATTERN``)."""
    cleaned = one_line(value or "", what)
    if not cleaned:
        raise ValidationFailed(f"the {what} is empty")
    if len(value or "") > limit or any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in cleaned):
        raise ValidationFailed(f"the {what} is too long or holds control characters")
    return cleaned


def clean_text(text: str) -> str:
    """Line endings normalised, outer blank space trimmed; the result is what is shown and
    hashed. Tab and line breaks are the only control characters allowed anywhere in what was
    sent (the OpenAPI document's ``TEXT_PATTERN``)."""
    raw = text or ""
    if len(raw) > TEXT_MAX:
        raise ValidationFailed(f"the agreement text is longer than {TEXT_MAX} characters")
    if any((ord(c) < 32 and c not in "\n\r\t") or ord(c) == 0x7F for c in raw):
        raise ValidationFailed("the agreement text holds control characters")
    cleaned = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not cleaned:
        raise ValidationFailed("the agreement text is empty")
    return cleaned


def get_agreement(db: DbSession, caller: Caller, agreement_id: str) -> Agreement:
    """Raises NotFound (also for callers who may not see agreements)."""
    policy.require(caller, "agreement.view")
    agreement = db.get(Agreement, agreement_id) if is_id(agreement_id) else None
    if agreement is None or not agreement.versions:
        raise NotFound("no such agreement")
    return agreement


def list_agreements(db: DbSession, caller: Caller) -> list[Agreement]:
    policy.require(caller, "agreement.view")
    # Every page that lists agreements shows their current version: one query for all.
    stmt = select(Agreement).options(selectinload(Agreement.versions)).order_by(Agreement.title)
    return list(db.scalars(stmt))


def create_agreement(
    db: DbSession, caller: Caller, *, title: str, kind: str, text: str
) -> Agreement:
    """Create an agreement with its version 1. Raises PermissionDenied, ValidationFailed,
    Conflict (the title is taken; after a race lost at the flush the unit of work must be
    rolled back)."""
    policy.require(caller, "agreement.manage")
    title = _clean_line(title, "title", TITLE_MAX)
    if kind not in KINDS:
        raise ValidationFailed(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    text = clean_text(text)
    # The database lower-cases both sides alike (SQLite only ASCII, unlike Python).
    if db.scalar(select(Agreement.id).where(func.lower(Agreement.title) == func.lower(title))):
        raise Conflict(f"an agreement titled {title!r} already exists")
    agreement = Agreement(title=title, kind=kind, created_by_id=caller.user_id)
    db.add(agreement)
    try:
        db.flush()
    except IntegrityError as error:  # the same title created at the same moment
        raise Conflict(f"an agreement titled {title!r} already exists") from error
    version = _add_version(db, caller, agreement, 1, text)
    audit.record(
        db,
        caller,
        "agreement.create",
        target_type="agreement",
        target_id=agreement.id,
        details={"title": title, "kind": kind, "version": 1, "text_sha256": version.text_sha256},
    )
    indexer.note(db, "agreement", agreement.id)
    return agreement


def _add_version(
    db: DbSession, caller: Caller, agreement: Agreement, number: int, text: str
) -> AgreementVersion:
    version = AgreementVersion(
        agreement=agreement,
        number=number,
        text=text,
        text_sha256=text_sha256(text),
        created_by_id=caller.user_id,
    )
    db.add(version)
    db.flush()
    return version


def publish_version(
    db: DbSession, caller: Caller, agreement_id: str, text: str
) -> AgreementVersion:
    """Publish a new current version; existing acceptances stay, but no longer satisfy the gate.
    Raises PermissionDenied, NotFound, ValidationFailed, Conflict (the text is the current
    version's, or a race lost at the flush: the unit of work must then be rolled back)."""
    policy.require(caller, "agreement.manage")
    agreement = get_agreement(db, caller, agreement_id)
    text = clean_text(text)
    current = agreement.current
    if text_sha256(text) == current.text_sha256:
        raise Conflict("the text is the same as the current version's")
    try:
        version = _add_version(db, caller, agreement, current.number + 1, text)
    except IntegrityError as error:  # someone published the same number at the same moment
        raise Conflict("another version was published meanwhile; reload and try again") from error
    audit.record(
        db,
        caller,
        "agreement.publish_version",
        target_type="agreement",
        target_id=agreement.id,
        details={"version": version.number, "text_sha256": version.text_sha256},
    )
    events.emit(
        db,
        "agreement.version_added",
        {
            "agreement_id": agreement.id,
            "title": agreement.title,
            "version": version.number,
            "previous_version": current.number,
        },
    )
    indexer.note(db, "agreement", agreement.id)
    db.refresh(agreement)
    return version


# What counts as an acceptance covering a caller is part of the download rule, so it lives in
# the policy.
covering_acceptance = policy.covering_acceptance
covering_acceptances = policy.covering_acceptances


def terms_status(db: DbSession, caller: Caller, agreement_id: str) -> TermsStatus:
    """Does ``caller`` (or their organisation) hold an active acceptance of the current version?
    Raises NotFound for an unknown agreement."""
    agreement = db.get(Agreement, agreement_id)
    if agreement is None or not agreement.versions:
        raise NotFound("no such agreement")
    return status_of(caller, agreement, covering_acceptance(db, caller, agreement))


def status_of(caller: Caller, agreement: Agreement, covering: Acceptance | None) -> TermsStatus:
    """``terms_status`` from the acceptance ``covering_acceptance`` found (a page that shows
    both asks the database once)."""
    current = agreement.current.number
    if covering is not None and covering.version_number == current and caller.active:
        return TermsStatus(True, agreement.id, current, covering.id)
    return TermsStatus(False, agreement.id, current)


def require_terms(db: DbSession, caller: Caller, agreement_id: str) -> TermsStatus:
    """The download gate. Raises TermsRequired (428 with ``agreement_id`` and ``version``)."""
    status = terms_status(db, caller, agreement_id)
    if not status.satisfied:
        title = db.get(Agreement, agreement_id).title  # type: ignore[union-attr]
        raise TermsRequired(
            f"accept {title} (version {status.current_version}) first",
            agreement_id=status.agreement_id,
            version=status.current_version,
        )
    return status
