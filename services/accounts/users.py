"""Users and the addresses that are theirs."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwarm.services.identity.addresses import normalize_address
from keepwarm.services.models import OwnerAddress, User

__all__ = ["LOCAL_HANDLE", "ensure_user", "owner_addresses", "set_owner_addresses"]

# The CLI's embedded mode serves one person; the web app (later) creates one user per login.
LOCAL_HANDLE = "local"


def ensure_user(session: Session, handle: str = LOCAL_HANDLE) -> User:
    """Return the user with `handle`, creating it on first use."""
    user = session.scalar(select(User).where(User.handle == handle))
    if user is None:
        user = User(handle=handle)
        session.add(user)
        session.flush()
    return user


def owner_addresses(session: Session, user_id: int) -> set[str]:
    """Every address known to be the user's own."""
    rows = session.scalars(select(OwnerAddress.address).where(OwnerAddress.user_id == user_id))
    return set(rows)


def set_owner_addresses(
    session: Session, user_id: int, addresses: Iterable[str], source: str
) -> bool:
    """Add `addresses` as the user's own; return True when the set of owner addresses grew."""
    known = owner_addresses(session, user_id)
    added = False
    for raw in addresses:
        address = normalize_address(raw)
        if address and address not in known:
            session.add(OwnerAddress(user_id=user_id, address=address, source=source))
            known.add(address)
            added = True
    session.flush()
    return added
