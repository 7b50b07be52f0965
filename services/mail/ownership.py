"""Settling who the owner is after new mail arrives, by import or by sync."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from keepwarm.services.accounts.users import owner_addresses, set_owner_addresses
from keepwarm.services.identity.owner import infer_owner_addresses
from keepwarm.services.identity.resolve import owner_aliases
from keepwarm.services.mail.derivation import reset_derivation

__all__ = ["settle_owner"]


def settle_owner(
    session: Session, user_id: int, given: Sequence[str] = (), known: Sequence[str] = ()
) -> tuple[list[str], bool]:
    """Record the owner's addresses; return them and whether the set grew.

    `given` are addresses the user typed (`--me`): they are taken as they are and nothing is
    inferred. Otherwise `known` (a connected account's own address) and what the sent mail
    says (plus addresses carrying exactly the owner's name) are recorded. When the set grows,
    every message is derived again, since its direction depends on who the owner is.
    """
    if given:
        grew = set_owner_addresses(session, user_id, given, "given")
    else:
        grew = set_owner_addresses(session, user_id, known, "account")
        inferred = infer_owner_addresses(session, user_id)
        grew = set_owner_addresses(session, user_id, inferred, "inferred") or grew
        aliases = owner_aliases(session, user_id, owner_addresses(session, user_id))
        grew = set_owner_addresses(session, user_id, aliases, "inferred") or grew
    if grew:
        reset_derivation(session, user_id)
    return sorted(owner_addresses(session, user_id)), grew
