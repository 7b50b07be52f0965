"""Which meetings earn a post-meeting prompt, and what the prompt shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwarm.services.accounts.users import owner_addresses
from keepwarm.services.identity.addresses import PUBLIC_MAIL_DOMAINS
from keepwarm.services.models import Event, EventAttendee, OwnerAddress, PersonAddress
from keepwarm.services.reconnect import load_histories

__all__ = [
    "NOT_OVER",
    "MeetingPrompt",
    "PromptPerson",
    "PromptRules",
    "build_prompt",
    "candidate_events",
    "prompted_events",
    "verdict",
    "why_not_prompted",
]


# The one reason that changes with time alone: a meeting (maybe moved later) not yet over.
NOT_OVER = "not over yet"


@dataclass(frozen=True, slots=True)
class PromptRules:
    """Which meetings prompt: 1 to `max_others` other people, shortly after the end."""

    delay: timedelta = timedelta(minutes=30)
    window: timedelta = timedelta(hours=24)
    max_others: int = 6


@dataclass(frozen=True, slots=True)
class PromptPerson:
    """Someone who was at the meeting, and when the user last spoke with them before it."""

    person_id: int | None
    name: str | None
    address: str
    last_at: datetime | None
    last_subject: str | None

    @property
    def label(self) -> str:
        return self.name or self.address


@dataclass(frozen=True, slots=True)
class MeetingPrompt:
    """The prompt for one occurrence."""

    event_id: int
    fingerprint: str
    summary: str | None
    start: datetime
    end: datetime
    people: tuple[PromptPerson, ...]


def candidate_events(
    session: Session, user_ids: list[int], now: datetime, rules: PromptRules
) -> list[Event]:
    """Occurrences that ended between `window` and `delay` ago, not cancelled or all-day.

    The attendee rules are checked per event by `why_not_prompted`.
    """
    if not user_ids:
        return []
    latest_end = now - rules.delay
    return list(
        session.scalars(
            select(Event)
            .where(
                Event.user_id.in_(user_ids),
                Event.end <= latest_end,
                Event.end > latest_end - rules.window,
                Event.cancelled.is_(False),
                Event.all_day.is_(False),
            )
            .order_by(Event.end, Event.id)
        )
    )


def _own_domains(owners: set[str]) -> set[str]:
    return {a.rpartition("@")[2] for a in owners} - PUBLIC_MAIL_DOMAINS


def _others(attendees: list[EventAttendee], owners: set[str]) -> list[EventAttendee]:
    return [a for a in attendees if a.address not in owners and not a.is_resource]


def why_not_prompted(
    session: Session, event: Event, now: datetime, rules: PromptRules
) -> str | None:
    """None when `event` earns a prompt at `now`, else the reason it does not (one phrase)."""
    owners = owner_addresses(session, event.user_id)
    attendees = list(
        session.scalars(select(EventAttendee).where(EventAttendee.event_id == event.id))
    )
    return verdict(event, attendees, owners, now, rules)


def prompted_events(
    session: Session, events: list[Event], now: datetime, rules: PromptRules
) -> list[Event]:
    """The `events` that earn a prompt at `now`; three queries however many there are."""
    if not events:
        return []
    owners: dict[int, set[str]] = {}
    for user_id, address in session.execute(
        select(OwnerAddress.user_id, OwnerAddress.address).where(
            OwnerAddress.user_id.in_({e.user_id for e in events})
        )
    ):
        owners.setdefault(user_id, set()).add(address)
    attendees: dict[int, list[EventAttendee]] = {}
    for attendee in session.scalars(
        select(EventAttendee).where(EventAttendee.event_id.in_([e.id for e in events]))
    ):
        attendees.setdefault(attendee.event_id, []).append(attendee)
    return [
        e
        for e in events
        if verdict(e, attendees.get(e.id, []), owners.get(e.user_id, set()), now, rules) is None
    ]


def verdict(
    event: Event,
    attendees: list[EventAttendee],
    owners: set[str],
    now: datetime,
    rules: PromptRules,
) -> str | None:
    """`why_not_prompted` for an event whose attendees and owner addresses are at hand."""
    if event.cancelled:
        return "cancelled"
    if event.all_day:
        return "all-day"
    if event.end + rules.delay > now:
        return NOT_OVER
    mine = [a for a in attendees if a.address in owners]
    if any(a.response == "declined" for a in mine):
        return "declined"
    if not mine and (event.organizer or "") not in owners:
        return "the user was not invited"
    others = _others(attendees, owners)
    if not others:
        return "no one else attended"
    if len(others) > rules.max_others:
        return f"more than {rules.max_others} other people"
    own = _own_domains(owners)
    if all(a.address.rpartition("@")[2] in own for a in others):
        return "only colleagues"
    return None


def build_prompt(session: Session, event: Event) -> MeetingPrompt:
    """Who was there and when the user last spoke with each before the meeting."""
    owners = owner_addresses(session, event.user_id)
    attendees = _others(
        list(session.scalars(select(EventAttendee).where(EventAttendee.event_id == event.id))),
        owners,
    )
    people_of: dict[str, int] = {
        address: person_id
        for address, person_id in session.execute(
            select(PersonAddress.address, PersonAddress.person_id).where(
                PersonAddress.user_id == event.user_id,
                PersonAddress.address.in_([a.address for a in attendees]),
            )
        )
    }
    before = event.start - timedelta(microseconds=1)
    histories = {
        h.person_id: h
        for h in load_histories(session, event.user_id, before, sorted(set(people_of.values())))
    }
    people: list[PromptPerson] = []
    for attendee in sorted(attendees, key=lambda a: ((a.name or a.address).lower(), a.address)):
        person_id = people_of.get(attendee.address)
        history = histories.get(person_id) if person_id is not None else None
        last = history.points[-1] if history and history.points else None
        subject = (
            next((p.subject for p in reversed(history.points) if p.subject), None)
            if history
            else None
        )
        people.append(
            PromptPerson(
                person_id=person_id,
                name=attendee.name or (history.name if history else None),
                address=attendee.address,
                last_at=last.at if last else None,
                last_subject=subject,
            )
        )
    return MeetingPrompt(
        event.id, event.fingerprint, event.summary, event.start, event.end, tuple(people)
    )
