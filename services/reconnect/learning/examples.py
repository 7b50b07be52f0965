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
from datetime import UTC, datetime, time, timedelta

from keepwarm.services.reconnect.history import ContactHistory
from keepwarm.services.reconnect.learning.features import OWNER_KINDS, Snapshot, Timeline, Tracker

__all__ = [
    "ANSWER_WEIGHTS",
    "Answer",
    "Example",
    "ExampleRules",
    "answer_examples",
    "day_end",
    "example_contacts",
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
    # An owner with more relationships than this learns from this many of them, chosen by a
    # fixed hash of their id, each example weighing for the ones left out: ten thousand
    # relationships over 52 cut-offs are half a million rows, far more than a 23-feature
    # model needs and no longer a fit of seconds (bench/queue_speed.py). Every shared mailbox has
    # fewer, so their fits are as before (bench/quality.py).
    max_contacts: int = 500
    # The newest cut-off on a UTC day's end (training_cutoffs). bench/ranker_prior.py cuts
    # each shared mailbox's past back from its last interaction instead, as the shipped
    # prior was fitted.
    whole_days: bool = True


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


def day_end(moment: datetime) -> datetime:
    """The last end of a UTC day (23:59:59.999999) at or before `moment`."""
    end = datetime.combine(moment.astimezone(UTC).date(), time.max, UTC)
    return end if end <= moment else end - timedelta(days=1)


def training_cutoffs(first_at: datetime, as_of: datetime, rules: ExampleRules) -> list[datetime]:
    """Cut-offs whose horizon ends by `as_of`, newest back to `max_cutoffs`, oldest first.

    The newest is the end of a UTC day: the cut-offs (and so the owner's model) move once a
    day, not with every second of the clock, and a model fitted in the morning is the one the
    evening's queue would fit again. `--as-of D` means the end of D, which it keeps.
    """
    latest = as_of - timedelta(days=rules.horizon_days)
    if rules.whole_days:
        latest = day_end(latest)
    earliest = first_at + timedelta(days=rules.min_history_days)
    out: list[datetime] = []
    for k in range(rules.max_cutoffs):
        cut = latest - timedelta(days=k * rules.step_days)
        if cut < earliest:
            break
        out.append(cut)
    return out[::-1]


def example_contacts(
    histories: Sequence[ContactHistory], as_of: datetime, rules: ExampleRules
) -> tuple[set[int], float]:
    """The people whose past the owner's fit learns from, and the weight of each example.

    Only relationships by the newest cut-off can be due at one. Past `max_contacts` of them
    a fixed share is taken (by a hash of the id: the same every day and in every process)
    and each of its examples stands for the ones left out."""
    firsts = [h.points[0].at for h in histories if h.points]
    cutoffs = training_cutoffs(min(firsts), as_of, rules) if firsts else []
    if not cutoffs:
        return set(), 1.0
    last = cutoffs[-1]
    candidates = sorted(
        h.person_id
        for h in histories
        if any(p.kind in OWNER_KINDS and p.at <= last for p in h.points)
    )
    if len(candidates) <= rules.max_contacts:
        return set(candidates), 1.0
    chosen = sorted(candidates, key=lambda pid: ((pid * 2654435761) % 2**32, pid))
    return set(chosen[: rules.max_contacts]), len(candidates) / rules.max_contacts


def history_examples(
    timelines: Sequence[Timeline],
    as_of: datetime,
    rules: ExampleRules,
    *,
    weight: float = 1.0,
    owner_histories: Sequence[ContactHistory] | None = None,
) -> list[Example]:
    """Due contacts at each training cut-off, labelled by whether the owner spoke with them
    again within the horizon. Nothing after `as_of` is read.

    `owner_histories` (default: the timelines' own) are every contact of the owner's, for
    when the cut-offs fall and how much the owner wrote in each horizon; the examples are of
    `timelines`, each weighing `weight`."""
    everyone = (
        list(owner_histories) if owner_histories is not None else [t.history for t in timelines]
    )
    firsts = [h.points[0].at for h in everyone if h.points]
    if not firsts:
        return []
    cutoffs = training_cutoffs(min(firsts), as_of, rules)
    if not cutoffs:
        return []
    horizon = timedelta(days=rules.horizon_days)
    # Every message or meeting of the owner's once, however many people it went to.
    # (A message or meeting has one time: its source names it; the strings hash once.)
    moments: dict[object, datetime] = {
        p.source or (h.person_id, p.at): p.at
        for h in everyone
        for p in h.points
        if p.kind in OWNER_KINDS and p.at <= as_of
    }
    owner_times = sorted(moments.values())
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
            # is_due without the snapshot, which most cut-offs of most people never need
            if tracker.last_at is None or not tracker.due_at(cut, rules.floor_days):
                continue
            snapshot = tracker.snapshot(cut)
            later = bisect.bisect_right(owner_times, cut)
            came_back = later < len(owner_times) and owner_times[later] <= cut + horizon
            by_cutoff[cut].append(
                Example(history.person_id, cut, snapshot.values, int(came_back), weight, "history")
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
