"""What the user said about a suggestion: snooze, done, talked elsewhere, stop, resume."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from keepwarm.services.core.db import Base, EnumText


class Action(StrEnum):
    """A user's answer to a suggestion."""

    SNOOZE = "snooze"  # not before `until`
    DONE = "done"  # reached out: the clock restarts and a cool-down follows
    TALKED_ELSEWHERE = "talked_elsewhere"  # we spoke on another channel: counts as contact
    STOP = "stop"  # never suggest this person again
    RESUME = "resume"  # undo a stop or a snooze


class LifecycleEvent(Base):
    """One action on one person, at a time; the state at any date is the fold of these.

    Kept as a history rather than a current state so `--as-of` can show the queue as it stood,
    and so a person's answers can retune their cadence.
    """

    __tablename__ = "lifecycle_events"
    __table_args__ = (Index("ix_lifecycle_events_user_person", "user_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    action: Mapped[Action] = mapped_column(EnumText(Action, 20))
    at: Mapped[datetime]
    until: Mapped[datetime | None]
