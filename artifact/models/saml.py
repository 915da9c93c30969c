"""SAML 2.0 sign-in: the AuthnRequests we sent, so an answer's InResponseTo names one of ours,
still pending, for the provider we asked (kept in the database: several app servers agree)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from artifact.models.base import Base, UTCDateTime, utcnow


class SamlAuthnRequest(Base):
    """One AuthnRequest: ``id`` is the request's ID (pysaml2's, random); ``consumed_at`` is
    set when an answer to it signed someone in or was refused after verification."""

    __tablename__ = "saml_authn_request"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    provider_id: Mapped[str] = mapped_column(
        ForeignKey("identity_provider.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
