"""Deleting a user: revoke every grant at its provider, then purge everything they own."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select

from keepwarm.services.accounts import connected
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.models import Account, Interaction, Message, Person, User
from keepwarm.services.runtime import Runtime

__all__ = ["DeletedUser", "delete_user"]


@dataclass(frozen=True, slots=True)
class DeletedUser:
    """What went."""

    accounts: int
    people: int
    messages: int
    interactions: int


def delete_user(runtime: Runtime, user_id: int) -> DeletedUser:
    """Revoke the user's grants, then delete the user and (by cascade) all their rows.

    Every account stops syncing first. A provider that cannot be reached raises
    ProviderUnavailable with nothing deleted: the tokens it still needs to revoke are kept, and
    asking again finishes the job (grants revoked already stay revoked).
    """
    cipher = runtime.cipher()
    with unit_of_work(runtime.session_factory) as uow:
        owed: list[tuple[int, str, str | None, dict[str, object]]] = []
        for account in uow.session.scalars(select(Account).where(Account.user_id == user_id)):
            tokens = connected.stop_syncing(uow.session, account, cipher)
            if tokens is not None:
                owed.append((account.id, account.provider, account.api_base, tokens))
    for account_id, provider, api_base, tokens in owed:
        runtime.providers.get(provider).auth(api_base).revoke(tokens)
        with unit_of_work(runtime.session_factory) as uow:
            connected.forget_tokens(uow.session, account_id)
    with unit_of_work(runtime.session_factory) as uow:
        session = uow.session

        def count(model: type[Account] | type[Person] | type[Message] | type[Interaction]) -> int:
            query = select(func.count()).select_from(model).where(model.user_id == user_id)
            return int(session.scalar(query) or 0)

        summary = DeletedUser(count(Account), count(Person), count(Message), count(Interaction))
        # The user's row goes last; the database's ON DELETE CASCADE takes everything below it.
        session.execute(delete(User).where(User.id == user_id))
    return summary
