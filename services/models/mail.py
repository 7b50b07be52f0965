"""Message metadata as imported or synced: headers only, never bodies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keepwarm.services.core.db import Base


class Message(Base):
    """One message, stored once however many folders hold a copy.

    `fingerprint` is the natural key: Enron keeps the same message in several folders under
    different Message-IDs, so identity is the sender, recipients, date and subject. `derived`
    and `filter_reason` are written by derivation: a non-null reason says why the message
    carries no relationship (mailing list, automated, bulk, ...).
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("user_id", "fingerprint"),
        Index("ix_messages_user_pending", "user_id", "derived"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    subject: Mapped[str | None] = mapped_column(Text)
    sender: Mapped[str | None] = mapped_column(String(320))
    sender_name: Mapped[str | None] = mapped_column(Text)
    recipient_count: Mapped[int] = mapped_column(Integer, default=0)
    in_reply_to: Mapped[str | None] = mapped_column(Text)
    folder: Mapped[str | None] = mapped_column(Text)
    labels: Mapped[str | None] = mapped_column(Text)
    in_sent_folder: Mapped[bool] = mapped_column(default=False)
    list_id: Mapped[str | None] = mapped_column(Text)
    list_unsubscribe: Mapped[bool] = mapped_column(default=False)
    precedence: Mapped[str | None] = mapped_column(String(40))
    auto_submitted: Mapped[str | None] = mapped_column(String(80))
    content_type: Mapped[str | None] = mapped_column(String(120))
    auto_reply_header: Mapped[bool] = mapped_column(default=False)
    provider_id: Mapped[str | None] = mapped_column(String(200))
    thread_id: Mapped[str | None] = mapped_column(String(200))
    import_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_runs.id", ondelete="SET NULL")
    )
    # The account that first brought it (None: files). Every source that brought it is in
    # record_sources; purging an account deletes only what no other source also brought.
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    derived: Mapped[bool] = mapped_column(default=False)
    filter_reason: Mapped[str | None] = mapped_column(String(40))


class MessageRecipient(Base):
    """One address in a message's To, Cc, Bcc or Reply-To."""

    __tablename__ = "message_recipients"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(10), primary_key=True)  # to | cc | bcc | reply_to
    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
