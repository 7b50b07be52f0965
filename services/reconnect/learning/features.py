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
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from keepwarm.services.reconnect.history import ContactHistory, InteractionPoint
from keepwarm.services.reconnect.stats import SMALL_GROUP
from keepwarm.services.reconnect.stats import _typical_gap as typical_gap

__all__ = [
    "FEATURES",
    "HALF_LIVES",
    "OWNER_KINDS",
    "Snapshot",
    "Timeline",
    "Tracker",
    "snapshot_at",
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
    """Running totals over one contact's timeline, read oldest first."""

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
        self.decayed = _Decay()
        self.seen = _Decay()
        self.circle: set[int] = set()

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
            self.seen.add(_days(appearances[self._seen]), 1.0)
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
            self.days.append(day)
        (self.personal_days if size <= SMALL_GROUP else self.group_days).add(day)

    def snapshot(self, at: datetime) -> Snapshot:
        """The contact as it stood at `at` (after everything read so far)."""
        if self.first_at is None or self.last_at is None:
            raise ValueError("a snapshot needs at least one interaction")
        now = _days(at)
        silence = max(now - _days(self.last_at), 0.0)
        gap = typical_gap(self.days)
        longest = max(
            (float((b - a).days) for a, b in itertools.pairwise(self.days)),
            default=0.0,
        )
        owner_points = self.sent + self.meetings
        appearances = self.timeline.appearances[: self._seen]
        last_seen = appearances[-1] if appearances else None
        seen_silence = max(now - _days(last_seen), 0.0) if last_seen else _NEVER_DAYS
        window = bisect.bisect_left([_days(a) for a in appearances], now - 90.0)
        one_to_one = self.one_to_one / owner_points if owner_points else 0.0
        values = (
            math.log1p(silence),
            math.log(max(silence, 1.0) / max(gap, 1.0)) if gap is not None else 0.0,
            1.0 if gap is None else 0.0,
            math.log(max(silence, 1.0) / max(longest, 1.0)),
            *self.decayed.logs(now),
            math.log1p(len(self.personal_days)),
            math.log1p(len(self.group_days - self.personal_days)),
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
            seen_90_days=len(appearances) - window,
            owner_points=owner_points,
        )


def _within(moment: datetime, until: datetime, before: bool) -> bool:
    return moment < until if before else moment <= until


def timelines(
    histories: Iterable[ContactHistory],
    appearances: Mapping[int, Sequence[datetime]] | None = None,
) -> list[Timeline]:
    """Each history with its appearances and companions.

    Companions come from the interactions' sources: people on the same message or meeting.
    Without `appearances` (no database at hand), a person appears where they interacted.
    """
    histories = list(histories)
    on_source: dict[str, list[int]] = defaultdict(list)
    for history in histories:
        for point in history.points:
            if point.source is not None:
                on_source[point.source].append(history.person_id)
    out: list[Timeline] = []
    for history in histories:
        pid = history.person_id
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
