"""Addresses and domains the user never wants suggested (their settings), as people."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwarm.services.models import Exclusion, PersonAddress

__all__ = ["excluded_people"]


def excluded_people(session: Session, user_id: int) -> set[int]:
    """The people the user's excluded addresses and domains cover (any of their addresses)."""
    patterns = list(session.scalars(select(Exclusion.pattern).where(Exclusion.user_id == user_id)))
    if not patterns:
        return set()
    addresses = [p for p in patterns if not p.startswith("@")]
    domains = [p for p in patterns if p.startswith("@")]
    found: set[int] = set()
    if addresses:
        found.update(
            session.scalars(
                select(PersonAddress.person_id).where(
                    PersonAddress.user_id == user_id, PersonAddress.address.in_(addresses)
                )
            )
        )
    for domain in domains:
        found.update(
            session.scalars(
                select(PersonAddress.person_id).where(
                    PersonAddress.user_id == user_id, PersonAddress.address.like(f"%{domain}")
                )
            )
        )
    return found
