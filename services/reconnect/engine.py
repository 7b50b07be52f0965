"""Ranking the reconnect queue and explaining each suggestion."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from services.reconnect.stats import ContactStats

__all__ = ["DAYS_PER_MONTH", "QueueRules", "Suggestion", "describe_gap", "rank_suggestions"]

DAYS_PER_MONTH = 30.44
# Past three times the usual silence, more silence says nothing new about whom to call first.
MAX_OVERDUE = 3.0


@dataclass(frozen=True, slots=True)
class QueueRules:
    """The user's settings that shape the queue."""

    floor_months: float = 3.0


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One person to reconnect with, with the figures behind it and a one-line reason."""

    stats: ContactStats
    days_silent: float
    score: float
    why: str

    @property
    def months_silent(self) -> float:
        return round(self.days_silent / DAYS_PER_MONTH, 1)


def describe_gap(days: float) -> str:
    """A person's phrasing of a span of days: '~3 weeks', '~5 months', '~2 years'."""
    if days < 10:
        return "~" + _plural(max(round(days), 1), "day")
    if days < 60:
        return "~" + _plural(round(days / 7), "week")
    if days < 730:
        return "~" + _plural(round(days / DAYS_PER_MONTH), "month")
    return "~" + _plural(round(days / 365.25), "year")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _why(stats: ContactStats, days_silent: float) -> str:
    parts: list[str] = []
    if stats.typical_gap_days is not None:
        parts.append(f"you talked every {describe_gap(max(stats.typical_gap_days, 1))}")
    else:
        parts.append(f"in touch since {stats.first_at:%Y-%m}")
    parts.append(f"silent {describe_gap(days_silent).removeprefix('~')}")
    if stats.last_subject and stats.last_subject_at:
        parts.append(f"last: '{stats.last_subject}', {stats.last_subject_at:%Y-%m-%d}")
    else:
        parts.append(f"last: {stats.last_at:%Y-%m-%d}")
    emails = stats.emails_sent + stats.emails_received
    counts = [_plural(emails, "email")] if emails else []
    if stats.meetings:
        counts.append(_plural(stats.meetings, "meeting"))
    parts.append(", ".join(counts))
    return "; ".join(parts)


def rank_suggestions(
    contacts: Iterable[ContactStats], as_of: datetime, rules: QueueRules
) -> list[Suggestion]:
    """The people due for a reconnect as of `as_of`, best first.

    Due means: a relationship (the owner wrote to or met them), silent for longer than both
    their own learned cadence and the floor. The score is tie strength times how overdue they
    are (capped), so a strong tie gone quiet outranks a faint one gone quieter.
    """
    floor_days = rules.floor_months * DAYS_PER_MONTH
    out: list[Suggestion] = []
    for stats in contacts:
        if not stats.is_relationship:
            continue
        days_silent = (as_of - stats.last_at).total_seconds() / 86400
        threshold = max(floor_days, stats.typical_gap_days or 0.0)
        if days_silent <= threshold:
            continue
        overdue = min(days_silent / threshold, MAX_OVERDUE)
        score = round(stats.strength * overdue, 4)
        out.append(Suggestion(stats, days_silent, score, _why(stats, days_silent)))
    out.sort(key=lambda s: (-s.score, s.stats.last_at, s.stats.history.person_id))
    return out
