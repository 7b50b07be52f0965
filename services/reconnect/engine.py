"""Ranking the reconnect queue and explaining each suggestion."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, partial
from pathlib import Path

from keepwarm.services.reconnect.learning import LearningRules, OwnerSignals, Ranked, rank_due
from keepwarm.services.reconnect.learning.model import LinearModel
from keepwarm.services.reconnect.lifecycle import ContactState
from keepwarm.services.reconnect.stats import ContactStats

__all__ = [
    "DAYS_PER_MONTH",
    "QueueRules",
    "Suggestion",
    "describe_gap",
    "dormant_ties",
    "due_contacts",
    "due_level",
    "learned_why",
    "learning_rules",
    "rank_suggestions",
    "ranked_suggestions",
]

DAYS_PER_MONTH = 30.44


@dataclass(frozen=True, slots=True)
class QueueRules:
    """The user's settings that shape the queue."""

    floor_months: float = 3.0
    # Silence past this multiple of the person's threshold is "overdue", not just "due".
    overdue_factor: float = 1.5
    # The dormant view: ties quiet this long whose strength was in the top share of all ties.
    dormant_after_days: float = 365.0
    dormant_top_share: float = 0.25
    # The learned order (services/reconnect/learning): which prior (None: the shipped one),
    # and whether the owner's answers are examples in their fit.
    ranker_prior: Path | None = None
    learn_from_answers: bool = True


@dataclass(frozen=True)
class Suggestion:
    """One person to reconnect with, with the figures behind it and a one-line reason.

    `why` is a string or what tells it: the line is worked out when first read, since a
    page shows a few people of the thousands ranked."""

    stats: ContactStats
    days_silent: float
    threshold_days: float
    level: str  # "due" | "overdue" | "dormant"
    score: float
    explain: str | Callable[[], str] = field(repr=False, compare=False)

    @cached_property
    def why(self) -> str:
        return self.explain if isinstance(self.explain, str) else self.explain()

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


def _counts(stats: ContactStats) -> str:
    emails = stats.emails_sent + stats.emails_received
    counts = [_plural(emails, "email")] if emails else []
    if stats.meetings:
        counts.append(_plural(stats.meetings, "meeting"))
    if stats.talked_elsewhere:
        counts.append(f"{stats.talked_elsewhere} elsewhere")
    return ", ".join(counts)


def _last(stats: ContactStats) -> str:
    if stats.last_subject and stats.last_subject_at:
        return f"last: '{stats.last_subject}', {stats.last_subject_at:%Y-%m-%d}"
    return f"last: {stats.last_at:%Y-%m-%d}"


def learned_why(ranked: Ranked, stats: ContactStats, days_silent: float, threshold: float) -> str:
    """The stories that raised this person in the owner's model, then the last exchange."""
    parts = [r.text for r in ranked.reasons]
    if not parts:
        # Nothing lifted them above the queue's average: they are here for being due.
        parts.append(
            f"silent {describe_gap(days_silent).removeprefix('~')}, past "
            f"{describe_gap(threshold).removeprefix('~')}"
        )
    parts.append(_last(stats))
    return "; ".join(parts)


def _silence(stats: ContactStats, state: ContactState, as_of: datetime) -> float | None:
    """Days of silence that count, or None when the user's answers keep the person out."""
    return silence_since(stats.last_at, state, as_of)


def silence_since(last_at: datetime, state: ContactState, as_of: datetime) -> float | None:
    """Days of silence since the last interaction `last_at` that count, or None when the
    user's answers keep the person out."""
    if state.stopped:
        return None
    if state.cooldown_until is not None and state.cooldown_until > as_of:
        return None
    snoozed = state.snoozed_until is not None and state.snoozed_until > as_of
    # A contact after the snooze began resolves it: the snooze is about that silence only.
    if snoozed and state.snoozed_at is not None and last_at <= state.snoozed_at:
        return None
    last = max(last_at, state.touched_at) if state.touched_at else last_at
    return (as_of - last).total_seconds() / 86400


def due_level(
    last_at: datetime,
    typical_gap_days: float | None,
    state: ContactState,
    as_of: datetime,
    rules: QueueRules,
) -> tuple[float, float, str] | None:
    """(days silent, threshold, "due" or "overdue") for a relationship due as of `as_of`,
    None for one that is not (see rank_suggestions)."""
    days_silent = silence_since(last_at, state, as_of)
    if days_silent is None:
        return None
    floor_days = rules.floor_months * DAYS_PER_MONTH
    threshold = max(floor_days, typical_gap_days or 0.0) * state.cadence_factor
    if days_silent <= threshold:
        return None
    level = "overdue" if days_silent > threshold * rules.overdue_factor else "due"
    return days_silent, threshold, level


def learning_rules(rules: QueueRules) -> LearningRules:
    """The learned order's settings within the queue's."""
    return LearningRules(
        rules.floor_months * DAYS_PER_MONTH, rules.ranker_prior, rules.learn_from_answers
    )


_NO_ANSWERS = ContactState()
Due = tuple[ContactStats, float, float, str]  # the contact, days silent, threshold, level


def due_contacts(
    contacts: Iterable[ContactStats],
    as_of: datetime,
    rules: QueueRules,
    states: Mapping[int, ContactState] | None = None,
) -> list[Due]:
    """The contacts due for a reconnect as of `as_of` (see rank_suggestions), unordered."""
    states = states or {}
    due: list[Due] = []
    for stats in contacts:
        if not stats.is_relationship:
            continue
        state = states.get(stats.history.person_id, _NO_ANSWERS)
        found = due_level(stats.last_at, stats.typical_gap_days, state, as_of, rules)
        if found is not None:
            due.append((stats, *found))
    return due


def ranked_suggestions(due: Iterable[Due], ranked: Mapping[int, Ranked]) -> list[Suggestion]:
    """The due contacts in the order of their scores, best first, each with its why-line."""
    out: list[Suggestion] = []
    for stats, days_silent, threshold, level in due:
        r = ranked[stats.history.person_id]
        why = partial(learned_why, r, stats, days_silent, threshold)
        out.append(Suggestion(stats, days_silent, threshold, level, round(r.probability, 6), why))
    out.sort(key=lambda s: (-s.score, s.stats.last_at, s.stats.history.addresses))
    return out


def rank_suggestions(
    contacts: Iterable[ContactStats],
    as_of: datetime,
    rules: QueueRules,
    states: Mapping[int, ContactState] | None = None,
    signals: OwnerSignals | None = None,
    model: LinearModel | None = None,
) -> list[Suggestion]:
    """The people due for a reconnect as of `as_of`, best first.

    Due means: a relationship (the owner wrote to, met or talked with them), silent for longer
    than both their own learned cadence (stretched by their snoozes) and the floor, and not
    kept out by the user's answers (stopped, snoozed, resting after a reconnect). The order is
    the owner's learned model (services/reconnect/learning): the score is the probability that
    the owner is in touch with them again within 90 days, from this owner's own past and
    answers shrunk toward a prior fitted on other mailboxes; `signals` adds where people still
    appear in the owner's mail and the answers (without it, only the interactions are read).
    `model`, when given, is that model already fitted as of `as_of`.
    """
    contacts = list(contacts)
    due = due_contacts(contacts, as_of, rules, states)
    if not due:
        return []
    ranked = rank_due(
        [c.history for c in contacts],
        [stats.history.person_id for stats, *_ in due],
        as_of,
        learning_rules(rules),
        signals,
        model,
    )
    return ranked_suggestions(due, ranked)


def dormant_ties(
    contacts: Iterable[ContactStats],
    as_of: datetime,
    rules: QueueRules,
    states: Mapping[int, ContactState] | None = None,
) -> list[Suggestion]:
    """Ties that were strong and have been quiet for a year or more, strongest first.

    Strong means in the top `dormant_top_share` of all the owner's relationships by strength
    as of the date. Ties out of touch for years give advice as useful as current ones, with more
    novelty (Levin, Walter & Murnighan 2011), and people avoid them out of awkwardness.
    """
    states = states or {}
    relationships = [c for c in contacts if c.is_relationship]
    if not relationships:
        return []
    strengths = sorted((c.strength for c in relationships), reverse=True)
    cutoff = strengths[max(math.ceil(len(strengths) * rules.dormant_top_share) - 1, 0)]
    out: list[Suggestion] = []
    for stats in relationships:
        state = states.get(stats.history.person_id, ContactState())
        days_silent = _silence(stats, state, as_of)
        if days_silent is None or days_silent < rules.dormant_after_days:
            continue
        if stats.strength < cutoff:
            continue
        years = (stats.last_at - stats.first_at).days / 365.25
        span = f"over {years:.1f} years" if years >= 1 else f"since {stats.first_at:%Y-%m}"
        why = (
            f"a strong tie ({_counts(stats)} {span}); quiet "
            f"{describe_gap(days_silent).removeprefix('~')}; {_last(stats)}"
        )
        out.append(
            Suggestion(
                stats,
                days_silent,
                rules.dormant_after_days,
                "dormant",
                round(stats.strength, 4),
                why,
            )
        )
    out.sort(key=lambda s: (-s.score, s.stats.last_at, s.stats.history.addresses))
    return out
