"""The identity feature's sealed secrets (TOTP seeds, enrolled and pending) under key versions:
how many depend on one, and sealing them again under the current version (``keys rewrap``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from artifact.identity.services.mfa import _PURPOSE
from artifact.infra import secretbox
from artifact.infra.storage.kek import KeyProvider
from artifact.models import MfaCredential
from artifact.models.base import DbSession


@dataclass(frozen=True)
class ResealBatch:
    resealed: int  # secrets now under the current version
    unreadable: int  # secrets whose key version is gone (they stay as they are)
    last_id: str | None  # where the next batch starts; None when this was the last


def count_under(db: DbSession, version: int) -> int:
    """Sealed secrets that need key ``version`` to open."""
    prefix = secretbox.version_prefix(version)
    return (
        db.scalar(
            select(func.count())
            .select_from(MfaCredential)
            .where(
                or_(
                    MfaCredential.secret_ciphertext.startswith(prefix, autoescape=True),
                    MfaCredential.pending_ciphertext.startswith(prefix, autoescape=True),
                )
            )
        )
        or 0
    )


def reseal_batch(db: DbSession, keyring: KeyProvider, after: str, limit: int) -> ResealBatch:
    """Seal again under the current version up to ``limit`` credentials after id ``after``
    (in id order). Written in the caller's unit of work: until it commits, the old values (and
    the old key version, which ``keys retire`` keeps while they exist) still open."""
    rows = db.scalars(
        select(MfaCredential)
        .where(MfaCredential.id > after)
        .order_by(MfaCredential.id)
        .limit(limit)
        .with_for_update()
    ).all()
    resealed = unreadable = 0
    for cred in rows:
        for column in ("secret_ciphertext", "pending_ciphertext"):
            token = getattr(cred, column)
            if token is None or secretbox.version_of(token) == keyring.current().version:
                continue
            try:
                setattr(cred, column, secretbox.reseal(keyring, _PURPOSE, cred.user_id, token))
            except ValueError:
                unreadable += 1
            else:
                resealed += 1
    db.flush()
    last_id = rows[-1].id if len(rows) == limit else None
    return ResealBatch(resealed, unreadable, last_id)
