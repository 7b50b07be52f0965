"""The user's answers to suggestions, and what they mean for the queue at a given date."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwarm.services.core.errors import InvalidInput, NotFound
from keepwarm.services.identity.addresses import normalize_address
from keepwarm.services.models import Action, Interaction, LifecycleEvent, PersonAddress
from keepwarm.services.reconnect.exclusions import excluded_people

__all__ = [
    "ContactState",
    "LifecycleRules",
    "person_for_address",
    "record_action",
    "record_person_action",
    "states_at",
]

# Each snooze stretches that person's rhythm by this much, up to MAX_FACTOR: the user is saying
# "less often", and a rhythm that keeps being snoozed was too tight.
SNOOZE_STRETCH = 1.5
MAX_FACTOR = 4.0


@dataclass(frozen=True, slots=True)
class LifecycleRules:
    """How long a person rests after the user reconnected with them."""

    cooldown_days: int = 30


@dataclass(frozen=True, slots=True)
class ContactState:
    """Where one person stands with the user at a date, from the user's answers up to then."""

    stopped: bool = False
    snoozed_at: datetime | None = None
    snoozed_until: datetime | None = None
    touched_at: datetime | None = None  # the latest "done" or "talked elsewhere"
    cooldown_until: datetime | None = None
    cadence_factor: float = 1.0


def person_for_address(session: Session, user_id: int, address: str) -> int:
    """The id of the person `address` belongs to; raises NotFound, InvalidInput."""
    key = normalize_address(address)
    if key is None:
        raise InvalidInput(f"not an email address: {address!r}")
    person_id = session.scalar(
        select(PersonAddress.person_id).where(
            PersonAddress.user_id == user_id, PersonAddress.address == key
        )
    )
    if person_id is None:
        raise NotFound(f"no contact with the address {address!r}")
    return person_id


def record_action(
    session: Session,
    user_id: int,
    address: str,
    action: Action,
    at: datetime,
    until: datetime | None = None,
) -> LifecycleEvent:
    """Store the user's answer about the person at `address`.

    A snooze needs `until` after `at`. "Talked elsewhere" is also an interaction, so it resets
    the silence and counts towards the person's rhythm like any other contact.
    Raises NotFound for an unknown address and InvalidInput for a snooze into the past.
    """
    person_id = person_for_address(session, user_id, address)
    return record_person_action(session, user_id, person_id, action, at, until)


def record_person_action(
    session: Session,
    user_id: int,
    person_id: int,
    action: Action,
    at: datetime,
    until: datetime | None = None,
) -> LifecycleEvent:
    """`record_action` for a person already found (by a signed link, say)."""
    if action is Action.SNOOZE and (until is None or until <= at):
        raise InvalidInput("snooze: the end must be after the start")
    event = LifecycleEvent(
        user_id=user_id, person_id=person_id, action=action.value, at=at, until=until
    )
    session.add(event)
    session.flush()
    if action is Action.TALKED_ELSEWHERE:
        session.add(
            Interaction(
                user_id=user_id,
                person_id=person_id,
                kind="elsewhere",
                at=at,
                source_key=f"l:{event.id}",
                subject=None,
                group_size=1,
            )
        )
        session.flush()
    return event


def _apply(state: ContactState, event: LifecycleEvent, rules: LifecycleRules) -> ContactState:
    action = Action(event.action)
    if action is Action.STOP:
        return ContactState(
            True, None, None, state.touched_at, state.cooldown_until, state.cadence_factor
        )
    if action is Action.RESUME:
        return ContactState(
            False, None, None, state.touched_at, state.cooldown_until, state.cadence_factor
        )
    if action is Action.SNOOZE:
        factor = min(state.cadence_factor * SNOOZE_STRETCH, MAX_FACTOR)
        return ContactState(
            state.stopped, event.at, event.until, state.touched_at, state.cooldown_until, factor
        )
    # DONE and TALKED_ELSEWHERE: the user reconnected; the person rests for a while.
    return ContactState(
        state.stopped,
        None,
        None,
        event.at,
        event.at + timedelta(days=rules.cooldown_days),
        state.cadence_factor,
    )


def states_at(
    session: Session, user_id: int, as_of: datetime, rules: LifecycleRules
) -> dict[int, ContactState]:
    """Every person's state from the user's answers given up to `as_of` (later ones unseen).

    People the user's settings exclude (an address or a whole domain) are stopped, whatever
    their answers: the queue, the dormant ties and the digest all leave them out.
    """
    states: dict[int, ContactState] = {}
    for event in session.scalars(
        select(LifecycleEvent)
        .where(LifecycleEvent.user_id == user_id, LifecycleEvent.at <= as_of)
        .order_by(LifecycleEvent.at, LifecycleEvent.id)
    ):
        states[event.person_id] = _apply(states.get(event.person_id, ContactState()), event, rules)
    for person_id in excluded_people(session, user_id):
        state = states.get(person_id, ContactState())
        states[person_id] = replace(state, stopped=True)
    return states
