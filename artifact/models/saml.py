"""SAML 2.0 sign-in: the AuthnRequests we sent, so an answer's InResponseTo names one of ours,
still pending, for the provider we asked (kept in the database: several app servers agree).

The IdP's page posts the answer cross-site, and a SameSite=Lax session cookie does not come
with such a POST: the assertion consumer service verifies the answer without the session, keeps
what it says here under a one-time key, and sends the browser (a top-level GET, which carries
the cookie) to finish the sign-in where the session proves this browser started it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from artifact.models.base import Base, UTCDateTime, utcnow


class SamlAuthnRequest(Base):
    """One AuthnRequest: ``id`` is the request's ID (pysaml2's, random); ``consumed_at`` is
    set when a verified answer to it arrived (a second answer to it is refused)."""

    __tablename__ = "saml_authn_request"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    provider_id: Mapped[str] = mapped_column(
        ForeignKey("identity_provider.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SHA-256 of the one-time key of the finishing step, and what the verified assertion said
    # (subject, e-mail, name, groups, mfa) until then; both cleared when it finishes.
    finish_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    verified: Mapped[dict[str, object] | None] = mapped_column(JSON)
