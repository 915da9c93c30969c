"""E-mailed single-use tokens: e-mail verification (24 h) and password reset (1 h).

Only a token's SHA-256 is stored. A reset answers the same whether or not the account exists;
the caller sends the mail once its unit of work has committed (``uow.after_commit``), off the
request thread.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from artifact.audit.services import chain as audit
from artifact.extensions import passwords
from artifact.identity.services import sessions, sign_in, tokens
from artifact.identity.services.accounts import check_password_rules
from artifact.identity.services.lookup import user_by_email
from artifact.identity.services.organizations import join_verified_organization
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.kernel.errors import ValidationFailed
from artifact.models import AccountToken, User
from artifact.models.base import DbSession, utcnow

VERIFY, RESET = "verify_email", "password_reset"
LIFETIME = {VERIFY: timedelta(hours=24), RESET: timedelta(hours=1)}
INVALID = "this link is invalid, was already used or has expired"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _issue(db: DbSession, user: User, purpose: str, now: datetime) -> str:
    # A new link replaces the earlier ones of the same kind.
    db.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    raw = secrets.token_urlsafe(32)
    db.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_hash(raw),
            email=user.email,
            created_at=now,
            expires_at=now + LIFETIME[purpose],
        )
    )
    return raw


def _live(db: DbSession, raw: str, purpose: str, now: datetime) -> AccountToken | None:
    if not raw or len(raw) > 100:
        return None
    token = db.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == _hash(raw), AccountToken.purpose == purpose
        )
    )
    if token is None or token.used_at is not None or token.expires_at <= now:
        return None
    user = db.get(User, token.user_id)
    if user is None or not user.is_active or user.email != token.email:
        return None
    return token


def is_live(db: DbSession, raw: str, purpose: str) -> bool:
    return _live(db, raw, purpose, utcnow()) is not None


def request_reset(
    db: DbSession, caller: Caller, email: str, address_allowed: bool = True
) -> tuple[User, str] | None:
    """A reset token for the account with this e-mail, or None; the caller answers the same
    either way. ``address_allowed`` is False when this address has had its share of reset
    mails (the caller's per-address limit): then no token either. A refused request is
    recorded durably (kept if the owner rolls back)."""
    now = utcnow()
    user = user_by_email(db, email)
    raw = secrets.token_urlsafe(32)  # same work whether or not the account exists
    if user is None or not user.is_active or not address_allowed:
        reason = (
            "unknown_account"
            if user is None
            else "disabled"
            if not user.is_active
            else "address_limit"
        )
        uow.durable(
            db,
            lambda session: audit.record(
                session,
                caller,
                "auth.reset_requested",
                outcome="failure",
                details={"reason": reason},
            ),
        )
        return None
    raw = _issue(db, user, RESET, now)
    audit.record(db, caller, "auth.reset_requested", target_type="user", target_id=user.id)
    return user, raw


def reset_password(db: DbSession, caller: Caller, raw: str, new_password: str) -> User:
    """Set a new password with a reset token; every session and API token of the user ends,
    the sign-in backoff is cleared, and the second factor is still asked at the next sign-in.
    Raises ValidationFailed."""
    now = utcnow()
    token = _live(db, raw, RESET, now)
    if token is None:
        raise ValidationFailed(INVALID)
    user = db.get(User, token.user_id)
    assert user is not None
    check_password_rules(new_password, [user.email, user.name])
    token.used_at = now
    user.password_hash = passwords.hash(new_password)
    user.password_changed_at = now
    if user.email_verified_at is None:
        # The reset link reached the mailbox: the address is proven.
        user.email_verified_at = now
        join_verified_organization(db, caller, user)
    sessions.end_all(db, user, reason="password_reset")
    tokens.revoke_all(db, caller, user, reason="password_reset")
    audit.record(db, caller, "auth.password_reset", target_type="user", target_id=user.id)
    sign_in.forget_account(db, user.email)
    return user


def request_verification(db: DbSession, caller: Caller, user: User) -> str | None:
    """A verification token for the user's current address (None when already verified)."""
    if user.email_verified_at is not None:
        return None
    raw = _issue(db, user, VERIFY, utcnow())
    audit.record(db, caller, "user.verification_sent", target_type="user", target_id=user.id)
    return raw


def needs_password(db: DbSession, raw: str) -> bool:
    """Whether confirming with this link asks for the password: a signed-up account not yet
    confirmed (whoever holds the mailbox and the password chosen at sign-up opens it, so an
    account someone else signed up with this address cannot be confirmed by a click)."""
    token = _live(db, raw, VERIFY, utcnow())
    user = db.get(User, token.user_id) if token else None
    return bool(user and user.self_registered and user.email_verified_at is None)


def verify_email(db: DbSession, caller: Caller, raw: str, password: str | None = None) -> User:
    """Mark the address verified. Raises ValidationFailed."""
    now = utcnow()
    token = _live(db, raw, VERIFY, now)
    if token is None:
        raise ValidationFailed(INVALID)
    user = db.get(User, token.user_id)
    assert user is not None
    unconfirmed_signup = user.self_registered and user.email_verified_at is None
    if unconfirmed_signup and not passwords.verify(user.password_hash, password or ""):
        raise ValidationFailed(
            "type the password you chose when you signed up (forgot it? reset it: the "
            "reset link confirms the address too)"
        )
    token.used_at = now
    user.email_verified_at = now
    audit.record(db, caller, "user.email_verified", target_type="user", target_id=user.id)
    join_verified_organization(db, caller, user)
    return user
