"""Sign-in with exponential backoff per account and source.

Failures are counted per key: a hash of the e-mail as typed (normalised), whether or not such an
account exists, so the throttle itself tells an attacker nothing, joined with a hash of the
source address. After ``free_failures`` failures the key is blocked for 1 s, then 2, 4, ... up
to ``max_delay``. While blocked, an attempt is refused without looking at the password (a right
password too) and is not counted: a block is never extended by attempts made during it. Someone
failing from one address cannot lock the owner out: from another source the owner's password
and second factor still get through (the per-IP limits of Flask-Limiter bound how many sources
a guesser can afford). A complete sign-in (with the second factor) clears the count of its
source; a password reset clears every source's count of the account.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete

from artifact.audit.services import chain as audit
from artifact.identity.services import sessions
from artifact.identity.services.lookup import user_by_email
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.kernel.errors import Throttled
from artifact.models import SignInThrottle, User
from artifact.models.base import DbSession, utcnow

REPORT_EVERY = timedelta(minutes=1)  # at most one throttling event per account key and minute

# Another feature's word on whether a password may sign this address (or account) in at all:
# single sign-on refuses the passwords of an organisation that requires it. A gate answers the
# message to show, or None. Registered at start-up (identity imports no feature above it).
PasswordGate = Callable[[DbSession, str, User | None], str | None]
_password_gates: list[PasswordGate] = []


def register_password_gate(gate: PasswordGate) -> None:
    if gate not in _password_gates:
        _password_gates.append(gate)


def password_refusal(db: DbSession, caller: Caller, email: str, user: User | None) -> str | None:
    """Why a password may not sign in this address (``user`` None: before it is checked) or
    this account, or None. A refusal is recorded durably (``auth.sign_in``, reason
    ``sso_required``)."""
    message = next((m for gate in _password_gates if (m := gate(db, email, user))), None)
    if message:
        who = Caller.of_user(user, ip_address=caller.ip_address) if user else caller
        target = user.id if user else None
        uow.durable(
            db,
            lambda session: audit.record(
                session,
                who,
                "auth.sign_in",
                target_type="user" if target else None,
                target_id=target,
                outcome="denied",
                details={"reason": "sso_required"},
            ),
        )
    return message


@dataclass(frozen=True)
class Backoff:
    free_failures: int = 5
    max_delay: int = 900


def _account_part(email: str) -> str:
    return hashlib.sha256(b"sign-in\n" + (email or "").strip().lower().encode()).hexdigest()[:32]


def throttle_key(email: str, source: str | None) -> str:
    """128 bits of the account's hash, then 128 bits of the source's (64 hex digits)."""
    source_part = hashlib.sha256(b"source\n" + (source or "").encode()).hexdigest()[:32]
    return _account_part(email) + source_part


def _retry_after(row: SignInThrottle, now: datetime) -> int:
    if row.blocked_until is None:
        return 0
    return max(0, math.ceil((row.blocked_until - now).total_seconds()))


def register_failure(
    db: DbSession, caller: Caller, email: str, backoff: Backoff, now: datetime | None = None
) -> int:
    """Count one failure (password or second factor); returns the seconds now blocked, 0 if
    none. The count is durable: it is kept when the owner rolls the failed request back."""
    at = now or utcnow()
    delays: list[int] = []

    def count(session: DbSession) -> None:
        delays.append(_count_failure(session, caller, email, backoff, at))

    uow.durable(db, count)
    return delays[0]


def _count_failure(
    db: DbSession, caller: Caller, email: str, backoff: Backoff, now: datetime
) -> int:
    key = throttle_key(email, caller.ip_address)
    row = db.get(SignInThrottle, key)
    if row is None:
        row = SignInThrottle(key=key, failures=0)
        db.add(row)
    row.failures += 1
    row.last_failure_at = now
    over = row.failures - backoff.free_failures
    if over < 0:
        return 0
    delay = min(backoff.max_delay, 1 << min(over, 30))
    row.blocked_until = now + timedelta(seconds=delay)
    if row.reported_at is None or now - row.reported_at >= REPORT_EVERY:
        row.reported_at = now
        user = user_by_email(db, email)
        audit.record(
            db,
            caller,
            "auth.throttled",
            target_type="user" if user else None,
            target_id=user.id if user else None,
            outcome="denied",
            details={"failures": row.failures, "retry_after": delay, "reason": "account_backoff"},
        )
    return delay


def blocked_for(db: DbSession, email: str, source: str | None, now: datetime | None = None) -> int:
    """Seconds the account is still blocked for this source (0: not blocked)."""
    row = db.get(SignInThrottle, throttle_key(email, source))
    return 0 if row is None else _retry_after(row, now or utcnow())


def check_password(
    db: DbSession, caller: Caller, email: str, password: str, backoff: Backoff
) -> User | None:
    """The user for these credentials, or None. Raises Throttled while the account is in
    backoff for the caller's source (the password is then not even checked, and the attempt
    does not lengthen the block). Failures are counted and recorded durably. Never records the
    password."""
    now = utcnow()
    wait = blocked_for(db, email, caller.ip_address, now)
    if wait:
        raise Throttled("too many failed sign-ins; wait and try again", retry_after=wait)
    user = sessions.authenticate(db, caller, email, password)
    if user is None:
        register_failure(db, caller, email, backoff, now)
    # A right password alone does not clear the count: the second factor may still fail.
    return user


def succeeded(db: DbSession, email: str, source: str | None) -> None:
    """Every factor passed: forget the failures of this account from this source."""
    row = db.get(SignInThrottle, throttle_key(email, source))
    if row is not None:
        db.delete(row)


def forget_account(db: DbSession, email: str) -> None:
    """The password was reset: forget the failures of this account from every source."""
    db.execute(delete(SignInThrottle).where(SignInThrottle.key.like(_account_part(email) + "%")))
