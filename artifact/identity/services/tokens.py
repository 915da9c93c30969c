"""Personal API tokens: shown once, stored as SHA-256, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from artifact.models import ApiToken, User
from artifact.models.base import DbSession, utcnow

TOKEN_PREFIX = "art_"  # noqa: S105 (a marker, not a secret)
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create(db: DbSession, caller: Caller, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it with the raw token, which is never stored.

    Raises PermissionDenied when ``caller`` may not create tokens for ``user``."""
    own = caller.user_id == user.id
    may = policy.decide(caller, "token.revoke_any") or (
        own and policy.decide(caller, "token.create_own")
    )
    if not may:
        raise PermissionDenied("not allowed to create a token for this user")
    if not user.is_active:
        raise ValidationFailed(f"{user.email} is disabled")
    name = " ".join((name or "").split())[:100]
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=token_hash(raw), prefix=raw[:12])
    db.add(token)
    db.flush()
    audit.record(
        db,
        caller,
        "token.create",
        target_type="api_token",
        target_id=token.id,
        details={"user": user.email, "prefix": token.prefix},
    )
    return token, raw


def resolve(db: DbSession, raw: str) -> User | None:
    """The active user owning an active token, or None. Noting when the token was last used is
    a durable write: it is kept when the owner rolls the request back."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = db.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(raw)))
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
        stmt = update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
        uow.durable(db, lambda session: session.execute(stmt))
    return token.user


def get_token(db: DbSession, caller: Caller, token_id: str) -> ApiToken:
    """A token ``caller`` may revoke (for the confirmation step). Raises NotFound otherwise."""
    token = db.get(ApiToken, token_id)
    if token is None or not policy.decide(caller, "token.revoke", token):
        raise NotFound("no such token")
    return token


def revoke(db: DbSession, caller: Caller, token_id: str) -> ApiToken:
    """Raises NotFound for a token that does not exist or that ``caller`` may not see."""
    token = db.get(ApiToken, token_id)
    if token is None or not policy.decide(caller, "token.revoke", token):
        raise NotFound("no such token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(
            db,
            caller,
            "token.revoke",
            target_type="api_token",
            target_id=token.id,
            details={"user": token.user.email, "prefix": token.prefix},
        )
    return token


def revoke_all(db: DbSession, caller: Caller, user: User, reason: str) -> int:
    """Revoke every live token of ``user`` because the account changed (password changed or
    reset, disabled, role changed): a token never outlives the credentials or the power it was
    made under. One audit event; returns how many were revoked. The calling service has
    checked the policy for the change itself."""
    live = db.scalars(
        select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    if not live:
        return 0
    db.execute(update(ApiToken).where(ApiToken.id.in_(live)).values(revoked_at=utcnow()))
    audit.record(
        db,
        caller,
        "token.revoke_all",
        target_type="user",
        target_id=user.id,
        details={"user": user.email, "reason": reason, "count": len(live)},
    )
    return len(live)
