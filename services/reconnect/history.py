"""Loading each contact's interactions as they stood at a date."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwarm.services.models import Interaction, Person, PersonAddress

__all__ = ["ContactHistory", "InteractionPoint", "load_histories"]


@dataclass(frozen=True, slots=True)
class InteractionPoint:
    """One interaction, reduced to what the engine reads."""

    at: datetime
    kind: str
    group_size: int
    subject: str | None
    # The message or event it came from ("m:<id>", "e:<id>"): people on the same one were
    # in it together.
    source: str | None = None


@dataclass(frozen=True, slots=True)
class ContactHistory:
    """A person and their interactions with the owner, oldest first."""

    person_id: int
    name: str | None
    addresses: tuple[str, ...]
    points: tuple[InteractionPoint, ...]


def load_histories(
    session: Session, user_id: int, as_of: datetime, person_ids: list[int] | None = None
) -> list[ContactHistory]:
    """Every person's interactions up to `as_of`; nothing after that date is read."""
    query = (
        select(
            Interaction.person_id,
            Interaction.at,
            Interaction.kind,
            Interaction.group_size,
            Interaction.subject,
            Interaction.source_key,
        )
        .where(Interaction.user_id == user_id, Interaction.at <= as_of)
        .order_by(Interaction.person_id, Interaction.at, Interaction.id)
    )
    if person_ids is not None:
        query = query.where(Interaction.person_id.in_(person_ids))
    points: dict[int, list[InteractionPoint]] = defaultdict(list)
    for person_id, at, kind, group_size, subject, source in session.execute(query):
        points[person_id].append(InteractionPoint(at, kind, group_size, subject, source))
    if not points:
        return []
    addresses: dict[int, list[str]] = defaultdict(list)
    names: dict[int, str | None] = {}
    ids = list(points)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for pid, address in session.execute(
            select(PersonAddress.person_id, PersonAddress.address)
            .where(PersonAddress.person_id.in_(chunk))
            .order_by(PersonAddress.address)
        ):
            addresses[pid].append(address)
        for pid, name in session.execute(
            select(Person.id, Person.display_name).where(Person.id.in_(chunk))
        ):
            names[pid] = name
    return [
        ContactHistory(pid, names.get(pid), tuple(addresses[pid]), tuple(pts))
        for pid, pts in points.items()
    ]
