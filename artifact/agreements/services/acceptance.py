"""Click-through acceptance and termination: each writes a new, append-only record."""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import select

from artifact import policy
from artifact.agreements.services.agreements import (
    REASON_MAX,
    SCOPES,
    TYPED_NAME_MAX,
    USER_AGENT_MAX,
    _clean_line,
    get_agreement,
)
from artifact.audit.services import chain as audit
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.kernel.errors import Conflict, PermissionDenied, ValidationFailed
from artifact.models import Acceptance, Termination
from artifact.models.agreements import AcceptanceScope
from artifact.models.base import DbSession, utcnow
from artifact.notifications import events


def _check_scope(db: DbSession, caller: Caller, action: str, agreement_id: str, scope: str) -> None:
    if scope not in SCOPES:
        raise ValidationFailed(f"unknown scope {scope!r}; choose one of {', '.join(SCOPES)}")
    if scope == AcceptanceScope.ORGANIZATION and not policy.decide(
        caller, "agreement.bind_organization"
    ):
        # Kept even though the request fails: the refusal is part of the record.
        uow.durable(
            db,
            lambda session: audit.record(
                session,
                caller,
                action,
                target_type="agreement",
                target_id=agreement_id,
                outcome="denied",
                details={"scope": scope, "reason": "not_org_admin"},
            ),
        )
        raise PermissionDenied("only an organisation admin may bind the organisation")


def _parse_version(version: Any) -> int:
    if isinstance(version, bool) or not isinstance(version, int | str):
        raise ValidationFailed("the version must be a number")
    try:
        return int(version)
    except ValueError as error:
        raise ValidationFailed("the version must be a number") from error


def accept(
    db: DbSession,
    caller: Caller,
    agreement_id: str,
    *,
    version: Any,
    typed_name: str,
    scope: str,
    user_agent: str | None = None,
    shown_sha256: str | None = None,
) -> Acceptance:
    """Record a click-through acceptance of the current version. ``shown_sha256`` (from the
    page) is the hash of the text the user was shown; it must match the current version's.
    Raises NotFound, PermissionDenied (organisation scope by a non org admin), ValidationFailed,
    Conflict (not the current version, or already accepted)."""
    policy.require(caller, "agreement.accept")
    agreement = get_agreement(db, caller, agreement_id)
    _check_scope(db, caller, "agreement.accept", agreement.id, scope)
    number, current = _parse_version(version), agreement.current
    typed_name = _clean_line(typed_name, "typed name", TYPED_NAME_MAX)
    if number != current.number or (shown_sha256 and shown_sha256 != current.text_sha256):
        # Kept even though the request fails (see _check_scope).
        target, refused = (
            agreement.id,
            {"version": number, "current_version": current.number, "reason": "not_current"},
        )
        uow.durable(
            db,
            lambda session: audit.record(
                session,
                caller,
                "agreement.accept",
                target_type="agreement",
                target_id=target,
                outcome="failure",
                details=refused,
            ),
        )
        raise Conflict(
            f"version {number} is not the current version ({current.number}); "
            "read the current text and accept it",
            current_version=current.number,
        )
    organization_id = caller.organization_id if scope == AcceptanceScope.ORGANIZATION else None
    earlier = _existing(db, caller, agreement.id, current.number, scope)
    if earlier is not None:
        when = earlier.accepted_at.strftime("%Y-%m-%d %H:%M UTC")
        whom = "your organisation already accepted" if organization_id else "you already accepted"
        raise Conflict(f"{whom} this version on {when}")
    check_signature(caller, typed_name)
    acceptance = Acceptance(
        agreement_id=agreement.id,
        version_id=current.id,
        version_number=current.number,
        user_id=caller.user_id,
        organization_id=caller.organization_id,
        scope=scope,
        text_sha256=current.text_sha256,
        typed_name=typed_name,
        accepted_at=utcnow(),
        ip_address=caller.ip_address,
        # As sent, but for NUL (which PostgreSQL refuses in text).
        user_agent=(user_agent or "").replace("\x00", "")[:USER_AGENT_MAX] or None,
    )
    db.add(acceptance)
    db.flush()
    audit.record(
        db,
        caller,
        "agreement.accept",
        target_type="acceptance",
        target_id=acceptance.id,
        details={
            "agreement_id": agreement.id,
            "version": current.number,
            "scope": scope,
            "text_sha256": current.text_sha256,
        },
    )
    events.emit(
        db,
        "agreement.accepted",
        {
            "acceptance_id": acceptance.id,
            "agreement_id": agreement.id,
            "title": agreement.title,
            "version": current.number,
            "scope": scope,
            "user_id": caller.user_id,
            "organization_id": organization_id,
        },
    )
    return acceptance


class NameMismatch(ValidationFailed):
    """The typed name is not the name on the signer's account (a 400, like any bad input)."""


def signer_name(caller: Caller) -> str:
    """The name a signature must match: the account's display name (its e-mail address when
    the account has no name)."""
    return caller.name or caller.email or ""


def _folded(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def signature_matches(caller: Caller, typed_name: str) -> bool:
    """Is ``typed_name`` the caller's own name, case and spacing (and Unicode form) aside?"""
    expected = signer_name(caller)
    return bool(expected) and _folded(typed_name) == _folded(expected)


def check_signature(caller: Caller, typed_name: str) -> None:
    """Raises ValidationFailed unless ``typed_name`` is the caller's own name: a click-through
    signature binds the person signed in, nobody else."""
    expected = signer_name(caller)
    if not signature_matches(caller, typed_name):
        raise NameMismatch(
            f"the typed name must be the name on your account, \u201c{expected}\u201d "
            "(case and spacing do not matter)"
        )


def _scoped(agreement_id: str, caller: Caller, scope: str) -> Any:
    stmt = select(Acceptance).where(
        Acceptance.agreement_id == agreement_id, Acceptance.scope == scope
    )
    if scope == AcceptanceScope.ORGANIZATION:
        return stmt.where(Acceptance.organization_id == caller.organization_id)
    return stmt.where(Acceptance.user_id == caller.user_id)


def _existing(
    db: DbSession, caller: Caller, agreement_id: str, number: int, scope: str
) -> Acceptance | None:
    stmt = policy.active_acceptances(_scoped(agreement_id, caller, scope))
    return db.scalars(stmt.where(Acceptance.version_number == number).limit(1)).first()


def terminate(
    db: DbSession, caller: Caller, agreement_id: str, *, scope: str, reason: str = ""
) -> list[Termination]:
    """End every active acceptance of the agreement in ``scope`` (the caller's own, or their
    organisation's), effective now, by adding termination records.
    Raises NotFound, PermissionDenied, ValidationFailed (an unknown scope, a NUL in the
    reason), Conflict (nothing active)."""
    policy.require(caller, "agreement.terminate")
    agreement = get_agreement(db, caller, agreement_id)
    _check_scope(db, caller, "agreement.terminate", agreement.id, scope)
    if "\x00" in (reason or ""):
        raise ValidationFailed("the reason holds a NUL character")
    reason = " ".join((reason or "").split())[:REASON_MAX]
    active = list(db.scalars(policy.active_acceptances(_scoped(agreement.id, caller, scope))))
    if not active:
        raise Conflict("there is no active acceptance to terminate")
    now, ended = utcnow(), []
    for acceptance in active:
        policy.require(caller, "agreement.terminate", acceptance)
        termination = Termination(
            acceptance=acceptance,
            effective_at=now,
            recorded_at=now,
            terminated_by_id=caller.user_id,
            reason=reason,
            ip_address=caller.ip_address,
        )
        db.add(termination)
        db.flush()
        audit.record(
            db,
            caller,
            "agreement.terminate",
            target_type="acceptance",
            target_id=acceptance.id,
            details={
                "agreement_id": agreement.id,
                "scope": scope,
                "version": acceptance.version_number,
            },
        )
        events.emit(
            db,
            "agreement.terminated",
            {
                "acceptance_id": acceptance.id,
                "agreement_id": agreement.id,
                "title": agreement.title,
                "version": acceptance.version_number,
                "scope": acceptance.scope,
                "user_id": acceptance.user_id,
                "organization_id": acceptance.organization_id
                if acceptance.scope == AcceptanceScope.ORGANIZATION
                else None,
                "effective_at": now,
            },
        )
        ended.append(termination)
    return ended
