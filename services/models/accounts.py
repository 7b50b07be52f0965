"""Connected provider accounts, their sync cursors, and the ledger of every sync run."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keepwarm.services.core.db import Base, EnumText


class AccountStatus(StrEnum):
    """Whether an account can sync."""

    ACTIVE = "active"
    RECONNECT_NEEDED = "reconnect_needed"  # the grant was revoked or expired: never retried
    DISCONNECTED = "disconnected"


class RunStatus(StrEnum):
    """How a sync run ended."""

    RUNNING = "running"
    OK = "ok"  # everything the streams held was read, stored or filtered by rule
    PARTIAL = "partial"  # finished, but skipped something: the ledger says what and why
    STOPPED = "stopped"  # the account was disconnected or deleted meanwhile
    SKIPPED = "skipped"  # the account was not active: nothing was read (no ledger row)
    AUTH_EXPIRED = "auth_expired"  # the grant was revoked: "reconnect needed"
    RATE_LIMITED = "rate_limited"  # the provider asked to slow down: retried after its wait
    UNAVAILABLE = "unavailable"  # the provider failed or timed out: retried with backoff
    FAILED = "failed"  # cut short by anything else (a lost lease, the time limit, a bug)


class Account(Base):
    """A mailbox and calendar the user connected with OAuth.

    Tokens are stored only encrypted (`token_ciphertext`, Fernet). Where each of its streams
    stands is in `SyncCursor`, one row per stream.
    """

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("user_id", "provider", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[AccountStatus] = mapped_column(
        EnumText(AccountStatus, 20), default=AccountStatus.ACTIVE
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(Text)
    token_ciphertext: Mapped[str] = mapped_column(Text)
    api_base: Mapped[str | None] = mapped_column(Text)  # the sandbox's URL; None = the provider
    since: Mapped[datetime]
    created_at: Mapped[datetime]
    last_sync_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]


class StreamKind(StrEnum):
    """What a stream carries."""

    MAIL = "mail"
    CALENDAR = "calendar"


class SyncCursor(Base):
    """Where one stream of an account stands (a mailbox, a folder, a calendar).

    The cursor is the connector's opaque string, written in the same transaction as the rows
    of the page it follows. `caught_up` says the stream's first full read is done.
    """

    __tablename__ = "sync_cursors"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[StreamKind] = mapped_column(EnumText(StreamKind, 10), primary_key=True)
    stream: Mapped[str] = mapped_column(String(200), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text)
    caught_up: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]


class SyncRun(Base):
    """The ledger of one sync run of one account: what it saw, stored, filtered and failed."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[RunStatus] = mapped_column(EnumText(RunStatus, 20), default=RunStatus.RUNNING)
    seen: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    events_seen: Mapped[int] = mapped_column(Integer, default=0)
    events_imported: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    filtered: Mapped[str | None] = mapped_column(Text)  # JSON {reason: count}
    # JSON {reason: count}: what the run saw and could not store. Never empty when not "ok".
    skipped: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
