"""Training examples from the owner's own past, and from the owner's answers.

At the as-of date the owner's history already holds answers to the question the queue asks:
at an earlier cut-off T, a relationship had been silent past the floor (and past its own
rhythm); did the owner speak with them again within the horizon after T? Only cut-offs with
T + horizon at or before the as-of date are used, so every outcome is known by then and
nothing after the as-of date is read. A cut-off whose horizon holds almost no mail from the
owner is a gap in the mailbox (an export that skips months, a lost folder), not an owner who
chose to reconnect with nobody, so it is left out; so is one where nobody came back, which
teaches nothing about order.

The owner's answers are examples too: "done" and "talked elsewhere" say this person was worth
suggesting, "stop" strongly says not, a snooze weakly says not now.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from keepwarm.services.reconnect.learning.features import OWNER_KINDS, Snapshot, Timeline, Tracker

__all__ = [
    "ANSWER_WEIGHTS",
    "Answer",
    "Example",
    "ExampleRules",
    "answer_examples",
    "history_examples",
    "is_due",
    "training_cutoffs",
]

# action -> (label, weight). An answer is the owner saying outright what a cut-off example only
# infers 90 days later, about the people at the top of today's queue, so one counts as twenty
# inferred examples; "stop" is the strongest word, a snooze only "not now".
ANSWER_WEIGHTS: dict[str, tuple[int, float]] = {
    "done": (1, 20.0),
    "talked_elsewhere": (1, 20.0),
    "stop": (0, 30.0),
    "snooze": (0, 5.0),
}


@dataclass(frozen=True, slots=True)
class ExampleRules:
    """Where the owner's past is cut to make examples."""

    floor_days: float = 91.32
    horizon_days: float = 90.0  # "spoke again within" this many days
    step_days: float = 14.0  # between two cut-offs
    max_cutoffs: int = 52  # about two years of cut-offs, the most recent
    min_history_days: float = 60.0  # of data before a cut-off
    # Fewer messages and meetings of the owner's than this in a cut-off's horizon: a gap.
    min_owner_messages: int = 10


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer the owner gave about a person."""

    person_id: int
    action: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled row: a contact at a cut-off (or at an answer) and what followed."""

    person_id: int
    at: datetime
    values: tuple[float, ...]
    label: int
    weight: float
    source: str  # "history" or the answer's action


def is_due(snapshot: Snapshot, floor_days: float) -> bool:
    """A relationship silent past both the floor and its own usual gap (the queue's filter)."""
    threshold = max(floor_days, snapshot.typical_gap_days or 0.0)
    return snapshot.owner_points > 0 and snapshot.silence_days > threshold


def training_cutoffs(first_at: datetime, as_of: datetime, rules: ExampleRules) -> list[datetime]:
    """Cut-offs whose horizon ends by `as_of`, newest back to `max_cutoffs`, oldest first."""
    latest = as_of - timedelta(days=rules.horizon_days)
    earliest = first_at + timedelta(days=rules.min_history_days)
    out: list[datetime] = []
    for k in range(rules.max_cutoffs):
        cut = latest - timedelta(days=k * rules.step_days)
        if cut < earliest:
            break
        out.append(cut)
    return out[::-1]


def history_examples(
    timelines: Sequence[Timeline], as_of: datetime, rules: ExampleRules
) -> list[Example]:
    """Due contacts at each training cut-off, labelled by whether the owner spoke with them
    again within the horizon. Nothing after `as_of` is read."""
    firsts = [t.history.points[0].at for t in timelines if t.history.points]
    if not firsts:
        return []
    cutoffs = training_cutoffs(min(firsts), as_of, rules)
    if not cutoffs:
        return []
    horizon = timedelta(days=rules.horizon_days)
    # Every message or meeting of the owner's once, however many people it went to.
    moments = sorted(
        {
            (p.source or f"{t.history.person_id}:{p.at.isoformat()}", p.at)
            for t in timelines
            for p in t.history.points
            if p.kind in OWNER_KINDS and p.at <= as_of
        },
        key=lambda item: item[1],
    )
    owner_times = [at for _, at in moments]
    cutoffs = [
        c
        for c in cutoffs
        if bisect.bisect_right(owner_times, c + horizon) - bisect.bisect_right(owner_times, c)
        >= rules.min_owner_messages
    ]
    by_cutoff: dict[datetime, list[Example]] = {c: [] for c in cutoffs}
    for timeline in timelines:
        history = timeline.history
        owner_times = [p.at for p in history.points if p.kind in OWNER_KINDS and p.at <= as_of]
        tracker = Tracker(timeline)
        for cut in cutoffs:
            tracker.advance(cut)
            if tracker.last_at is None:
                continue
            snapshot = tracker.snapshot(cut)
            if not is_due(snapshot, rules.floor_days):
                continue
            later = bisect.bisect_right(owner_times, cut)
            came_back = later < len(owner_times) and owner_times[later] <= cut + horizon
            by_cutoff[cut].append(
                Example(history.person_id, cut, snapshot.values, int(came_back), 1.0, "history")
            )
    out: list[Example] = []
    for cut in cutoffs:
        rows = by_cutoff[cut]
        if any(e.label for e in rows):
            out.extend(sorted(rows, key=lambda e: e.person_id))
    return out


def answer_examples(
    timelines: Iterable[Timeline], answers: Iterable[Answer], as_of: datetime
) -> list[Example]:
    """One example per answer given by `as_of`: the person as they stood just before it."""
    by_id = {t.history.person_id: t for t in timelines}
    out: list[Example] = []
    for answer in sorted(answers, key=lambda a: (a.at, a.person_id, a.action)):
        meaning = ANSWER_WEIGHTS.get(answer.action)
        timeline = by_id.get(answer.person_id)
        if meaning is None or timeline is None or answer.at > as_of:
            continue
        tracker = Tracker(timeline)
        # Strictly before: "talked elsewhere" is itself an interaction at the answer.
        tracker.advance(answer.at, before=True)
        if tracker.last_at is None:
            continue
        label, weight = meaning
        out.append(
            Example(
                answer.person_id,
                answer.at,
                tracker.snapshot(answer.at).values,
                label,
                weight,
                answer.action,
            )
        )
    return out
