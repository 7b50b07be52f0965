"""Resolving addresses to the people they belong to."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwarm.services.core.upsert import insert_for
from keepwarm.services.mail.noise import munged_author
from keepwarm.services.models import Person, PersonAddress

__all__ = ["resolve_people"]


def resolve_people(
    session: Session, user_id: int, names: Mapping[str, str | None]
) -> dict[str, int]:
    """Map each address in `names` to its person's id, creating people for new addresses.

    `names` gives the display name seen beside each address; it names a new person, and fills
    in a known person's name when we had none. The caller holds the user's derivation lock.
    """
    if not names:
        return {}
    # Calendar clients often put the address itself in CN; that is no name.
    names = {
        a: (n if n and "@" not in n and not munged_author(n) else None) for a, n in names.items()
    }
    found: dict[str, int] = {}
    for chunk_start in range(0, len(names), 500):
        chunk = list(names)[chunk_start : chunk_start + 500]
        rows = session.execute(
            select(PersonAddress.address, PersonAddress.person_id).where(
                PersonAddress.user_id == user_id, PersonAddress.address.in_(chunk)
            )
        )
        found.update({address: person_id for address, person_id in rows})
    missing = [a for a in names if a not in found]
    if missing:
        people = [Person(user_id=user_id, display_name=names[a]) for a in missing]
        session.add_all(people)
        session.flush()
        session.execute(
            insert_for(session, PersonAddress).on_conflict_do_nothing(),
            [
                {"user_id": user_id, "address": a, "person_id": p.id}
                for a, p in zip(missing, people, strict=True)
            ],
        )
        found.update({a: p.id for a, p in zip(missing, people, strict=True)})
    unnamed = {found[a]: n for a, n in names.items() if n}
    if unnamed:
        for person in session.scalars(
            select(Person).where(Person.id.in_(unnamed), Person.display_name.is_(None))
        ):
            person.display_name = unnamed[person.id]
    return found
