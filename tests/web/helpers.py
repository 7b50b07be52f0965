"""Building the little world the link pages act on: users, contacts, and what is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from keepwarm.services.models import (
    FollowUp,
    Interaction,
    LifecycleEvent,
    Note,
    Person,
    PersonAddress,
    UsedLink,
    User,
)


def add_contact(session: Session, user_id: int, name: str, address: str) -> int:
    """A person the user has written to once, as an import would leave them; their id."""
    person = Person(user_id=user_id, display_name=name)
    session.add(person)
    session.flush()
    session.add(PersonAddress(user_id=user_id, address=address, person_id=person.id))
    session.add(
        Interaction(
            user_id=user_id,
            person_id=person.id,
            kind="sent",
            at=datetime(2026, 5, 4, 10, tzinfo=UTC),
            source_key=f"m:{address}",
            subject="Q3 plan",
            group_size=1,
        )
    )
    session.flush()
    return person.id


@dataclass(frozen=True)
class Stored:
    """Everything a link could change, for comparing before and after."""

    lifecycle: tuple[tuple[int, int, str], ...]
    notes: tuple[tuple[int, str], ...]
    follow_ups: int
    interactions: int
    used_links: int
    digests: tuple[tuple[int, bool, bool], ...]


def stored(session_factory: sessionmaker[Session]) -> Stored:
    with session_factory() as session:
        return Stored(
            lifecycle=tuple(
                (e.user_id, e.person_id, e.action)
                for e in session.scalars(select(LifecycleEvent).order_by(LifecycleEvent.id))
            ),
            notes=tuple((n.person_id, n.text) for n in session.scalars(select(Note))),
            follow_ups=session.scalar(select(func.count()).select_from(FollowUp)) or 0,
            interactions=session.scalar(select(func.count()).select_from(Interaction)) or 0,
            used_links=session.scalar(select(func.count()).select_from(UsedLink)) or 0,
            digests=tuple(
                (u.id, u.digests_enabled, u.prompts_enabled)
                for u in session.scalars(select(User).order_by(User.id))
            ),
        )
