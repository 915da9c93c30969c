"""Webhooks: endpoints admins register, one delivery per endpoint and event, and each try."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from artifact.models.base import Base, IdMixin, UTCDateTime, utcnow


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its next try (next_attempt_at)
    SUCCEEDED = "succeeded"  # a try got a 2xx answer
    FAILED = "failed"  # every try failed; no more tries
    CANCELLED = "cancelled"  # its endpoint was deleted or disabled before it went out


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class WebhookEndpoint(IdMixin, Base):
    """A receiver: its URL, the event types it wants, and its signing secret (sealed with the
    keyring; the plain secret is shown once, at creation). Deleting one keeps the record (and
    its delivery log) with ``deleted_at`` set."""

    __tablename__ = "webhook_endpoint"

    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret_ciphertext: Mapped[str] = mapped_column(String(400))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Failed tries in a row (any delivery); a success sets it back to 0.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookDelivery(IdMixin, Base):
    """One event for one endpoint: the exact body sent on every try, and where it stands."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_delivery_event"),
        CheckConstraint(_in("status", DeliveryStatus), name="status_known"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
    )

    endpoint_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_endpoint.id", ondelete="RESTRICT"), index=True
    )
    event_id: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(50))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    endpoint: Mapped[WebhookEndpoint] = relationship()
    tries: Mapped[list[WebhookAttempt]] = relationship(
        back_populates="delivery", order_by="WebhookAttempt.number"
    )


class WebhookAttempt(IdMixin, Base):
    """One HTTP POST of a delivery: when, how long, the answer's status code or the error."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (UniqueConstraint("delivery_id", "number", name="uq_webhook_attempt_number"),)

    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_delivery.id", ondelete="RESTRICT"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    response_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(300))

    delivery: Mapped[WebhookDelivery] = relationship(back_populates="tries")
