"""Merging two people into one, and splitting an address off into a person of its own."""

from __future__ import annotations

from sqlalchemy import and_, delete, select, update
from sqlalchemy.orm import Session, aliased

from keepwarm.services.models import (
    ContactStatsRow,
    Interaction,
    LifecycleEvent,
    Person,
    PersonAddress,
    QueueState,
)

__all__ = ["merge_people", "split_address"]


def merge_people(session: Session, user_id: int, keep_id: int, other_id: int) -> None:
    """Fold person `other_id` into `keep_id`: addresses, interactions and answers move over.

    An interaction both had from the same message (mail to two of one person's addresses)
    is kept once.
    """
    if keep_id == other_id:
        return
    _forget_queue_stats(session, user_id)
    mine = aliased(Interaction)
    session.execute(
        delete(Interaction).where(
            Interaction.user_id == user_id,
            Interaction.person_id == other_id,
            select(mine.id)
            .where(
                and_(
                    mine.person_id == keep_id,
                    mine.kind == Interaction.kind,
                    mine.source_key == Interaction.source_key,
                )
            )
            .exists(),
        )
    )
    for model in (Interaction, PersonAddress, LifecycleEvent):
        session.execute(
            update(model)
            .where(model.user_id == user_id, model.person_id == other_id)
            .values(person_id=keep_id)
            .execution_options(synchronize_session=False)
        )
    keep = session.get(Person, keep_id)
    other = session.get(Person, other_id)
    if keep is not None and other is not None:
        if keep.display_name is None:
            keep.display_name = other.display_name
        session.delete(other)
    session.flush()


def _forget_queue_stats(session: Session, user_id: int) -> None:
    # The queue's statistics are per person (services/reconnect/store.py) and no new
    # interaction tells them people changed: the next read or derivation builds them again.
    session.execute(delete(ContactStatsRow).where(ContactStatsRow.user_id == user_id))
    session.execute(delete(QueueState).where(QueueState.user_id == user_id))


def split_address(session: Session, user_id: int, address: str) -> int | None:
    """Give `address` a person of its own; returns the new person's id (None if alone already).

    Its interactions stay with the old person until derivation runs again, which the caller
    asks for: an interaction does not record which of a person's addresses it came from.
    """
    row = session.scalar(
        select(PersonAddress).where(
            PersonAddress.user_id == user_id, PersonAddress.address == address
        )
    )
    if row is None:
        return None
    others = session.scalars(
        select(PersonAddress.id).where(
            PersonAddress.person_id == row.person_id, PersonAddress.id != row.id
        )
    ).all()
    if not others:
        return None
    _forget_queue_stats(session, user_id)
    person = Person(user_id=user_id, display_name=None)
    session.add(person)
    session.flush()
    row.person_id = person.id
    session.flush()
    return person.id
