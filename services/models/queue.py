"""The reconnect queue's statistics, kept by the derivation worker (services/reconnect/store.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, LargeBinary, Text
from sqlalchemy.orm import Mapped, mapped_column

from keepwarm.services.core.db import Base


class QueueState(Base):
    """What a user's contact statistics and fitted model were built from, and until when
    they hold. Derived data: deleting it only means it is built again."""

    __tablename__ = "queue_states"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # The statistics describe the user's data up to `built_at`, when their newest
    # interaction had this id; they hold until the first interaction or appearance after it.
    built_at: Mapped[datetime]
    newest_interaction: Mapped[int] = mapped_column(Integer, default=0)
    valid_until: Mapped[datetime | None]
    # The owner's model (learning.model.LinearModel as JSON) and what it was fitted from.
    model_key: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(Text)
    # Every relationship (the queue's candidates), ascending by person id, as packed arrays:
    # int64 ids, int64 last interaction in microseconds since 1970, float64 usual gap (NaN:
    # none), float64 rows of learning.features.figures. A read of the current queue fetches
    # these, one row, instead of a row per due person. Deferred: only that read wants them.
    candidate_ids: Mapped[bytes | None] = mapped_column(
        LargeBinary, deferred=True, deferred_group="candidates"
    )
    candidate_last_us: Mapped[bytes | None] = mapped_column(
        LargeBinary, deferred=True, deferred_group="candidates"
    )
    candidate_gaps: Mapped[bytes | None] = mapped_column(
        LargeBinary, deferred=True, deferred_group="candidates"
    )
    candidate_figures: Mapped[bytes | None] = mapped_column(
        LargeBinary, deferred=True, deferred_group="candidates"
    )


class ContactStatsRow(Base):
    """One contact's running totals as of the user's QueueState.built_at.

    The figures the queue shows (counts, cadence, strength, last subject) are columns; what
    the ranker reads besides (learning.features.Aggregate) is packed as float64s in `figures`
    and `seen_days` (services/reconnect/store.py), read back bit for bit.
    """

    __tablename__ = "contact_stats"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str | None] = mapped_column(Text)
    addresses: Mapped[str] = mapped_column(Text)  # sorted, one per line
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    # The same moment in microseconds since 1970: silences of thousands of contacts are
    # worked out at once from it, to the microsecond, as datetime arithmetic gives them.
    last_at_us: Mapped[int] = mapped_column(BigInteger)
    emails_sent: Mapped[int] = mapped_column(Integer)
    emails_received: Mapped[int] = mapped_column(Integer)
    meetings: Mapped[int] = mapped_column(Integer)
    talked_elsewhere: Mapped[int] = mapped_column(Integer)
    distinct_days: Mapped[int] = mapped_column(Integer)
    typical_gap_days: Mapped[float | None] = mapped_column(Float)
    strength: Mapped[float] = mapped_column(Float)
    last_subject: Mapped[str | None] = mapped_column(Text)
    last_subject_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    figures: Mapped[bytes] = mapped_column(LargeBinary)
    seen_days: Mapped[bytes] = mapped_column(LargeBinary)
