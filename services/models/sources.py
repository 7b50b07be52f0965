"""Which sources brought each stored message and event: an account, or files.

A record is stored once however many sources hold it (natural keys), so "what did this account
bring" is a relation, not a column: purging an account removes only the records no other
account or import also brought.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from keepwarm.services.core.db import Base, EnumText

__all__ = ["RecordKind", "RecordSource", "source_key"]

# The source of everything imported from files (`keepwarm import`).
FILES = "files"


class RecordKind(StrEnum):
    """What a source row is about."""

    MESSAGE = "message"
    EVENT = "event"


def source_key(account_id: int | None) -> str:
    """The key of a source: "account:<id>" for a connected account, "files" for imports."""
    return FILES if account_id is None else f"account:{account_id}"


class RecordSource(Base):
    """One source of one stored message or event."""

    __tablename__ = "record_sources"
    __table_args__ = (Index("ix_record_sources_account", "account_id"),)

    kind: Mapped[RecordKind] = mapped_column(EnumText(RecordKind, 10), primary_key=True)
    record_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Set for an account's rows, so deleting the account deletes them with it.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
