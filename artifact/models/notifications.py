"""Notifications: the transactional outbox of domain events, the record of every mail sent,
and each user's subscriptions.

An ``OutboxEvent`` is written in the same transaction as the change it announces, so a
committed change always has its event and a rolled-back one never does. A ``MailSend`` row is
claimed (unique per event, recipient and kind) before its mail goes out, so a worker killed and
started again never sends the same mail twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from artifact.models.base import Base, IdMixin, UTCDateTime, utcnow


class OutboxEvent(IdMixin, Base):
    __tablename__ = "outbox_event"

    event_type: Mapped[str] = mapped_column(String(60), index=True)
    # Ids, titles and states only: never a document's text.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set for events a periodic scan emits, so the same reminder is emitted once.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class SendStatus:
    SENDING = "sending"  # claimed; a worker killed here leaves it (never sent twice)
    SENT = "sent"
    FAILED = "failed"  # the SMTP server refused or could not be reached; retried


class MailSend(IdMixin, Base):
    __tablename__ = "mail_send"
    __table_args__ = (UniqueConstraint("event_id", "recipient", "kind", name="uq_mail_send_once"),)

    event_id: Mapped[str] = mapped_column(ForeignKey("outbox_event.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20), default=SendStatus.SENDING)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str | None] = mapped_column(Text)


class Subscription(IdMixin, Base):
    """What a user wants to hear about: new reports and versions (all, or of some series and
    categories, by slug) and which other notification kinds they turned off."""

    __tablename__ = "subscription"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), unique=True
    )
    all_reports: Mapped[bool] = mapped_column(Boolean, default=False)
    series: Mapped[list[str]] = mapped_column(JSON, default=list)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    muted: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
