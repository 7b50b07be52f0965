"""What the user adds by hand: notes on a contact, follow-ups, and spent one-click links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from keepwarm.services.core.db import Base


class Note(Base):
    """A note on a person's timeline (typed after a meeting, or from the CLI)."""

    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_user_person", "user_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))


class FollowUp(Base):
    """ "Get back to this person by `due_at`": shown in the digest once due, resolved by contact.

    Resolution is not stored when it happens but read from the interactions: any interaction
    with the person after `created_at` resolves it, so a late import resolves it too.
    `dismissed_at` is the user closing it by hand.
    """

    __tablename__ = "follow_ups"
    __table_args__ = (Index("ix_follow_ups_user_due", "user_id", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    due_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    dismissed_at: Mapped[datetime | None]


class UsedLink(Base):
    """A one-click link that has been followed: each link acts once."""

    __tablename__ = "used_links"

    nonce: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    used_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(Text)
