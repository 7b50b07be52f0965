"""Connecting, listing and disconnecting provider accounts."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, delete, exists, func, select
from sqlalchemy.orm import Session

from keepwarm.services.core.crypto import TokenCipher, TokenKeyError
from keepwarm.services.core.db import Base
from keepwarm.services.core.errors import InvalidInput, NotFound
from keepwarm.services.identity.addresses import normalize_address
from keepwarm.services.models import (
    Account,
    AccountStatus,
    ContactStatsRow,
    Event,
    EventAttendee,
    Interaction,
    Message,
    MessageRecipient,
    Person,
    PersonAddress,
    QueueState,
    RecordKind,
    RecordSource,
    StreamKind,
    SyncCursor,
    SyncRun,
    User,
    source_key,
)

__all__ = [
    "TOKEN_KEY_MISMATCH",
    "PurgeSummary",
    "account_overview",
    "find_account",
    "forget_tokens",
    "purge_account",
    "save_account",
    "sealed_shut",
    "stop_syncing",
]

T = TypeVar("T")


def save_account(
    session: Session,
    user_id: int,
    *,
    provider: str,
    email: str,
    tokens: dict[str, Any],
    scopes: tuple[str, ...],
    cipher: TokenCipher,
    since: datetime,
    api_base: str | None,
    now: datetime,
) -> Account:
    """Store a new grant, encrypted; a reconnect of a known account replaces its tokens.

    Reconnecting keeps the account's cursors and data: sync continues where it stopped.
    """
    account = session.scalar(
        select(Account).where(
            Account.user_id == user_id, Account.provider == provider, Account.email == email
        )
    )
    sealed = cipher.seal(tokens)
    if account is None:
        account = Account(
            user_id=user_id,
            provider=provider,
            email=email,
            scopes=" ".join(scopes),
            token_ciphertext=sealed,
            api_base=api_base,
            since=since,
            created_at=now,
        )
        session.add(account)
    else:
        account.token_ciphertext = sealed
        account.scopes = " ".join(scopes)
        account.status, account.status_reason = AccountStatus.ACTIVE, None
        account.api_base = api_base
        if since < account.since:  # reaching further back needs every stream read afresh
            account.since = since
            session.execute(delete(SyncCursor).where(SyncCursor.account_id == account.id))
    session.flush()
    return account


# The status `account_overview` reports for an active account whose stored tokens this
# process's key cannot open: nothing is wrong with the grant, the operator's key is.
TOKEN_KEY_MISMATCH = "token_key_mismatch"


def _opens(cipher: TokenCipher, account: Account) -> bool:
    if not account.token_ciphertext:
        return True  # nothing stored to open (tokens wiped by a disconnect)
    try:
        cipher.open(account.token_ciphertext)
    except TokenKeyError:
        return False
    return True


def sealed_shut(accounts: Iterable[Account], cipher: TokenCipher) -> list[Account]:
    """The accounts whose stored tokens `cipher` cannot open (a wrong or replaced key)."""
    return [account for account in accounts if not _opens(cipher, account)]


def account_overview(
    session: Session, user_id: int, cipher: TokenCipher | None = None, key_name: str = ""
) -> list[dict[str, Any]]:
    """Each account with its status, last runs, and counts of what it brought.

    With `cipher`, an active account whose tokens it cannot open is reported as
    TOKEN_KEY_MISMATCH, naming `key_name` (the setting or file the key came from): it cannot
    sync until the right key is back, whatever its stored status says.
    """
    out: list[dict[str, Any]] = []
    for account in session.scalars(
        select(Account).where(Account.user_id == user_id).order_by(Account.id)
    ):
        status: str = account.status
        reason = account.status_reason
        if (
            cipher is not None
            and account.status == AccountStatus.ACTIVE
            and not _opens(cipher, account)
        ):
            status = TOKEN_KEY_MISMATCH
            reason = f"cannot decrypt tokens: wrong {key_name or 'KEEPWARM_TOKEN_KEY'}"
        last = session.scalar(
            select(SyncRun)
            .where(SyncRun.account_id == account.id)
            .order_by(SyncRun.id.desc())
            .limit(1)
        )
        reasons = Counter(
            {
                str(reason): int(n)
                for reason, n in session.execute(
                    select(Message.filter_reason, func.count())
                    .where(Message.account_id == account.id, Message.filter_reason.is_not(None))
                    .group_by(Message.filter_reason)
                )
            }
        )
        messages = session.scalar(
            select(func.count()).select_from(Message).where(Message.account_id == account.id)
        )
        out.append(
            {
                "provider": account.provider,
                "email": account.email,
                "status": status,
                "status_reason": reason,
                "since": account.since.date().isoformat(),
                "phase": _phase(session, account.id),
                "last_sync_at": account.last_sync_at.isoformat() if account.last_sync_at else None,
                "last_success_at": (
                    account.last_success_at.isoformat() if account.last_success_at else None
                ),
                "messages": int(messages or 0),
                "filtered": dict(reasons.most_common()),
                "last_run": None
                if last is None
                else {
                    "status": last.status,
                    "seen": last.seen,
                    "imported": last.imported,
                    "events_seen": last.events_seen,
                    "events_imported": last.events_imported,
                    "failed": last.failed,
                    "filtered": json.loads(last.filtered or "{}"),
                    "skipped": json.loads(last.skipped or "{}"),
                    "error": last.error,
                },
            }
        )
    return out


def _phase(session: Session, account_id: int) -> str:
    """ "incremental" once every mail stream has been read in full, else "backfill"."""
    mail = session.scalars(
        select(SyncCursor.caught_up).where(
            SyncCursor.account_id == account_id, SyncCursor.kind == StreamKind.MAIL
        )
    ).all()
    return "incremental" if mail and all(mail) else "backfill"


def find_account(session: Session, user_id: int, email: str) -> Account:
    """The user's connected account with this address; raises InvalidInput, NotFound."""
    address = normalize_address(email)
    if address is None:
        raise InvalidInput(f"not an email address: {email!r}")
    account = session.scalar(
        select(Account)
        .where(Account.user_id == user_id, Account.email == address)
        .order_by(Account.id)
        .limit(1)
    )
    if account is None:
        raise NotFound(f"no connected account {email!r} (`keepwarm accounts` lists them)")
    return account


def stop_syncing(session: Session, account: Account, cipher: TokenCipher) -> dict[str, Any] | None:
    """Mark `account` disconnected and return the tokens to revoke at the provider.

    From the commit on no sync starts for it, and a running one stops at its next page. The
    tokens stay stored until the provider has revoked them (`forget_tokens`), so a revocation
    that fails for want of a network can be tried again; None when they are gone already.
    Raises TokenKeyError when the stored tokens cannot be opened.
    """
    tokens = cipher.open(account.token_ciphertext) if account.token_ciphertext else None
    account.status = AccountStatus.DISCONNECTED
    account.status_reason = "disconnected by the user"
    session.flush()
    return tokens


def forget_tokens(session: Session, account_id: int) -> None:
    """Wipe the account's stored tokens (once the provider has revoked them)."""
    account = session.get(Account, account_id)
    if account is not None:
        account.token_ciphertext = ""
        session.flush()


@dataclass(frozen=True, slots=True)
class PurgeSummary:
    """What deleting an account removed."""

    messages: int = 0
    events: int = 0
    interactions: int = 0
    people: int = 0
    addresses: int = 0


def _chunks(items: Iterable[T], size: int = 500) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _only_from(session: Session, account_id: int, kind: RecordKind) -> list[int]:
    """The records of `kind` the account brought that no other source also brought."""
    mine = select(RecordSource.record_id).where(
        RecordSource.kind == kind, RecordSource.source == source_key(account_id)
    )
    elsewhere = (
        select(RecordSource.record_id)
        .where(
            RecordSource.kind == kind,
            RecordSource.record_id.in_(mine),
            RecordSource.source != source_key(account_id),
        )
        .distinct()
    )
    shared = set(session.scalars(elsewhere))
    return sorted(set(session.scalars(mine)) - shared)


def _addresses(session: Session, messages: list[int], events: list[int]) -> set[str]:
    """Every address on these messages and events."""
    found: set[str] = set()
    for chunk in _chunks(messages):
        for query in (
            select(Message.sender).where(Message.id.in_(chunk)),
            select(MessageRecipient.address).where(MessageRecipient.message_id.in_(chunk)),
        ):
            found.update(a for a in session.scalars(query.distinct()) if a)
    for chunk in _chunks(events):
        for query in (
            select(Event.organizer).where(Event.id.in_(chunk)),
            select(EventAttendee.address).where(EventAttendee.event_id.in_(chunk)),
        ):
            found.update(a for a in session.scalars(query.distinct()) if a)
    return found


def _still_carried(session: Session, user_id: int, addresses: set[str]) -> set[str]:
    """Those of `addresses` that some stored message or event of the user still carries."""
    found: set[str] = set()
    for chunk in _chunks(sorted(addresses)):
        for query in (
            select(Message.sender).where(Message.user_id == user_id, Message.sender.in_(chunk)),
            select(MessageRecipient.address)
            .join(Message)
            .where(Message.user_id == user_id, MessageRecipient.address.in_(chunk)),
            select(Event.organizer).where(Event.user_id == user_id, Event.organizer.in_(chunk)),
            select(EventAttendee.address)
            .join(Event)
            .where(Event.user_id == user_id, EventAttendee.address.in_(chunk)),
        ):
            found.update(session.scalars(query.distinct()))
    return found


def _referenced() -> list[ColumnElement[bool]]:
    # Anything else pointing at a person keeps them: interactions from other sources, and the
    # user's own answers, notes and follow-ups (the user's words are not the account's data).
    return [
        exists().where(fk.parent == Person.id)
        for table in Base.metadata.sorted_tables
        if table.name != PersonAddress.__tablename__
        for fk in table.foreign_keys
        if fk.column.table.name == Person.__tablename__
    ]


def purge_account(session: Session, account_id: int) -> PurgeSummary:
    """Delete the account and everything only it brought; what other sources brought stays.

    A message or event another account or an import also brought is kept (its sources say
    so); the rest goes, with the interactions derived from it, the people only it knew and
    the addresses only its records carried, so contacts and the queue are what they would be
    had it never been connected (but for merges already made and display names already learnt
    from its mail). Its ledger and cursors go by the database's cascade.
    """
    account = session.get(Account, account_id)
    if account is None:
        return PurgeSummary()
    user_id = account.user_id
    # The user's derivation lock: a derivation running now finishes first, and none can
    # derive this account's rows once they are gone.
    session.execute(select(User.id).where(User.id == user_id).with_for_update())
    # The queue's statistics were built from what goes now: built again on the next read.
    # (Its rows name people, so they go before the people only this account knew are found.)
    session.execute(delete(ContactStatsRow).where(ContactStatsRow.user_id == user_id))
    session.execute(delete(QueueState).where(QueueState.user_id == user_id))
    messages = _only_from(session, account_id, RecordKind.MESSAGE)
    events = _only_from(session, account_id, RecordKind.EVENT)
    brought = _addresses(session, messages, events)
    interactions = 0
    for prefix, model, ids in (("m:", Message, messages), ("e:", Event, events)):
        for chunk in _chunks(ids):
            # Interactions name their message or event in `source_key` ("m:<id>"), not by a
            # foreign key, so no cascade reaches them.
            result = session.execute(
                delete(Interaction)
                .where(
                    Interaction.user_id == user_id,
                    Interaction.source_key.in_([f"{prefix}{i}" for i in chunk]),
                )
                .execution_options(synchronize_session=False)
            )
            interactions += int(getattr(result, "rowcount", 0) or 0)
            session.execute(
                delete(model)
                .where(model.id.in_(chunk))
                .execution_options(synchronize_session=False)
            )
    for kind, ids in ((RecordKind.MESSAGE, messages), (RecordKind.EVENT, events)):
        for chunk in _chunks(ids):
            session.execute(
                delete(RecordSource).where(
                    RecordSource.kind == kind, RecordSource.record_id.in_(chunk)
                )
            )
    # The account's own source rows go by cascade; records it shared keep their other sources.
    session.execute(delete(Account).where(Account.id == account_id))
    known: set[int] = set()
    for batch in _chunks(sorted(brought)):
        known.update(
            session.scalars(
                select(PersonAddress.person_id).where(
                    PersonAddress.user_id == user_id, PersonAddress.address.in_(batch)
                )
            )
        )
    orphans: list[int] = []
    for ids in _chunks(sorted(known)):
        orphans.extend(
            session.scalars(
                select(Person.id).where(Person.id.in_(ids), *(~r for r in _referenced()))
            )
        )
    for ids in _chunks(orphans):
        session.execute(delete(Person).where(Person.id.in_(ids)))
    unused = brought - _still_carried(session, user_id, brought)
    addresses = _prune_addresses(session, user_id, unused)
    session.flush()
    return PurgeSummary(len(messages), len(events), interactions, len(orphans), addresses)


def _prune_addresses(session: Session, user_id: int, unused: set[str]) -> int:
    """Drop `unused` addresses from the people who keep another one; return how many."""
    held: dict[int, list[str]] = defaultdict(list)
    people: set[int] = set()
    for chunk in _chunks(sorted(unused)):
        people.update(
            session.scalars(
                select(PersonAddress.person_id).where(
                    PersonAddress.user_id == user_id, PersonAddress.address.in_(chunk)
                )
            )
        )
    for ids in _chunks(sorted(people)):
        for person_id, address in session.execute(
            select(PersonAddress.person_id, PersonAddress.address).where(
                PersonAddress.person_id.in_(ids)
            )
        ):
            held[person_id].append(address)
    drop = [
        address
        for addresses in held.values()
        if any(a not in unused for a in addresses)  # never a person's last address
        for address in addresses
        if address in unused
    ]
    for chunk in _chunks(drop):
        session.execute(
            delete(PersonAddress).where(
                PersonAddress.user_id == user_id, PersonAddress.address.in_(chunk)
            )
        )
    return len(drop)
