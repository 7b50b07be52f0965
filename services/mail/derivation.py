"""Turning stored messages and events into interactions between the owner and people.

Rules (README, "What makes a relationship"): the owner writing to a few people gives a
`sent` interaction with each; a person writing to the owner gives `received`; a small meeting
the owner attended gives `met` with each other attendee. Lists, automated mail, bulk sends,
big, cancelled, declined and all-day meetings give nothing, and say why.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from keepwarm.services.accounts.users import owner_addresses
from keepwarm.services.core.upsert import insert_for
from keepwarm.services.identity.people import resolve_people
from keepwarm.services.identity.resolve import resolve_identities
from keepwarm.services.mail.noise import FilterReason, MessageFacts, classify_message
from keepwarm.services.models import (
    Event,
    EventAttendee,
    Interaction,
    Message,
    MessageRecipient,
    User,
)

__all__ = ["DerivationRules", "derive_pending", "reset_derivation"]

CHUNK = 1000


@dataclass(frozen=True, slots=True)
class DerivationRules:
    """The thresholds derivation applies; built from settings at the entry point."""

    bulk_recipients: int = 10
    large_meeting_attendees: int = 8


@dataclass(slots=True)
class _Contact:
    person_address: str
    name: str | None
    kind: str
    group_size: int


def _lock_user(session: Session, user_id: int) -> None:
    # Serialises derivations of one user (PostgreSQL row lock; SQLite serialises writers anyway),
    # so two workers never create the same person twice.
    session.execute(select(User.id).where(User.id == user_id).with_for_update())


def _message_contacts(
    row: Any, recipients: list[tuple[str, str, str | None]], owner: set[str], rules: DerivationRules
) -> tuple[FilterReason | None, list[_Contact]]:
    reason = classify_message(
        MessageFacts(
            sender=row.sender,
            subject=row.subject,
            list_id=row.list_id,
            list_unsubscribe=row.list_unsubscribe,
            precedence=row.precedence,
            auto_submitted=row.auto_submitted,
            content_type=row.content_type,
            auto_reply_header=row.auto_reply_header,
            labels=row.labels,
        )
    )
    if reason is not None:
        return reason, []
    if not owner:
        return FilterReason.OWNER_UNKNOWN, []
    if row.sent_at is None:
        return FilterReason.NO_DATE, []
    if row.sender is None:
        return FilterReason.NO_SENDER, []
    addressed: dict[str, str | None] = {}
    for role, address, name in recipients:
        # The same address may stand in Cc with a name and in Bcc without one.
        if role in {"to", "cc", "bcc"} and addressed.get(address) is None:
            addressed[address] = name
    others = {a: n for a, n in addressed.items() if a not in owner}
    if row.sender in owner and row.provider_id is not None and not row.in_sent_folder:
        # From the owner's address, but the provider did not file it as sent: anyone can
        # write that From (sync leaves such mail out; this catches addresses learned later).
        # Files keep the header rule: an mbox or maildir says "sent" only by its folder name.
        return FilterReason.FROM_OWNER_NOT_SENT, []
    if row.sender in owner:
        if not others:
            return FilterReason.TO_SELF, []
        if len(others) > rules.bulk_recipients:
            return FilterReason.BULK, []
        size = len(others)
        return None, [_Contact(a, n, "sent", size) for a, n in others.items()]
    if row.in_sent_folder and not owner & addressed.keys():
        # In the owner's sent folder but from someone else to others: an assistant writing on
        # the owner's behalf, not the assistant writing to the owner.
        return FilterReason.SENT_BY_DELEGATE, []
    # Mail in the owner's mailbox that the owner did not send: the sender wrote to the owner,
    # unless it went to a crowd (the owner one of many readers).
    visible = {a for role, a, _ in recipients if role in {"to", "cc"}}
    if len(visible) > rules.bulk_recipients:
        return FilterReason.BULK, []
    return None, [_Contact(row.sender, row.sender_name, "received", max(len(visible), 1))]


def _derive_message_chunk(
    session: Session, user_id: int, owner: set[str], rules: DerivationRules
) -> int:
    rows = session.execute(
        select(
            Message.id,
            Message.sent_at,
            Message.subject,
            Message.sender,
            Message.sender_name,
            Message.list_id,
            Message.list_unsubscribe,
            Message.precedence,
            Message.auto_submitted,
            Message.content_type,
            Message.auto_reply_header,
            Message.in_sent_folder,
            Message.labels,
            Message.provider_id,
        )
        .where(Message.user_id == user_id, Message.derived.is_(False))
        .order_by(Message.id)
        .limit(CHUNK)
    ).all()
    if not rows:
        return 0
    ids = [r.id for r in rows]
    recipients: dict[int, list[tuple[str, str, str | None]]] = defaultdict(list)
    for mid, role, address, name in session.execute(
        select(
            MessageRecipient.message_id,
            MessageRecipient.role,
            MessageRecipient.address,
            MessageRecipient.name,
        )
        .where(MessageRecipient.message_id.in_(ids))
        .order_by(MessageRecipient.message_id, MessageRecipient.role, MessageRecipient.address)
    ):
        recipients[mid].append((role, address, name))
    outcomes: list[dict[str, Any]] = []
    pending: list[tuple[Any, _Contact]] = []
    names: dict[str, str | None] = {}
    for row in rows:
        reason, contacts = _message_contacts(row, recipients[row.id], owner, rules)
        outcomes.append({"mid": row.id, "reason": reason.value if reason else None})
        for c in contacts:
            pending.append((row, c))
            if names.get(c.person_address) is None:
                names[c.person_address] = c.name
    people = resolve_people(session, user_id, names)
    interactions = [
        {
            "user_id": user_id,
            "person_id": people[c.person_address],
            "kind": c.kind,
            "at": row.sent_at,
            "source_key": f"m:{row.id}",
            "subject": row.subject,
            "group_size": c.group_size,
        }
        for row, c in pending
    ]
    if interactions:
        session.execute(insert_for(session, Interaction).on_conflict_do_nothing(), interactions)
    session.execute(
        update(Message.__table__)  # type: ignore[arg-type]
        .where(Message.__table__.c.id == bindparam("mid"))
        .values(derived=True, filter_reason=bindparam("reason")),
        outcomes,
    )
    return len(rows)


def _event_contacts(
    event: Event, attendees: list[EventAttendee], owner: set[str], rules: DerivationRules
) -> tuple[FilterReason | None, dict[str, str | None]]:
    if not owner:
        return FilterReason.OWNER_UNKNOWN, {}
    if event.cancelled:
        return FilterReason.CANCELLED, {}
    if any(a.address in owner and a.response == "declined" for a in attendees):
        return FilterReason.DECLINED, {}
    if event.all_day:
        return FilterReason.ALL_DAY, {}
    others: dict[str, str | None] = {
        a.address: a.name for a in attendees if not a.is_resource and a.address not in owner
    }
    if event.organizer and event.organizer not in owner:
        others.setdefault(event.organizer, event.organizer_name)
    if not others:
        return FilterReason.NO_GUESTS, {}
    if len(others) > rules.large_meeting_attendees:
        return FilterReason.LARGE_MEETING, {}
    return None, others


def _derive_event_chunk(
    session: Session, user_id: int, owner: set[str], rules: DerivationRules
) -> int:
    events = list(
        session.scalars(
            select(Event)
            .where(Event.user_id == user_id, Event.derived.is_(False))
            .order_by(Event.id)
            .limit(CHUNK)
        )
    )
    if not events:
        return 0
    attendees: dict[int, list[EventAttendee]] = defaultdict(list)
    for a in session.scalars(
        select(EventAttendee).where(EventAttendee.event_id.in_([e.id for e in events]))
    ):
        attendees[a.event_id].append(a)
    # An event is re-derived after it moved or changed: its old interactions go first.
    session.execute(
        delete(Interaction).where(
            Interaction.user_id == user_id,
            Interaction.source_key.in_([f"e:{e.id}" for e in events]),
        )
    )
    decided = [(e, *_event_contacts(e, attendees[e.id], owner, rules)) for e in events]
    names: dict[str, str | None] = {}
    for _, _, others in decided:
        for address, name in others.items():
            if names.get(address) is None:
                names[address] = name
    people = resolve_people(session, user_id, names)
    rows = [
        {
            "user_id": user_id,
            "person_id": people[address],
            "kind": "met",
            "at": e.start,
            "source_key": f"e:{e.id}",
            "subject": e.summary,
            "group_size": len(others),
        }
        for e, _, others in decided
        for address in others
    ]
    if rows:
        session.execute(insert_for(session, Interaction).on_conflict_do_nothing(), rows)
    for e, reason, _ in decided:
        e.derived = True
        e.filter_reason = reason.value if reason else None
    session.flush()
    return len(events)


def derive_pending(
    session_factory: sessionmaker[Session], user_id: int, rules: DerivationRules
) -> int:
    """Derive interactions from every message and event not derived yet; return how many.

    Works in chunks, each its own transaction, so a crash loses at most one chunk of work and
    a re-run picks up where it stopped. Running it twice derives nothing the second time.
    """
    done = 0
    for derive_chunk in (_derive_message_chunk, _derive_event_chunk):
        while True:
            with session_factory() as session, session.begin():
                _lock_user(session, user_id)
                owner = owner_addresses(session, user_id)
                n = derive_chunk(session, user_id, owner, rules)
            done += n
            if n < CHUNK:
                break
    # New addresses may be someone already known: settle who is who once everything is in.
    with session_factory() as session, session.begin():
        _lock_user(session, user_id)
        resolve_identities(session, user_id)
    return done


def reset_derivation(session: Session, user_id: int) -> None:
    """Forget every derived interaction, so all of the user's data is derived again.

    Needed when who the owner is changes: the direction of every message depends on it.
    """
    # Only what derivation made: "talked elsewhere" (l:) comes from the user and stays.
    session.execute(
        delete(Interaction).where(
            Interaction.user_id == user_id,
            Interaction.source_key.like("m:%") | Interaction.source_key.like("e:%"),
        )
    )
    for model in (Message, Event):
        session.execute(
            update(model)
            .where(model.user_id == user_id)
            .values(derived=False, filter_reason=None)
            .execution_options(synchronize_session=False)
        )
