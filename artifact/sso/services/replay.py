"""One-time values of a provider's answers (OIDC nonces, SAML assertion ids): each is accepted
once while it could still be valid; the same value again is a replay."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete

from artifact.models import IdentityProvider, SsoSeenValue
from artifact.models.base import DbSession, utcnow


def _key(provider: IdentityProvider, kind: str, value: str) -> str:
    material = f"{provider.id}\x00{kind}\x00{value}".encode()
    return hashlib.sha256(material).hexdigest()


def first_use(
    db: DbSession, provider: IdentityProvider, kind: str, value: str, expires_at: datetime
) -> bool:
    """Whether this is the first time ``value`` (of ``kind``: "nonce", "assertion") comes from
    ``provider``; remembers it until ``expires_at`` (when the answer stops being valid anyway).
    Written in the caller's unit of work: if the sign-in fails later, the value is not spent."""
    now = utcnow()
    db.execute(delete(SsoSeenValue).where(SsoSeenValue.expires_at < now))
    key = _key(provider, kind, value)
    if db.get(SsoSeenValue, key) is not None:
        return False
    db.add(SsoSeenValue(key=key, provider_id=provider.id, seen_at=now, expires_at=expires_at))
    db.flush()
    return True
