"""OIDC client secrets sealed with the keyring (as TOTP seeds and webhook secrets are): how
many depend on a key version (``keys retire`` refuses while any do), and sealing them again
under the current one (``keys rewrap``)."""

from __future__ import annotations

from sqlalchemy import func, select

from artifact.infra import secretbox
from artifact.infra.storage.kek import KeyProvider
from artifact.models import IdentityProvider
from artifact.models.base import DbSession

PURPOSE = "oidc-client-secret"  # noqa: S105 (a key-derivation label)


def seal(keyring: KeyProvider, provider_id: str, secret: str) -> str:
    return secretbox.seal(keyring, PURPOSE, provider_id, secret)


def open_secret(keyring: KeyProvider, provider: IdentityProvider) -> str | None:
    """The client secret, or None for a public client. Raises secretbox.MissingKey or
    ValueError (see ``secretbox.open_sealed``)."""
    token = provider.client_secret_ciphertext
    if token is None:
        return None
    return secretbox.open_sealed(keyring, PURPOSE, provider.id, token)


def count_under(db: DbSession, version: int) -> int:
    """Client secrets that need key ``version`` to open (deleted providers' too)."""
    prefix = secretbox.version_prefix(version)
    column = IdentityProvider.client_secret_ciphertext
    return (
        db.scalar(
            select(func.count())
            .select_from(IdentityProvider)
            .where(column.startswith(prefix, autoescape=True))
        )
        or 0
    )


def reseal_all(db: DbSession, keyring: KeyProvider) -> tuple[int, int]:
    """Seal every client secret again under the current version (providers are few); returns
    (resealed, unreadable). Written in the caller's unit of work."""
    resealed = unreadable = 0
    current = keyring.current().version
    stmt = select(IdentityProvider).where(IdentityProvider.client_secret_ciphertext.is_not(None))
    for provider in db.scalars(stmt.with_for_update()):
        token = provider.client_secret_ciphertext
        if token is None or secretbox.version_of(token) == current:
            continue
        try:
            provider.client_secret_ciphertext = secretbox.reseal(
                keyring, PURPOSE, provider.id, token
            )
        except ValueError:
            unreadable += 1
        else:
            resealed += 1
    db.flush()
    return resealed, unreadable
