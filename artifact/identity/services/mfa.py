"""TOTP multi-factor authentication: enrolment, second-factor checks, recovery codes.

The TOTP secret is stored sealed (``secretbox``); recovery codes are stored as SHA-256 (each has
80 random bits, so a fast hash is enough); an accepted code's time step is remembered, so a code
(or an earlier one) cannot be used twice.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from typing import Any

import pyotp
from sqlalchemy import delete, select

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.extensions import passwords
from artifact.identity.services import sessions
from artifact.infra.storage.kek import KeyProvider
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.kernel.errors import NotFound, PermissionDenied, Unavailable, ValidationFailed
from artifact.models import MfaCredential, RecoveryCode, Role, User
from artifact.models.base import DbSession, utcnow

log = logging.getLogger(__name__)

ISSUER = "Artifact"
RECOVERY_CODES = 10
_PURPOSE = "mfa-totp"
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def required(user: Any) -> bool:
    """Staff and admins must have a second factor before any page."""
    return getattr(user, "role", None) in (Role.STAFF, Role.ADMIN)


def credential(db: DbSession, user: User) -> MfaCredential | None:
    return db.scalar(select(MfaCredential).where(MfaCredential.user_id == user.id))


def is_enabled(db: DbSession, user: User) -> bool:
    cred = credential(db, user)
    return cred is not None and cred.enabled_at is not None and cred.secret_ciphertext is not None


def _check_password(db: DbSession, caller: Caller, user: User, password: str, action: str) -> None:
    """Raises PermissionDenied, the refusal recorded durably."""
    if not passwords.verify(user.password_hash, password):
        _record_failure(db, caller, action, user.id, {"reason": "wrong_password"})
        raise PermissionDenied("the password is wrong")


def _record_failure(
    db: DbSession, caller: Caller, action: str, user_id: str, details: dict[str, str]
) -> None:
    """A refused step, kept when the owner rolls the request back."""
    uow.durable(
        db,
        lambda session: audit.record(
            session,
            caller,
            action,
            target_type="user",
            target_id=user_id,
            outcome="failure",
            details=details,
        ),
    )


def begin_enrolment(
    db: DbSession,
    caller: Caller,
    user: User,
    password: str,
    keyring: KeyProvider,
    *,
    reauthenticated: bool = False,
) -> tuple[str, str]:
    """A new pending secret (replacing any earlier one once confirmed); returns the secret and
    its otpauth:// URI for the QR code. Raises PermissionDenied (wrong password).
    ``reauthenticated``: an account without a password that its identity provider vouched for
    minutes ago (single sign-on) has nothing to re-enter."""
    if not (reauthenticated and user.password_hash is None):
        _check_password(db, caller, user, password, "mfa.enrolment_started")
    secret = pyotp.random_base32()
    from artifact.infra import secretbox

    sealed = secretbox.seal(keyring, _PURPOSE, user.id, secret)
    cred = credential(db, user)
    if cred is None:
        db.add(MfaCredential(user_id=user.id, pending_ciphertext=sealed))
    else:
        cred.pending_ciphertext = sealed
    audit.record(db, caller, "mfa.enrolment_started", target_type="user", target_id=user.id)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return secret, uri


def _secret(keyring: KeyProvider, user: User, sealed: str) -> str:
    """Raises Unavailable when the key version it was sealed under is gone from the keyring:
    an operator's problem to fix (restore the key), not the user's."""
    from artifact.infra import secretbox

    try:
        return secretbox.open_sealed(keyring, _PURPOSE, user.id, sealed)
    except secretbox.MissingKey as error:
        log.error("the second factor of user %s needs %s", user.id, error)
        raise Unavailable(
            "Your second factor cannot be checked right now: a key the server needs to read "
            "it is missing. Tell your administrator (they can restore the key version named "
            "in the server's log)."
        ) from error


def _match_step(secret: str, code: str, last_step: int | None, now: float | None) -> int | None:
    """The time step ``code`` belongs to (one step of clock drift either way), unless used."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // totp.interval)
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def confirm_enrolment(
    db: DbSession, caller: Caller, user: User, code: str, keyring: KeyProvider
) -> list[str]:
    """Turn MFA on with a first code; returns the new recovery codes (shown once).
    Raises ValidationFailed (no enrolment started, or a wrong code)."""
    cred = credential(db, user)
    sealed = cred.pending_ciphertext if cred else None
    if cred is None or sealed is None:
        raise ValidationFailed("start the enrolment first")
    step = _match_step(_secret(keyring, user, sealed), code, None, None)
    if step is None:
        _record_failure(db, caller, "mfa.enable", user.id, {"reason": "wrong_code"})
        raise ValidationFailed("that code is not right; check the time on your device")
    cred.secret_ciphertext = sealed
    cred.pending_ciphertext = None
    cred.enabled_at = utcnow()
    cred.last_used_step = step
    codes = _replace_recovery_codes(db, user)
    audit.record(db, caller, "mfa.enable", target_type="user", target_id=user.id)
    return codes


def _hash_code(code: str) -> str:
    cleaned = "".join(c for c in code.lower() if c.isalnum())
    return hashlib.sha256(cleaned.encode()).hexdigest()


def _replace_recovery_codes(db: DbSession, user: User) -> list[str]:
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
        code = "-".join(raw[i : i + 4] for i in range(0, 16, 4))
        db.add(RecoveryCode(user_id=user.id, code_hash=_hash_code(code)))
        codes.append(code)
    return codes


def regenerate_recovery_codes(
    db: DbSession, caller: Caller, user: User, password: str
) -> list[str]:
    """Raises PermissionDenied (wrong password), ValidationFailed (MFA is off)."""
    _check_password(db, caller, user, password, "mfa.recovery_codes")
    if not is_enabled(db, user):
        raise ValidationFailed("multi-factor authentication is not on")
    codes = _replace_recovery_codes(db, user)
    audit.record(db, caller, "mfa.recovery_codes", target_type="user", target_id=user.id)
    return codes


def check_second_factor(
    db: DbSession,
    caller: Caller,
    user: User,
    code: str,
    keyring: KeyProvider,
    now: float | None = None,
) -> bool:
    """A TOTP code or an unused recovery code; records the outcome either way (a wrong code
    durably: it is kept when the owner rolls the request back)."""
    cred = credential(db, user)
    if cred is None or cred.enabled_at is None or cred.secret_ciphertext is None:
        return False
    # A recovery code is longer than a TOTP code and needs no key: it still works while the
    # key version the TOTP secret is sealed under is missing.
    ok = False
    if len("".join(code.split())) <= 6:
        method = "totp"
        step = _match_step(
            _secret(keyring, user, cred.secret_ciphertext), code, cred.last_used_step, now
        )
        ok = step is not None
        if ok:
            cred.last_used_step = step
    else:
        method = "recovery_code"
        row = db.scalar(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _hash_code(code),
                RecoveryCode.used_at.is_(None),
            )
        )
        if row is not None:
            row.used_at = utcnow()
            ok = True
    if ok:
        audit.record(
            db,
            caller,
            "auth.mfa",
            target_type="user",
            target_id=user.id,
            details={"method": method},
        )
    else:
        _record_failure(db, caller, "auth.mfa", user.id, {"method": method})
    return ok


def remaining_recovery_codes(db: DbSession, user: User) -> int:
    rows = db.scalars(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    ).all()
    return len(rows)


def disable(db: DbSession, caller: Caller, user: User, password: str) -> None:
    """Turn one's own MFA off; refused to staff and admins, who must keep it.
    Raises PermissionDenied."""
    if required(user):
        raise PermissionDenied("staff and administrators must keep multi-factor authentication")
    _check_password(db, caller, user, password, "mfa.disable")
    _remove(db, user)
    audit.record(db, caller, "mfa.disable", target_type="user", target_id=user.id)


def reset(db: DbSession, caller: Caller, user_id: str) -> User:
    """An admin removes a user's second factor (lost device); the user's sessions end and they
    enrol again at next sign-in. Raises NotFound."""
    user = db.get(User, user_id)
    if (
        user is None
        or not policy.decide(caller, "user.reset_mfa")
        or not policy.decide(caller, "user.view", user)
    ):
        raise NotFound("no such user")
    _remove(db, user)
    audit.record(db, caller, "mfa.reset", target_type="user", target_id=user.id)
    sessions.end_all(db, user, reason="mfa_reset")
    return user


def _remove(db: DbSession, user: User) -> None:
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.execute(delete(MfaCredential).where(MfaCredential.user_id == user.id))
