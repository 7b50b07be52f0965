"""What the ranker reads besides the interactions: where people still appear, and the answers.

An interaction needs the owner and the person in a small exchange; many more messages show
that someone is still around the owner: a circular they were copied on, a thread of twenty,
a big meeting, mail an assistant sent them. Those make no relationship (PRODUCT.md), but a
relationship whose person still appears in the owner's mail is more likely to pick up again
than one whose person has vanished. Machine mail (bounces, auto-replies, notifications)
shows nobody. The owner's answers to earlier suggestions are read here too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from keepwarm.services.mail.noise import FilterReason
from keepwarm.services.models import (
    Event,
    EventAttendee,
    LifecycleEvent,
    Message,
    MessageRecipient,
    PersonAddress,
)
from keepwarm.services.reconnect.learning.examples import Answer

__all__ = ["OwnerSignals", "load_signals"]

# Filtered mail that still shows who was on it; the rest is machines talking.
_MACHINE = (
    FilterReason.BOUNCE.value,
    FilterReason.AUTO_REPLY.value,
    FilterReason.CALENDAR_NOTIFICATION.value,
    FilterReason.AUTOMATED.value,
    FilterReason.NO_DATE.value,
    FilterReason.NO_SENDER.value,
)


@dataclass(frozen=True, slots=True)
class OwnerSignals:
    """Per person, the moments they appeared in the owner's mail or calendar (sorted), and
    the owner's answers to suggestions; all up to one as-of date."""

    appearances: Mapping[int, tuple[datetime, ...]] = field(default_factory=dict)
    answers: tuple[Answer, ...] = ()


def load_signals(session: Session, user_id: int, as_of: datetime) -> OwnerSignals:
    """Everything up to `as_of`; nothing later is read."""
    seen: dict[int, set[tuple[str, datetime]]] = defaultdict(set)
    human = or_(Message.filter_reason.is_(None), Message.filter_reason.not_in(_MACHINE))
    by_sender = (
        select(Message.id, Message.sent_at, PersonAddress.person_id)
        .join(
            PersonAddress,
            (PersonAddress.user_id == user_id) & (PersonAddress.address == Message.sender),
        )
        .where(Message.user_id == user_id, Message.sent_at <= as_of, human)
    )
    by_recipient = (
        select(Message.id, Message.sent_at, PersonAddress.person_id)
        .join(MessageRecipient, MessageRecipient.message_id == Message.id)
        .join(
            PersonAddress,
            (PersonAddress.user_id == user_id)
            & (PersonAddress.address == MessageRecipient.address),
        )
        .where(
            Message.user_id == user_id,
            Message.sent_at <= as_of,
            MessageRecipient.role.in_(("to", "cc")),
            human,
        )
    )
    for query in (by_sender, by_recipient):
        for message_id, at, person_id in session.execute(query):
            if at is not None:
                seen[person_id].add((f"m:{message_id}", at))
    by_attendee = (
        select(Event.id, Event.start, PersonAddress.person_id)
        .join(EventAttendee, EventAttendee.event_id == Event.id)
        .join(
            PersonAddress,
            (PersonAddress.user_id == user_id) & (PersonAddress.address == EventAttendee.address),
        )
        .where(Event.user_id == user_id, Event.start <= as_of, Event.cancelled.is_(False))
    )
    for event_id, at, person_id in session.execute(by_attendee):
        seen[person_id].add((f"e:{event_id}", at))
    appearances = {
        person_id: tuple(sorted(at for _, at in moments)) for person_id, moments in seen.items()
    }
    answers = tuple(
        Answer(person_id, action, at)
        for person_id, action, at in session.execute(
            select(LifecycleEvent.person_id, LifecycleEvent.action, LifecycleEvent.at)
            .where(LifecycleEvent.user_id == user_id, LifecycleEvent.at <= as_of)
            .order_by(LifecycleEvent.at, LifecycleEvent.id)
        )
    )
    return OwnerSignals(appearances, answers)
