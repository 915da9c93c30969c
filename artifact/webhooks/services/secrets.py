"""Endpoint signing secrets sealed with the keyring (as TOTP seeds are): how many depend on a
key version, and sealing them again under the current one (``keys rewrap``)."""

from __future__ import annotations

from sqlalchemy import func, select

from artifact.infra import secretbox
from artifact.infra.storage.kek import KeyProvider
from artifact.models import WebhookEndpoint
from artifact.models.base import DbSession

PURPOSE = "webhook-secret"


def seal(keyring: KeyProvider, endpoint_id: str, secret: str) -> str:
    return secretbox.seal(keyring, PURPOSE, endpoint_id, secret)


def open_secret(keyring: KeyProvider, endpoint: WebhookEndpoint) -> str:
    """Raises secretbox.MissingKey or ValueError (see ``secretbox.open_sealed``)."""
    return secretbox.open_sealed(keyring, PURPOSE, endpoint.id, endpoint.secret_ciphertext)


def count_under(db: DbSession, version: int) -> int:
    """Endpoint secrets that need key ``version`` to open."""
    prefix = secretbox.version_prefix(version)
    return (
        db.scalar(
            select(func.count())
            .select_from(WebhookEndpoint)
            .where(WebhookEndpoint.secret_ciphertext.startswith(prefix, autoescape=True))
        )
        or 0
    )


def reseal_all(db: DbSession, keyring: KeyProvider) -> tuple[int, int]:
    """Seal every endpoint secret again under the current version (endpoints are few); returns
    (resealed, unreadable). Written in the caller's unit of work."""
    resealed = unreadable = 0
    current = keyring.current().version
    for endpoint in db.scalars(select(WebhookEndpoint).with_for_update()):
        token = endpoint.secret_ciphertext
        if secretbox.version_of(token) == current:
            continue
        try:
            endpoint.secret_ciphertext = secretbox.reseal(keyring, PURPOSE, endpoint.id, token)
        except ValueError:
            unreadable += 1
        else:
            resealed += 1
    db.flush()
    return resealed, unreadable
