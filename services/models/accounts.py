"""Connected provider accounts, their sync cursors, and the ledger of every sync run."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keepwarm.services.core.db import Base


class AccountStatus(StrEnum):
    """Whether an account can sync."""

    ACTIVE = "active"
    RECONNECT_NEEDED = "reconnect_needed"  # the grant was revoked or expired: never retried
    DISCONNECTED = "disconnected"


class Account(Base):
    """A mailbox and calendar the user connected with OAuth.

    Tokens are stored only encrypted (`token_ciphertext`, Fernet). Cursors are opaque provider
    strings saved in the same transaction as the rows they cover.
    """

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("user_id", "provider", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20), default=AccountStatus.ACTIVE.value)
    status_reason: Mapped[str | None] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(Text)
    token_ciphertext: Mapped[str] = mapped_column(Text)
    api_base: Mapped[str | None] = mapped_column(Text)  # the sandbox's URL; None = the provider
    since: Mapped[datetime]
    created_at: Mapped[datetime]
    # Backfill goes SENT first, newest first, then the rest; then incremental history.
    backfill_phase: Mapped[str] = mapped_column(String(10), default="sent")
    backfill_page_token: Mapped[str | None] = mapped_column(Text)
    # The mailbox's historyId when backfill began: incremental sync starts from it.
    backfill_history_id: Mapped[str | None] = mapped_column(Text)
    mail_cursor: Mapped[str | None] = mapped_column(Text)
    calendar_cursor: Mapped[str | None] = mapped_column(Text)
    last_sync_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]


class SyncRun(Base):
    """The ledger of one sync run of one account: what it saw, stored, filtered and failed."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    seen: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    events_seen: Mapped[int] = mapped_column(Integer, default=0)
    events_imported: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    filtered: Mapped[str | None] = mapped_column(Text)  # JSON {reason: count}
    error: Mapped[str | None] = mapped_column(Text)
