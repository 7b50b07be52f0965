"""What goes into a week's digest: a few people worth a message, and the network's health."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from keepwarm.services.models import User
from keepwarm.services.reconnect import QueueRules, compute_stats, load_histories, rank_suggestions
from keepwarm.services.reconnect.engine import describe_gap, dormant_ties
from keepwarm.services.reconnect.learning import load_signals
from keepwarm.services.reconnect.lifecycle import LifecycleRules, states_at
from keepwarm.services.reconnect.notes import open_follow_ups
from keepwarm.services.reconnect.stats import ContactStats

__all__ = [
    "Digest",
    "DigestItem",
    "DigestRules",
    "NetworkHealth",
    "compose_digest",
    "rules_for",
]

ACTIVE_DAYS = 90
RECENT_DAYS = 30
DORMANT_DAYS = 365


@dataclass(frozen=True, slots=True)
class DigestRules:
    """How many people a digest holds, and how many of them may be long-dormant ties."""

    size: int = 6
    dormant_slots: int = 2
    queue: QueueRules = field(default_factory=QueueRules)
    lifecycle: LifecycleRules = field(default_factory=LifecycleRules)


def rules_for(user: User, rules: DigestRules) -> DigestRules:
    """The operator's digest rules with the user's own size and silence floor, if chosen."""
    if user.digest_size is not None:
        rules = replace(rules, size=user.digest_size)
    if user.floor_months is not None:
        rules = replace(rules, queue=replace(rules.queue, floor_months=user.floor_months))
    return rules


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One person in the digest, with why they are there."""

    person_id: int
    name: str | None
    address: str
    reason: str  # "follow_up" | "overdue" | "due" | "dormant"
    why: str
    last_at: datetime
    last_subject: str | None
    emails_sent: int
    emails_received: int
    meetings: int

    @property
    def label(self) -> str:
        return self.name or self.address


@dataclass(frozen=True, slots=True)
class NetworkHealth:
    """One line on the network as a whole (relationships only).

    active: in touch within 90 days; fading: due or overdue for a message now;
    newly_dormant: passed a year of silence within the last 30 days; new: first contact
    within the last 30 days.
    """

    active: int
    fading: int
    newly_dormant: int
    new: int


@dataclass(frozen=True, slots=True)
class Digest:
    """A digest as of a moment: the people in it and the health line."""

    as_of: datetime
    items: tuple[DigestItem, ...]
    health: NetworkHealth


def _item(stats: ContactStats, reason: str, why: str) -> DigestItem:
    history = stats.history
    return DigestItem(
        person_id=history.person_id,
        name=history.name,
        address=history.addresses[0],
        reason=reason,
        why=why,
        last_at=stats.last_at,
        last_subject=stats.last_subject,
        emails_sent=stats.emails_sent,
        emails_received=stats.emails_received,
        meetings=stats.meetings,
    )


def compose_digest(session: Session, user_id: int, as_of: datetime, rules: DigestRules) -> Digest:
    """Pick up to `rules.size` people as of `as_of`, using nothing later.

    Follow-ups that fell due come first (the user asked for them), then a mix: up to
    `dormant_slots` long-dormant strong ties (valuable and the easiest to forget), the rest
    from the reconnect queue, most pressing first. A person appears once.
    """
    stats = [compute_stats(h) for h in load_histories(session, user_id, as_of)]
    by_person = {s.history.person_id: s for s in stats}
    states = states_at(session, user_id, as_of, rules.lifecycle)
    queue = rank_suggestions(
        stats, as_of, rules.queue, states, load_signals(session, user_id, as_of)
    )
    dormant = dormant_ties(stats, as_of, rules.queue, states)

    chosen: list[DigestItem] = []
    seen: set[int] = set()

    def take(item: DigestItem) -> None:
        if item.person_id not in seen and len(chosen) < rules.size:
            chosen.append(item)
            seen.add(item.person_id)

    for follow_up in open_follow_ups(session, user_id, as_of):
        person = by_person.get(follow_up.person_id)
        state = states.get(follow_up.person_id)
        if person is None or (state is not None and state.stopped):
            continue
        asked = f"you asked to follow up by {follow_up.due_at:%Y-%m-%d}"
        if follow_up.reason:
            asked += f" ({follow_up.reason})"
        silent = describe_gap((as_of - person.last_at).total_seconds() / 86400)
        take(_item(person, "follow_up", f"{asked}; last contact {silent.removeprefix('~')} ago"))
    room = rules.size - len(chosen)
    gems = [d for d in dormant if d.stats.history.person_id not in seen]
    gems = gems[: min(rules.dormant_slots, room)]
    for suggestion in queue:
        if len(chosen) >= rules.size - len(gems):
            break
        take(_item(suggestion.stats, suggestion.level, suggestion.why))
    # Then the gems, and if either list ran short, more from the other.
    for suggestion in [*gems, *queue, *dormant]:
        take(_item(suggestion.stats, suggestion.level, suggestion.why))
    return Digest(as_of, tuple(chosen), _health(stats, len(queue), as_of))


def _health(stats: list[ContactStats], fading: int, as_of: datetime) -> NetworkHealth:
    relationships = [s for s in stats if s.is_relationship]
    active_since = as_of - timedelta(days=ACTIVE_DAYS)
    recent = as_of - timedelta(days=RECENT_DAYS)
    dormant_from = as_of - timedelta(days=DORMANT_DAYS)
    return NetworkHealth(
        active=sum(1 for s in relationships if s.last_at >= active_since),
        fading=fading,
        newly_dormant=sum(
            1
            for s in relationships
            if dormant_from - timedelta(days=RECENT_DAYS) < s.last_at <= dormant_from
        ),
        new=sum(1 for s in relationships if s.first_at >= recent),
    )
