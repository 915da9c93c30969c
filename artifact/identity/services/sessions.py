"""Server-side sign-in sessions: sign-in, resolution with timeouts, sign-out."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.extensions import passwords
from artifact.identity.services.lookup import user_by_email
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.kernel.errors import NotFound
from artifact.models import MfaCredential, User, UserSession, generation
from artifact.models.base import DbSession, read_row, utcnow


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def authenticate(db: DbSession, caller: Caller, email: str, password: str) -> User | None:
    """The user for these credentials, or None; the caller shows one generic message either way.

    Records the attempt (a refusal durably: it is kept when the owner rolls the request back);
    never records the password."""
    user = user_by_email(db, email)
    ok = passwords.verify(user.password_hash if user else None, password)
    if user is None:
        uow.durable(
            db,
            lambda session: audit.record(
                session,
                caller,
                "auth.sign_in",
                outcome="failure",
                details={"reason": "unknown_account"},
            ),
        )
    elif not ok or not user.is_active:
        who, user_id = Caller.of_user(user, ip_address=caller.ip_address), user.id
        reason = "wrong_password" if not ok else "disabled"
        uow.durable(
            db,
            lambda session: audit.record(
                session,
                who,
                "auth.sign_in",
                target_type="user",
                target_id=user_id,
                outcome="failure",
                details={"reason": reason},
            ),
        )
    else:
        if user.password_hash and passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash(password)
        return user
    return None


def start(
    db: DbSession, user: User, ip_address: str | None, user_agent: str | None
) -> tuple[UserSession, str]:
    """Open a session; returns it with the secret the cookie carries (never stored)."""
    secret = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        secret_hash=secret_hash(secret),
        ip_address=(ip_address or "")[:64] or None,
        user_agent=(user_agent or "")[:400] or None,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        Caller.of_user(user, ip_address=ip_address, session_ref=row.id),
        "auth.sign_in",
        target_type="user",
        target_id=user.id,
    )
    return row, secret


# Every signed-in request asks this: one small query of plain columns (no objects to build),
# which also reads the policy generation the request's kept answers are checked against.
_BY_SECRET = (
    select(
        UserSession.id,
        UserSession.user_id,
        UserSession.created_at,
        UserSession.last_seen_at,
        UserSession.ended_at,
        *generation.COLUMNS,
        # Whether the user has a working second factor (staff must, before anything else):
        # answered here so a staff request needs no second query for it.
        and_(
            MfaCredential.enabled_at.is_not(None), MfaCredential.secret_ciphertext.is_not(None)
        ).label("second_factor"),
    )
    .select_from(UserSession)
    .outerjoin(generation.PolicyGeneration, generation.ROW)
    .outerjoin(MfaCredential, MfaCredential.user_id == UserSession.user_id)
    .where(UserSession.secret_hash == bindparam("secret_hash"))
)


@dataclass(frozen=True)
class Resolved:
    """A live session: its id and its user (attached to the request's database session)."""

    id: str
    user: User
    second_factor: bool = False


def resolve(
    db: DbSession,
    secret: str | None,
    *,
    idle: timedelta,
    absolute: timedelta,
    touch_after: timedelta,
    now: datetime | None = None,
) -> Resolved | None:
    """The live session for a cookie secret, or None; ends a timed-out session on the way.
    Last seen is written at most once per ``touch_after``.

    Ending and touching a session are durable writes: they describe the session, not the
    request that noticed them, so they are kept when the owner rolls that request back."""
    if not secret:
        return None
    now = now or utcnow()
    row = _read_session(db, secret_hash(secret))
    if row is None or row.ended_at is not None:
        return None
    generation.prime(db, row.epoch, row.value)
    user = signed_in_user(db, row.user_id)
    if user is None or not user.is_active:
        return None
    if now - row.last_seen_at > idle:
        _end(db, row.id, "idle_timeout", now)
        return None
    if now - row.created_at > absolute:
        _end(db, row.id, "absolute_timeout", now)
        return None
    if now - row.last_seen_at > touch_after:
        _write(db, row.id, last_seen_at=now)
    return Resolved(row.id, user, bool(row.second_factor))


def _read_session(db: DbSession, hashed: str) -> Any:
    """The session's row (``read_row``: outside a transaction when none has begun, as on
    every page)."""
    return read_row(db, _BY_SECRET, {"secret_hash": hashed})


def signed_in_user(db: DbSession, user_id: str) -> User | None:
    """The user (with their organisation) attached to ``db``: copied from the snapshot this
    worker keeps for the current policy generation (every change to a user or organisation row
    bumps it), or loaded, once per generation."""

    def load() -> tuple[User, ...]:
        user = db.scalar(
            select(User).options(joinedload(User.organization)).where(User.id == user_id)
        )
        return () if user is None else (_snapshot(user),)

    kept = policy.remember(db, ("signed_in_user", user_id), load)
    if not kept:
        return None
    return db.merge(kept[0], load=False)


def _snapshot(user: User) -> User:
    """A detached copy of ``user``'s columns and organisation that no session holds: what a
    later request merges (without a query) into its own."""
    copy: User = _detached(user)
    organization = user.organization
    set_committed_value(copy, "organization", _detached(organization) if organization else None)
    return copy


def _detached(obj: Any) -> Any:
    mapper = sa_inspect(type(obj))
    copy = mapper.class_manager.new_instance()
    for column in mapper.column_attrs:
        set_committed_value(copy, column.key, getattr(obj, column.key))
    make_transient_to_detached(copy)
    return copy


def _end(db: DbSession, row_id: str, reason: str, now: datetime) -> None:
    _write(db, row_id, ended_at=now, end_reason=reason)


def _write(db: DbSession, row_id: str, **values: object) -> None:
    stmt = update(UserSession).where(UserSession.id == row_id).values(**values)
    uow.durable(db, lambda session: session.execute(stmt))


def end(db: DbSession, caller: Caller, row: UserSession) -> None:
    """Sign out: the session ends for every copy of its cookie."""
    row.ended_at = utcnow()
    row.end_reason = "signed_out"
    audit.record(db, caller, "auth.sign_out", target_type="user", target_id=row.user_id)


def end_all(db: DbSession, user: User, reason: str, keep_id: str | None = None) -> None:
    """End every open session of ``user`` (but ``keep_id``), in the caller's unit of work."""
    stmt = (
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )
    if keep_id is not None:
        stmt = stmt.where(UserSession.id != keep_id)
    db.execute(stmt)


def list_active(
    db: DbSession,
    caller: Caller,
    *,
    idle: timedelta,
    absolute: timedelta,
    now: datetime | None = None,
) -> list[UserSession]:
    """The caller's own live sessions (not ended, within both timeouts), last seen first."""
    policy.require(caller, "account.view")
    now = now or utcnow()
    stmt = (
        policy.visible(select(UserSession), caller, UserSession)
        .where(
            UserSession.user_id == caller.user_id,
            UserSession.ended_at.is_(None),
            UserSession.last_seen_at >= now - idle,
            UserSession.created_at >= now - absolute,
        )
        .order_by(UserSession.last_seen_at.desc(), UserSession.created_at.desc())
    )
    return list(db.scalars(stmt).all())


def end_own(db: DbSession, caller: Caller, session_id: str) -> UserSession:
    """End one of the caller's sessions (a lost laptop, a shared computer): every copy of its
    cookie stops working. Raises NotFound for a session that does not exist, has ended, or is
    someone else's."""
    row = db.get(UserSession, session_id) if len(session_id or "") <= 64 else None
    if row is None or row.ended_at is not None or not policy.decide(caller, "session.end", row):
        raise NotFound("no such session")
    row.ended_at = utcnow()
    row.end_reason = "ended_by_user"
    audit.record(
        db,
        caller,
        "auth.session_end",
        target_type="user",
        target_id=row.user_id,
        details={"session": row.id},
    )
    return row


def session_json(row: UserSession, current_id: str | None) -> dict[str, object]:
    return {
        "id": row.id,
        "created_at": row.created_at.isoformat(),
        "last_seen_at": row.last_seen_at.isoformat(),
        "ip": row.ip_address,
        "user_agent": row.user_agent,
        "current": row.id == current_id,
    }
