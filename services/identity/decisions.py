"""The user's merge and split decisions about who is who."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from keepwarm.services.core.errors import InvalidInput
from keepwarm.services.core.jobs import JobBuffer
from keepwarm.services.core.upsert import insert_for
from keepwarm.services.identity.merging import merge_people, split_address
from keepwarm.services.mail.derivation import reset_derivation
from keepwarm.services.mail.importing import DERIVE_ACTOR
from keepwarm.services.models import IdentityDecision
from keepwarm.services.reconnect.lifecycle import person_for_address

__all__ = ["merge_addresses", "split_off"]


def _record(
    session: Session, user_id: int, kind: str, address: str, other: str, now: datetime
) -> None:
    session.execute(
        insert_for(session, IdentityDecision).on_conflict_do_nothing(),
        [
            {
                "user_id": user_id,
                "kind": kind,
                "address": address,
                "other": other,
                "at": now,
            }
        ],
    )


def merge_addresses(
    session: Session, user_id: int, address: str, other: str, now: datetime
) -> None:
    """The people at `address` and `other` are one: merge them now and in every later import.

    Raises NotFound for an unknown address and InvalidInput for an address merged with itself.
    """
    keep = person_for_address(session, user_id, address)
    gone = person_for_address(session, user_id, other)
    if keep == gone and address.lower() == other.lower():
        raise InvalidInput(f"merge: give two different addresses, not {address!r} twice")
    _record(session, user_id, "merge", address.lower(), other.lower(), now)
    merge_people(session, user_id, keep, gone)


def split_off(session: Session, user_id: int, address: str, jobs: JobBuffer, now: datetime) -> bool:
    """`address` is a person of their own: never merged automatically again.

    Its interactions are derived again so they follow the address; returns False when the
    address was already alone (the decision is still kept for later imports).
    """
    person_for_address(session, user_id, address)
    _record(session, user_id, "split", address.lower(), "", now)
    if split_address(session, user_id, address.lower()) is None:
        return False
    reset_derivation(session, user_id)
    jobs.enqueue(DERIVE_ACTOR, user_id=user_id)
    return True
