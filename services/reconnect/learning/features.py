"""What the learned ranker knows about one contact at one moment: a row of numbers and facts.

The features follow the tie-strength research (shared/reference/relationship-research.md (c),
(e)): silence and silence against the person's own rhythm, recency-decayed volume as Gmail's
Interactions Rank scores it, distinct days of personal contact, group sizes, how long the tie
has lasted, the owner's replies, meetings and the direction of the mail; and, beyond the
interactions, whether the person still appears in the owner's mail at all and how many of the
owner's people they were in touch with alongside the owner. Every count enters as a
logarithm, so an owner who writes twice as much as another shifts every contact's row by the
same constant, which changes no ranking.

A `Tracker` reads one contact's timeline oldest first and can describe the contact at any
moment after what it has read, so the rows for many cut-offs of one history cost one pass.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import numpy as np
from numpy.typing import NDArray

from keepwarm.services.reconnect.history import ContactHistory, InteractionPoint
from keepwarm.services.reconnect.stats import MIN_GAPS_FOR_CADENCE, SMALL_GROUP, percentile_sorted

__all__ = [
    "FEATURES",
    "FIXED",
    "HALF_LIVES",
    "OWNER_KINDS",
    "Aggregate",
    "Snapshot",
    "Timeline",
    "Tracker",
    "feature_rows",
    "snapshot_at",
    "snapshot_of",
    "timelines",
]

# Half-lives of the recency-decayed volume, in days (Roth et al. try one to three months; a
# year keeps the memory of a long tie). Mail the owner wrote counts twice (w_out = 2).
HALF_LIVES = (30.0, 90.0, 365.0)
OUT_WEIGHT = 2.0
# Kinds in which the owner took part: what makes a relationship, and what "spoke again" means.
OWNER_KINDS = frozenset({"sent", "met", "elsewhere"})
# The smallest decayed volume kept before the logarithm (about three years at a 30-day half-life).
_FLOOR = 1e-9
# "Never seen" for the days since a person last appeared: ten years.
_NEVER_DAYS = 3650.0

FEATURES: tuple[str, ...] = (
    "log_silence",  # log(1 + days since the last interaction of any kind)
    "overdue",  # log(silence / usual gap); 0 without a learned gap
    "no_cadence",  # 1 when fewer than two gaps are known
    "longest_gap",  # log(silence / the longest gap so far): quiet this long before?
    "recent_30",  # log of the interactions decayed with a 30-day half-life (IR)
    "recent_90",  # ... 90 days
    "recent_365",  # ... a year
    "personal_days",  # log(1 + distinct days in touch alone or with <= 2 others)
    "group_days",  # log(1 + the other distinct days)
    "sent",  # log(1 + mails the owner wrote to them)
    "received",  # log(1 + mails they wrote to the owner)
    "meetings",  # log(1 + small meetings and "talked elsewhere")
    "one_to_one",  # share of the owner's mails and meetings with them alone
    "group_size",  # mean log(group size) over all interactions
    "duration",  # log(1 + days from the first interaction to the last)
    "replies",  # log(1 + the owner's replies ("Re:") to them)
    "both_ways",  # 1 when mail went both ways
    "wrote_last",  # 1 when the last interaction was the owner's
    "circle",  # log(1 + other people on the mails and meetings the owner shared with them)
    "seen_silence",  # log(1 + days since they last appeared in any of the owner's mail)
    "seen_30",  # log of their appearances decayed with a 30-day half-life
    "seen_90",  # ... 90 days
    "seen_365",  # ... a year
)
_INDEX = {name: i for i, name in enumerate(FEATURES)}


@dataclass(frozen=True, slots=True)
class Timeline:
    """One contact's history plus what the ranker reads beside it, each stream oldest first."""

    history: ContactHistory
    # When they appeared in any of the owner's mail or meetings (interactions included).
    appearances: tuple[datetime, ...] = ()
    # (when, who): another person on a mail or meeting the owner shared with them.
    companions: tuple[tuple[datetime, int], ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One contact at one moment: the feature row and the facts the why-line quotes."""

    at: datetime
    values: tuple[float, ...]
    first_at: datetime
    last_at: datetime
    silence_days: float
    typical_gap_days: float | None
    longest_gap_days: float
    sent: int
    received: int
    meetings: int
    personal_days: int
    one_to_one_share: float
    replies: int
    circle: int
    last_seen_at: datetime | None
    seen_90_days: int  # appearances in the 90 days before `at`
    owner_points: int  # sent + met + elsewhere: 0 means no relationship (inbound only)

    def value(self, name: str) -> float:
        return self.values[_INDEX[name]]


def _days(moment: datetime) -> float:
    return moment.timestamp() / 86400.0


class _Decay:
    """Sums of weights decayed with several half-lives, kept as of the last addition."""

    def __init__(self) -> None:
        self.values = [0.0] * len(HALF_LIVES)
        self.at: float | None = None

    def add(self, day: float, weight: float) -> None:
        if self.at is not None:
            self.values = [
                v * 0.5 ** ((day - self.at) / h)
                for v, h in zip(self.values, HALF_LIVES, strict=True)
            ]
        self.values = [v + weight for v in self.values]
        self.at = day

    def logs(self, day: float) -> list[float]:
        elapsed = 0.0 if self.at is None else max(day - self.at, 0.0)
        return [
            math.log(max(v * 0.5 ** (elapsed / h), _FLOOR))
            for v, h in zip(self.values, HALF_LIVES, strict=True)
        ]


class Tracker:
    """Running totals over one contact's timeline, read oldest first.

    Everything a snapshot reads is kept up to date as points are added (the longest gap, the
    sorted gaps behind the usual gap, the days only in groups), so the fit's many snapshots of
    one history cost little each; the values are the same as computed afresh.
    """

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self._point = 0
        self._seen = 0
        self._companion = 0
        self.first_at: datetime | None = None
        self.last_at: datetime | None = None
        self.last_kind = ""
        self.sent = 0
        self.received = 0
        self.meetings = 0
        self.one_to_one = 0
        self.replies = 0
        self.log_group_sum = 0.0
        self.days: list[date] = []
        self.personal_days: set[date] = set()
        self.group_days: set[date] = set()
        self.group_only_days = 0  # days in group_days and not in personal_days
        self.longest_gap = 0.0
        self._gaps: list[float] = []  # between distinct days, ascending
        self._typical_gap: float | None = None
        self.decayed = _Decay()
        self.seen = _Decay()
        self.circle: set[int] = set()
        self._seen_days = [_days(a) for a in timeline.appearances]

    @property
    def count(self) -> int:
        return self._point

    def advance(self, until: datetime, *, before: bool = False) -> None:
        """Read everything at or before `until` (strictly before with `before=True`)."""
        points = self.timeline.history.points
        while self._point < len(points) and _within(points[self._point].at, until, before):
            self._add(points[self._point])
            self._point += 1
        appearances = self.timeline.appearances
        while self._seen < len(appearances) and _within(appearances[self._seen], until, before):
            self.seen.add(self._seen_days[self._seen], 1.0)
            self._seen += 1
        companions = self.timeline.companions
        while self._companion < len(companions) and _within(
            companions[self._companion][0], until, before
        ):
            self.circle.add(companions[self._companion][1])
            self._companion += 1

    def _add(self, point: InteractionPoint) -> None:
        if self.first_at is None:
            self.first_at = point.at
        self.decayed.add(_days(point.at), OUT_WEIGHT if point.kind in OWNER_KINDS else 1.0)
        self.last_at = point.at
        self.last_kind = point.kind
        size = max(point.group_size, 1)
        self.log_group_sum += math.log(size)
        if point.kind == "sent":
            self.sent += 1
            if point.subject and point.subject.lower().startswith("re:"):
                self.replies += 1
        elif point.kind == "received":
            self.received += 1
        else:
            self.meetings += 1
        if point.kind in OWNER_KINDS and size == 1:
            self.one_to_one += 1
        day = point.at.date()
        if not self.days or self.days[-1] != day:
            if self.days:
                gap = float((day - self.days[-1]).days)
                self.longest_gap = max(self.longest_gap, gap)
                bisect.insort(self._gaps, gap)
                self._typical_gap = (
                    percentile_sorted(self._gaps, 0.8)
                    if len(self._gaps) >= MIN_GAPS_FOR_CADENCE
                    else None
                )
            self.days.append(day)
        if size <= SMALL_GROUP:
            if day not in self.personal_days:
                self.personal_days.add(day)
                if day in self.group_days:
                    self.group_only_days -= 1
        elif day not in self.group_days:
            self.group_days.add(day)
            if day not in self.personal_days:
                self.group_only_days += 1

    def due_at(self, at: datetime, floor_days: float) -> bool:
        """examples.is_due of the snapshot at `at`, without making the snapshot."""
        if self.last_at is None or self.sent + self.meetings == 0:
            return False
        silence = max(_days(at) - _days(self.last_at), 0.0)
        return silence > max(floor_days, self._typical_gap or 0.0)

    def _lasting(self, one_to_one: float) -> tuple[float, ...]:
        """The features that do not change with the moment (personal_days .. circle)."""
        assert self.first_at is not None and self.last_at is not None
        return (
            math.log1p(len(self.personal_days)),
            math.log1p(self.group_only_days),
            math.log1p(self.sent),
            math.log1p(self.received),
            math.log1p(self.meetings),
            one_to_one,
            self.log_group_sum / self.count,
            math.log1p(_days(self.last_at) - _days(self.first_at)),
            math.log1p(self.replies),
            1.0 if self.sent and self.received else 0.0,
            1.0 if self.last_kind in OWNER_KINDS else 0.0,
            math.log1p(len(self.circle)),
        )

    def aggregate(self) -> Aggregate:
        """What is read so far, reduced to what a snapshot at any later moment needs."""
        if self.first_at is None or self.last_at is None:
            raise ValueError("a snapshot needs at least one interaction")
        owner_points = self.sent + self.meetings
        one_to_one = self.one_to_one / owner_points if owner_points else 0.0
        last_day = _days(self.last_at)
        fixed = (
            1.0 if self._typical_gap is None else 0.0,
            *self._lasting(one_to_one),
        )
        seen_days = self._seen_days[: self._seen]
        last_seen = self.timeline.appearances[self._seen - 1] if self._seen else None
        return Aggregate(
            first_at=self.first_at,
            last_at=self.last_at,
            typical_gap_days=self._typical_gap,
            longest_gap_days=self.longest_gap,
            fixed=fixed,
            decay_at=last_day if self.decayed.at is None else self.decayed.at,
            decayed=tuple(self.decayed.values),
            seen_at=self.seen.at,
            seen=tuple(self.seen.values),
            last_seen_at=last_seen,
            seen_days=tuple(seen_days),
            sent=self.sent,
            received=self.received,
            meetings=self.meetings,
            personal_days=len(self.personal_days),
            one_to_one_share=one_to_one,
            replies=self.replies,
            circle=len(self.circle),
        )

    def snapshot(self, at: datetime) -> Snapshot:
        """The contact as it stood at `at` (after everything read so far)."""
        if self.first_at is None or self.last_at is None:
            raise ValueError("a snapshot needs at least one interaction")
        now = _days(at)
        silence = max(now - _days(self.last_at), 0.0)
        gap = self._typical_gap
        longest = self.longest_gap
        owner_points = self.sent + self.meetings
        appearances = self.timeline.appearances
        last_seen = appearances[self._seen - 1] if self._seen else None
        seen_silence = max(now - self._seen_days[self._seen - 1], 0.0) if last_seen else _NEVER_DAYS
        window = bisect.bisect_left(self._seen_days, now - 90.0, 0, self._seen)
        one_to_one = self.one_to_one / owner_points if owner_points else 0.0
        values = (
            math.log1p(silence),
            math.log(max(silence, 1.0) / max(gap, 1.0)) if gap is not None else 0.0,
            1.0 if gap is None else 0.0,
            math.log(max(silence, 1.0) / max(longest, 1.0)),
            *self.decayed.logs(now),
            *self._lasting(one_to_one),
            math.log1p(seen_silence),
            *self.seen.logs(now),
        )
        return Snapshot(
            at=at,
            values=values,
            first_at=self.first_at,
            last_at=self.last_at,
            silence_days=silence,
            typical_gap_days=gap,
            longest_gap_days=longest,
            sent=self.sent,
            received=self.received,
            meetings=self.meetings,
            personal_days=len(self.personal_days),
            one_to_one_share=one_to_one,
            replies=self.replies,
            circle=len(self.circle),
            last_seen_at=last_seen,
            seen_90_days=self._seen - window,
            owner_points=owner_points,
        )


# The features that do not change with the moment of a snapshot, in Aggregate.fixed's order.
FIXED: tuple[str, ...] = (
    "no_cadence",
    "personal_days",
    "group_days",
    "sent",
    "received",
    "meetings",
    "one_to_one",
    "group_size",
    "duration",
    "replies",
    "both_ways",
    "wrote_last",
    "circle",
)


@dataclass(frozen=True, slots=True)
class Aggregate:
    """One contact's running totals at some moment: all a snapshot at any later moment needs,
    as long as nothing happened in between. The stored queue statistics are these
    (services/reconnect/store.py); decayed sums are kept as of their last addition and decayed
    when read, silences are measured when read."""

    first_at: datetime
    last_at: datetime
    typical_gap_days: float | None
    longest_gap_days: float
    fixed: tuple[float, ...]  # FIXED's values
    decay_at: float  # day (Unix days) the decayed sums are as of
    decayed: tuple[float, ...]  # per HALF_LIVES
    seen_at: float | None
    seen: tuple[float, ...]
    last_seen_at: datetime | None
    # Appearance days (Unix days), oldest first; only the last 90 days' worth need be kept.
    seen_days: tuple[float, ...]
    sent: int
    received: int
    meetings: int
    personal_days: int
    one_to_one_share: float
    replies: int
    circle: int

    def recent(self, since: float) -> Aggregate:
        """The same, keeping only appearance days from `since` on (what a snapshot at
        `since + 90` or later reads)."""
        start = bisect.bisect_left(self.seen_days, since)
        return replace(self, seen_days=self.seen_days[start:])


_FIXED_COLUMNS = [_INDEX[name] for name in FIXED]


# An Aggregate's numbers in one float64 row (what the store keeps, and what the ranker reads):
# usual gap (NaN: none), longest gap, FIXED, the day the decayed sums are as of, the sums,
# the day last seen (NaN: never), the seen sums, then the counts the why-lines quote.
_H = len(HALF_LIVES)
_GAP, _LONGEST, _FIXED0 = 0, 1, 2
_DECAY_AT = _FIXED0 + len(FIXED)
_SEEN_AT = _DECAY_AT + 1 + _H
_COUNTS = _SEEN_AT + 1 + _H
FIGURES_WIDTH = _COUNTS + 7


def figures(a: Aggregate) -> list[float]:
    """The aggregate's numbers, in the layout of `FIGURES_WIDTH` columns."""
    return [
        math.nan if a.typical_gap_days is None else a.typical_gap_days,
        a.longest_gap_days,
        *a.fixed,
        a.decay_at,
        *a.decayed,
        math.nan if a.seen_at is None else a.seen_at,
        *a.seen,
        a.sent,
        a.received,
        a.meetings,
        a.personal_days,
        a.one_to_one_share,
        a.replies,
        a.circle,
    ]


def from_figures(
    values: Sequence[float],
    first_at: datetime,
    last_at: datetime,
    last_seen_at: datetime | None,
    seen_days: Sequence[float],
) -> Aggregate:
    """The aggregate back from its numbers (`figures`) and the moments kept beside them."""
    if len(values) != FIGURES_WIDTH:
        raise ValueError("contact figures of another layout")
    gap, seen_at = values[_GAP], values[_SEEN_AT]
    counts = values[_COUNTS:]
    return Aggregate(
        first_at=first_at,
        last_at=last_at,
        typical_gap_days=None if math.isnan(gap) else gap,
        longest_gap_days=values[_LONGEST],
        fixed=tuple(values[_FIXED0:_DECAY_AT]),
        decay_at=values[_DECAY_AT],
        decayed=tuple(values[_DECAY_AT + 1 : _SEEN_AT]),
        seen_at=None if math.isnan(seen_at) else seen_at,
        seen=tuple(values[_SEEN_AT + 1 : _COUNTS]),
        last_seen_at=last_seen_at,
        seen_days=tuple(seen_days),
        sent=int(counts[0]),
        received=int(counts[1]),
        meetings=int(counts[2]),
        personal_days=int(counts[3]),
        one_to_one_share=counts[4],
        replies=int(counts[5]),
        circle=int(counts[6]),
    )


def feature_rows(aggregates: Sequence[Aggregate], at: datetime) -> NDArray[np.float64]:
    """The feature rows (FEATURES' order) of these contacts at `at`, all at once."""
    matrix = np.asarray([figures(a) for a in aggregates], dtype=np.float64)
    return rows_from_figures(matrix.reshape(len(aggregates), FIGURES_WIDTH), at)


def rows_from_figures(matrix: NDArray[np.float64], at: datetime) -> NDArray[np.float64]:
    """The feature rows at `at` of contacts given as rows of `figures`.

    The ranker's rows for the queue, from the history and from the stored statistics alike,
    so both give the same numbers. The features that change with the moment follow
    Tracker.snapshot's formulas, vectorised: the last interaction's day is the day the
    decayed sums are as of, the last appearance's the day the seen sums are.
    """
    n = matrix.shape[0]
    now = _days(at)
    out = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if n == 0:
        return out
    out[:, _FIXED_COLUMNS] = matrix[:, _FIXED0:_DECAY_AT]
    last = matrix[:, _DECAY_AT]
    silence = np.maximum(now - last, 0.0)
    gap = matrix[:, _GAP]
    clipped = np.maximum(silence, 1.0)
    out[:, _INDEX["log_silence"]] = np.log1p(silence)
    out[:, _INDEX["overdue"]] = np.where(
        np.isnan(gap), 0.0, np.log(clipped / np.maximum(np.nan_to_num(gap, nan=1.0), 1.0))
    )
    out[:, _INDEX["longest_gap"]] = np.log(clipped / np.maximum(matrix[:, _LONGEST], 1.0))
    for k, h in enumerate(HALF_LIVES):
        out[:, _INDEX["recent_30"] + k] = np.log(
            np.maximum(matrix[:, _DECAY_AT + 1 + k] * np.power(0.5, silence / h), _FLOOR)
        )
    seen_at = matrix[:, _SEEN_AT]
    never = np.isnan(seen_at)
    seen_elapsed = np.where(never, 0.0, np.maximum(now - np.nan_to_num(seen_at), 0.0))
    out[:, _INDEX["seen_silence"]] = np.log1p(np.where(never, _NEVER_DAYS, seen_elapsed))
    for k, h in enumerate(HALF_LIVES):
        out[:, _INDEX["seen_30"] + k] = np.log(
            np.maximum(matrix[:, _SEEN_AT + 1 + k] * np.power(0.5, seen_elapsed / h), _FLOOR)
        )
    return out


def snapshot_of(aggregate: Aggregate, at: datetime, values: Sequence[float]) -> Snapshot:
    """The snapshot (the facts the why-line quotes) of a contact at `at`, its row given."""
    now = _days(at)
    window = bisect.bisect_left(aggregate.seen_days, now - 90.0)
    return Snapshot(
        at=at,
        values=tuple(float(v) for v in values),
        first_at=aggregate.first_at,
        last_at=aggregate.last_at,
        silence_days=max(now - _days(aggregate.last_at), 0.0),
        typical_gap_days=aggregate.typical_gap_days,
        longest_gap_days=aggregate.longest_gap_days,
        sent=aggregate.sent,
        received=aggregate.received,
        meetings=aggregate.meetings,
        personal_days=aggregate.personal_days,
        one_to_one_share=aggregate.one_to_one_share,
        replies=aggregate.replies,
        circle=aggregate.circle,
        last_seen_at=aggregate.last_seen_at,
        seen_90_days=len(aggregate.seen_days) - window,
        owner_points=aggregate.sent + aggregate.meetings,
    )


def _within(moment: datetime, until: datetime, before: bool) -> bool:
    return moment < until if before else moment <= until


def timelines(
    histories: Iterable[ContactHistory],
    appearances: Mapping[int, Sequence[datetime]] | None = None,
    only: Collection[int] | None = None,
) -> list[Timeline]:
    """Each history with its appearances and companions (of the people in `only`, if given).

    Companions come from the interactions' sources: people on the same message or meeting.
    Without `appearances` (no database at hand), a person appears where they interacted.
    """
    histories = list(histories)
    on_source: dict[str, list[int]] = defaultdict(list)
    if only is None:
        for history in histories:
            for point in history.points:
                if point.source is not None:
                    on_source[point.source].append(history.person_id)
    else:
        # Only the sources the chosen people were on: one cheap pass over everyone else's.
        for history in histories:
            if history.person_id in only:
                for point in history.points:
                    if point.source is not None:
                        on_source[point.source] = []
        for history in histories:
            for point in history.points:
                if point.source in on_source:
                    on_source[point.source].append(history.person_id)
    out: list[Timeline] = []
    for history in histories:
        pid = history.person_id
        if only is not None and pid not in only:
            continue
        seen = (
            tuple(sorted(appearances.get(pid, ())))
            if appearances is not None
            else tuple(p.at for p in history.points)
        )
        # An interaction always shows the person, whatever the appearances missed.
        if appearances is not None and history.points:
            seen = tuple(sorted({*seen, *(p.at for p in history.points)}))
        companions = sorted(
            (point.at, other)
            for point in history.points
            if point.source is not None
            for other in on_source[point.source]
            if other != pid
        )
        out.append(Timeline(history, seen, tuple(companions)))
    return out


def snapshot_at(timeline: Timeline, at: datetime) -> Snapshot | None:
    """The contact at `at` from its timeline up to then; None before the first interaction."""
    tracker = Tracker(timeline)
    tracker.advance(at)
    return tracker.snapshot(at) if tracker.last_at is not None else None
