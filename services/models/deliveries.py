"""Emails keepwarm owes a user (a week's digest, a meeting's prompt), claimed before sending."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keepwarm.services.core.db import Base, EnumText


class DeliveryKind(StrEnum):
    """What an email is."""

    DIGEST = "digest"  # key: the ISO week in the user's time zone, "2026-W47"
    PROMPT = "prompt"  # key: the event occurrence's fingerprint


class DeliveryStatus(StrEnum):
    """Where one delivery stands.

    pending -> sending -> sent, or sending -> failed (retried after `retry_at`) -> sending ...;
    `failed` with no `retry_at` has used up its attempts and is reported, never dropped.
    `missed` and `skipped` record why nothing was sent (scheduler down past the window, or the
    user turned the email off) so "why no digest this week?" has an answer.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    MISSED = "missed"
    SKIPPED = "skipped"


class Delivery(Base):
    """One email owed to a user; the unique (user, kind, key) makes it exactly one.

    A sender claims the row (pending/failed-and-due/stale-sending -> sending) with a conditional
    update before it talks to the mail server, and marks it sent after; two schedulers or a
    retried actor find it claimed or sent and do nothing.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "key"),
        Index("ix_deliveries_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[DeliveryKind] = mapped_column(EnumText(DeliveryKind, 20))
    key: Mapped[str] = mapped_column(String(80))
    status: Mapped[DeliveryStatus] = mapped_column(
        EnumText(DeliveryStatus, 20), default=DeliveryStatus.PENDING
    )
    # When it became owed (the digest slot; the meeting's end plus the delay).
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    # The same Message-ID on every attempt: a resend after a crash between the server's "250"
    # and our commit is recognised as one message by the receiving side.
    message_id: Mapped[str] = mapped_column(String(200))
    recipient: Mapped[str | None] = mapped_column(String(320))
    variant: Mapped[str | None] = mapped_column(String(20))  # "digest" | "stale" for digests
    detail: Mapped[str | None] = mapped_column(Text)  # JSON: who was in it, or why not sent
    last_error: Mapped[str | None] = mapped_column(Text)
