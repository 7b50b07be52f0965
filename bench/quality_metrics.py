"""Pure scoring helpers for bench/quality.py: people, truths, baselines and precision@k.

Nothing here runs keepwarm or reads a database; quality.py feeds it the parsed CLI JSON.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "BASELINES",
    "IR_VARIANTS",
    "Person",
    "best_possible",
    "expected_precision",
    "interactions_rank",
    "parse_time",
    "person_from_json",
    "precision",
    "random_precision",
]


def parse_time(value: str) -> datetime:
    """An ISO-8601 instant from the CLI or the database, as an aware UTC datetime."""
    text = value.strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Person:
    """One contact as the CLI reported it at a date (a suggestion or a `contacts` item)."""

    key: str  # the smallest address: stable across calls
    addresses: tuple[str, ...]
    name: str | None
    last_at: datetime
    sent: int
    received: int
    meetings: int

    @property
    def volume(self) -> int:
        return self.sent + self.received + self.meetings

    @property
    def personal(self) -> bool:
        """The owner wrote to them or met them (what makes a relationship)."""
        return self.sent + self.meetings > 0


def person_from_json(item: dict[str, Any]) -> Person:
    """A `suggestions --json` item (addresses under "contact") or a `contacts --json` item."""
    ref = item.get("contact") or item
    addresses = tuple(sorted({str(a).lower() for a in ref.get("addresses") or []}))
    if not addresses:
        raise ValueError(f"an item without addresses: {item!r:.200}")
    return Person(
        key=addresses[0],
        addresses=addresses,
        name=ref.get("name"),
        last_at=parse_time(item["last_interaction_at"]),
        sent=int(item.get("emails_sent") or 0),
        received=int(item.get("emails_received") or 0),
        meetings=int(item.get("meetings") or 0),
    )


def precision(order: Sequence[str], hits: set[str], k: int) -> float:
    """Share of the first k of `order` that are hits; a list shorter than k loses the slots."""
    return sum(1 for key in order[:k] if key in hits) / k


def expected_precision(
    people: Iterable[Person], sort_key: Callable[[Person], Any], hits: set[str], k: int
) -> float:
    """Precision@k of ranking by `sort_key` (smallest first), ties broken at random.

    People with equal keys are in random order, so the tie group that straddles rank k
    contributes its share of hits times the slots left: the exact expectation, with no
    arbitrary tie-breaker that could flatter or hurt a baseline.
    """
    ordered = sorted(people, key=sort_key)
    taken = 0.0
    slots = k
    i = 0
    while i < len(ordered) and slots > 0:
        j = i
        group_key = sort_key(ordered[i])
        while j < len(ordered) and sort_key(ordered[j]) == group_key:
            j += 1
        group = ordered[i:j]
        group_hits = sum(1 for p in group if p.key in hits)
        if len(group) <= slots:
            taken += group_hits
            slots -= len(group)
        else:
            taken += slots * group_hits / len(group)
            slots = 0
        i = j
    return taken / k


def random_precision(keys: Sequence[str], hits: set[str], k: int, rounds: int = 100) -> float:
    """Mean precision@k over `rounds` seeded shuffles (seeds 0..rounds-1)."""
    total = 0.0
    ordered = sorted(keys)
    for seed in range(rounds):
        shuffled = list(ordered)
        random.Random(seed).shuffle(shuffled)
        total += precision(shuffled, hits, k)
    return total / rounds


def best_possible(pool_size: int, hits_in_pool: int, k: int) -> float:
    """The most any ranking of this pool can reach at k."""
    return min(hits_in_pool, k, pool_size) / k


def _silence(p: Person) -> Any:
    return p.last_at  # oldest last contact first = longest silence first


def _volume(p: Person) -> Any:
    return -p.volume


def _recent(p: Person) -> Any:
    return -p.last_at.timestamp()


# name -> (sort key, counts towards the goal). "recent" is shortest silence first among people
# already past the floor, the classic "who you talk to next" predictor (issue 12: a goal too).
BASELINES: dict[str, tuple[Callable[[Person], Any] | None, bool]] = {
    "silence": (_silence, True),
    "volume": (_volume, True),
    "random": (None, True),
    "recent": (_recent, True),
}

# Gmail's Interactions Rank (Roth et al., KDD 2010; relationship-research.md (e)): the
# recency-weighted sum of interactions, outgoing ones weighted w_out, half-life lambda days.
# Ranked highest first. Every (lambda, w_out) pair runs; the engine must beat each of them.
IR_HALF_LIVES = (30, 60, 90)
IR_OUT_WEIGHTS = (1, 2)
IR_VARIANTS: dict[str, tuple[float, float]] = {
    f"ir{h}w{w}": (float(h), float(w)) for h in IR_HALF_LIVES for w in IR_OUT_WEIGHTS
}
OWNER_KINDS = frozenset({"sent", "met", "elsewhere"})


def interactions_rank(
    points: Iterable[tuple[datetime, str]], at: datetime, half_life_days: float, out_weight: float
) -> float:
    """IR(c) = w_out * sum over outgoing 2^(-(at - t)/lambda) + sum over incoming, up to `at`."""
    total = 0.0
    for moment, kind in points:
        if moment > at:
            continue
        weight = out_weight if kind in OWNER_KINDS else 1.0
        total += weight * 0.5 ** ((at - moment).total_seconds() / 86400 / half_life_days)
    return total
