"""Calendar event occurrences and their attendees."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keepwarm.services.core.db import Base


class Event(Base):
    """One occurrence of an event; recurring series are stored expanded.

    The natural key is the event UID with the occurrence's original start, so a moved
    occurrence updates its row instead of adding one.
    """

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("user_id", "fingerprint"),
        Index("ix_events_user_pending", "user_id", "derived"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    uid: Mapped[str] = mapped_column(Text)
    occurrence_start: Mapped[datetime]
    start: Mapped[datetime]
    end: Mapped[datetime]
    summary: Mapped[str | None] = mapped_column(Text)
    all_day: Mapped[bool] = mapped_column(default=False)
    cancelled: Mapped[bool] = mapped_column(default=False)
    organizer: Mapped[str | None] = mapped_column(String(320))
    organizer_name: Mapped[str | None] = mapped_column(Text)
    calendar_owner: Mapped[str | None] = mapped_column(String(320))
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


class EventAttendee(Base):
    """One invited address of an occurrence, with its answer."""

    __tablename__ = "event_attendees"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    response: Mapped[str] = mapped_column(String(20))
    is_resource: Mapped[bool] = mapped_column(default=False)
    is_organizer: Mapped[bool] = mapped_column(default=False)
