"""Identity hardening: TOTP credentials, recovery codes, e-mailed tokens, sign-in throttling."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from artifact.models.base import Base, IdMixin, UTCDateTime, utcnow


class MfaCredential(IdMixin, Base):
    """A user's TOTP secret, encrypted; enabled once a first code was confirmed."""

    __tablename__ = "mfa_credential"

    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), unique=True)
    secret_ciphertext: Mapped[str | None] = mapped_column(String(400))
    # A new secret waiting for its first code (the working one stays until then).
    pending_ciphertext: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last TOTP time step accepted: a code of that step or an earlier one is a replay.
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)


class RecoveryCode(IdMixin, Base):
    """A single-use recovery code; only its SHA-256 is stored (the code has 80 random bits)."""

    __tablename__ = "mfa_recovery_code"

    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AccountToken(IdMixin, Base):
    """A single-use e-mailed token (e-mail verification or password reset), stored as SHA-256."""

    __tablename__ = "account_token"

    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInThrottle(Base):
    """Failed sign-ins per account key (a hash of the e-mail typed, known account or not)."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
