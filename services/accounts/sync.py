"""Syncing a connected account through the provider-neutral seam (connectors.base).

Each of the account's streams (mail first, then calendars) is read page by page. Every provider
call happens outside a transaction; each page is then written in one short transaction together
with the cursor that follows it, so a crash at any point loses at most one page of work and a
re-run redoes it without doubling anything (upserts on natural keys). A cursor the provider has
forgotten means that stream is read again in full, never skipped.

Every run writes a ledger: what it saw, stored, filtered by rule and failed to read, and what it
skipped with the reason. A run that skipped anything is "partial", never "ok".
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from keepwarm.connectors.base import AccountSources, CalendarSource, MailSource, Page
from keepwarm.connectors.errors import (
    AuthExpired,
    CursorExpired,
    ProviderUnavailable,
    RateLimited,
)
from keepwarm.connectors.types import CalendarEvent, MailMessage, Unreadable
from keepwarm.services.accounts.users import owner_addresses
from keepwarm.services.core.clock import Clock, system_clock
from keepwarm.services.core.crypto import TokenCipher
from keepwarm.services.core.jobs import JobSink, unit_of_work
from keepwarm.services.identity.addresses import normalize_address
from keepwarm.services.mail.importing import DERIVE_ACTOR
from keepwarm.services.mail.ingest import store_dead_letters, store_events, store_messages
from keepwarm.services.mail.ownership import settle_owner
from keepwarm.services.models import (
    Account,
    AccountStatus,
    Message,
    RunStatus,
    StreamKind,
    SyncCursor,
    SyncRun,
    User,
)

__all__ = [
    "CURSOR_EXPIRED",
    "FROM_OWNER_NOT_SENT",
    "SYNC_ACTOR",
    "OpenSources",
    "SyncStopped",
    "SyncSummary",
    "sync_account",
]

# The actor that runs `sync_account` (declared in workers.actors); services enqueue it by name.
SYNC_ACTOR = "sync.account"

R = TypeVar("R", MailMessage, CalendarEvent)
OpenSources = Callable[[Account, dict[str, Any]], AccountSources]
# In the ledger's skipped/filtered reasons: a stream read again because its cursor expired.
CURSOR_EXPIRED = "read again in full: the provider forgot the cursor"
# In the ledger's filtered reasons: incoming mail whose From is the owner's own address but
# which the provider did not file as sent (Gmail's SENT label, Outlook's Sent Items). Anyone can
# write the owner's address into From (Spam is full of it); counting such mail as the owner's
# would let a stranger make themselves a relationship or reset a real contact's silence clock.
FROM_OWNER_NOT_SENT = "from_owner_not_sent"
# A stream whose fresh read expires too is given up for this run (a provider bug, not ours).
_MAX_RESTARTS = 2


@dataclass
class SyncSummary:
    """What one run did."""

    run_id: int = 0
    seen: int = 0
    imported: int = 0
    events_seen: int = 0
    events_imported: int = 0
    failed: int = 0
    status: RunStatus = RunStatus.OK
    error: str | None = None
    filtered: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    restarted: list[str] = field(default_factory=list)

    def account_for(self, page: Page[Any]) -> None:
        self.filtered.update(page.filtered)
        self.skipped.update(page.skipped)


class SyncStopped(Exception):
    """The account was disconnected or deleted while its sync ran: store nothing more."""


def _current(session: Session, account_id: int) -> Account:
    """The account, still connected; raises SyncStopped when it is no longer.

    Checked by every unit of work, so a disconnect (or a purge) takes effect at the next page
    even while a long backfill runs, and nothing is written for an account that is gone.
    """
    account = session.get(Account, account_id)
    if account is None or account.status != AccountStatus.ACTIVE:
        raise SyncStopped(f"account {account_id} is no longer connected")
    return account


def _cursor_row(session: Session, account_id: int, kind: StreamKind, stream: str) -> SyncCursor:
    row = session.get(SyncCursor, (account_id, kind.value, stream))
    if row is None:
        row = SyncCursor(account_id=account_id, kind=kind.value, stream=stream, caught_up=False)
        session.add(row)
    return row


@dataclass
class _Stream:
    """One stream being read in this run."""

    factory: sessionmaker[Session]
    account_id: int
    user_id: int
    kind: StreamKind
    name: str
    clock: Clock
    summary: SyncSummary

    def cursor(self) -> str | None:
        with self.factory() as session:
            row = session.get(SyncCursor, (self.account_id, self.kind.value, self.name))
            return row.cursor if row is not None else None

    def save(self, session: Session, page: Page[Any] | None) -> None:
        """Move the cursor (None: start over) in the caller's transaction."""
        row = _cursor_row(session, self.account_id, self.kind, self.name)
        row.cursor = page.cursor if page is not None else None
        row.caught_up = page.caught_up if page is not None else False
        row.updated_at = self.clock()

    def restart(self) -> None:
        with unit_of_work(self.factory) as uow:
            _current(uow.session, self.account_id)
            self.save(uow.session, None)
        self.summary.restarted.append(f"{self.kind.value}:{self.name}")
        self.summary.filtered[CURSOR_EXPIRED] += 1


def _known_ids(factory: sessionmaker[Session], user_id: int) -> Callable[[Sequence[str]], set[str]]:
    def known(ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        with factory() as session:
            return set(
                session.scalars(
                    select(Message.provider_id).where(
                        Message.user_id == user_id, Message.provider_id.in_(list(ids))
                    )
                )
            )

    return known


def _pages(
    stream: _Stream,
    read: Callable[[str | None], Page[R]],
    on_restart: Callable[[], None] = lambda: None,
) -> Iterator[Page[R]]:
    """The stream's pages from its stored cursor; a forgotten cursor starts it over (at most
    _MAX_RESTARTS times a run). The caller stores each page before asking for the next."""
    cursor, restarts = stream.cursor(), 0
    while True:
        try:
            page = read(cursor)
        except CursorExpired:
            if restarts >= _MAX_RESTARTS:
                raise
            restarts += 1
            stream.restart()
            on_restart()
            cursor = None
            continue
        yield page
        if not page.more:
            return
        cursor = page.cursor


def _spoofing_owner(message: MailMessage, owner: set[str]) -> bool:
    return (
        message.sender is not None and message.sender.email in owner and not message.in_sent_folder
    )


def _read_mail(stream: _Stream, source: MailSource, since: datetime) -> None:
    known = _known_ids(stream.factory, stream.user_id)
    summary = stream.summary
    for page in _pages(stream, lambda c: source.read(stream.name, c, since=since, known=known)):
        bad = [r for r in page.records if isinstance(r, Unreadable)]
        with unit_of_work(stream.factory) as uow:
            account = _current(uow.session, stream.account_id)
            owner = owner_addresses(uow.session, account.user_id)
            owner.add(normalize_address(account.email) or account.email)
            incoming = [r for r in page.records if isinstance(r, MailMessage)]
            messages = [m for m in incoming if not _spoofing_owner(m, owner)]
            spoofed = len(incoming) - len(messages)
            counts = store_messages(uow.session, account.user_id, None, messages, account.id)
            store_dead_letters(uow.session, account.user_id, None, bad, stream.clock())
            stream.save(uow.session, page)  # in the same transaction as the rows it covers
        summary.seen += counts.seen + len(bad) + sum(page.filtered.values())
        summary.seen += sum(page.skipped.values()) + spoofed
        if spoofed:
            summary.filtered[FROM_OWNER_NOT_SENT] += spoofed
        summary.imported += counts.imported
        summary.failed += len(bad)
        summary.account_for(page)


def _read_calendar(stream: _Stream, source: CalendarSource, since: datetime) -> None:
    seen: set[str] = set()  # within one read, the first copy of an occurrence wins
    summary = stream.summary
    pages = _pages(stream, lambda c: source.read(stream.name, c, since=since), seen.clear)
    for page in pages:
        events = [r for r in page.records if isinstance(r, CalendarEvent)]
        bad = [r for r in page.records if isinstance(r, Unreadable)]
        with unit_of_work(stream.factory) as uow:
            account = _current(uow.session, stream.account_id)
            counts = store_events(uow.session, account.user_id, None, events, seen, account.id)
            store_dead_letters(uow.session, account.user_id, None, bad, stream.clock())
            stream.save(uow.session, page)
        summary.events_seen += counts.seen
        summary.events_imported += counts.imported
        summary.failed += len(bad)
        summary.account_for(page)


def _read_all(
    factory: sessionmaker[Session],
    account_id: int,
    sources: AccountSources,
    summary: SyncSummary,
    clock: Clock,
) -> None:
    with factory() as session:
        account = _current(session, account_id)
        since, user_id = account.since, account.user_id

    def stream(kind: StreamKind, name: str) -> _Stream:
        return _Stream(factory, account_id, user_id, kind, name, clock, summary)

    # Mail first: it defines relationships, so the queue is useful before calendars are in.
    for name in sources.mail.streams():
        _read_mail(stream(StreamKind.MAIL, name), sources.mail, since)
    for name in sources.calendar.streams():
        _read_calendar(stream(StreamKind.CALENDAR, name), sources.calendar, since)


def sync_account(
    factory: sessionmaker[Session],
    account_id: int,
    open_sources: OpenSources,
    cipher: TokenCipher,
    sink: JobSink,
    clock: Clock = system_clock,
) -> SyncSummary:
    """Bring one account up to date; the run's ledger is written whatever happens.

    A revoked or expired grant marks the account "reconnect needed" and raises AuthExpired
    (never retried). Rate limits and transient failures are raised for the worker to retry;
    what was stored before them stays, with its cursor. An account disconnected or deleted
    while it syncs stops at the next page ("stopped"), and nothing more is written for it.
    """
    summary = SyncSummary()
    with unit_of_work(factory) as uow:
        account = uow.session.get(Account, account_id)
        if account is None or account.status != AccountStatus.ACTIVE:
            summary.status = RunStatus.SKIPPED
            return summary
        tokens = cipher.open(account.token_ciphertext)
        run = SyncRun(account_id=account_id, started_at=clock(), status=RunStatus.RUNNING)
        uow.session.add(run)
        uow.session.flush()
        summary.run_id = run.id
        sources = open_sources(account, tokens)
    try:
        _read_all(factory, account_id, sources, summary, clock)
        if summary.skipped:
            summary.status = RunStatus.PARTIAL
    except SyncStopped:
        summary.status = RunStatus.STOPPED
    except AuthExpired as exc:
        summary.status, summary.error = RunStatus.AUTH_EXPIRED, str(exc)
        raise
    except RateLimited as exc:
        summary.status, summary.error = RunStatus.RATE_LIMITED, str(exc)
        raise
    except ProviderUnavailable as exc:
        summary.status, summary.error = RunStatus.UNAVAILABLE, str(exc)
        raise
    except BaseException as exc:
        # Recorded, then raised: a run cut short by anything (a provider error, a lost lease,
        # the worker's time limit) is never written down as a success.
        summary.status, summary.error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
        raise
    finally:
        sources.close()
        _finish(factory, account_id, summary, sources, cipher, tokens, clock, sink)
    return summary


def _finish(
    factory: sessionmaker[Session],
    account_id: int,
    summary: SyncSummary,
    sources: AccountSources,
    cipher: TokenCipher,
    tokens: dict[str, Any],
    clock: Clock,
    sink: JobSink,
) -> None:
    with unit_of_work(factory, sink) as uow:
        # The user's row is the lock a purge takes before it deletes the account: taken first
        # (the same order, so no deadlock), a purge either waits for this record or has already
        # gone and the account reads as None. Unlocked, a purge committing between the read and
        # the update left the update nothing to change (StaleDataError on PostgreSQL).
        user_id = uow.session.scalar(select(Account.user_id).where(Account.id == account_id))
        if user_id is None:
            return
        uow.session.execute(select(User.id).where(User.id == user_id).with_for_update())
        account = uow.session.get(Account, account_id)
        run = uow.session.get(SyncRun, summary.run_id)
        if account is None or run is None:
            return  # deleted meanwhile, with its ledger: nothing left to record
        moment = clock()
        account.last_sync_at = moment
        # Disconnected meanwhile: its status and its wiped tokens are the user's decision
        if account.status == AccountStatus.ACTIVE:
            refreshed = sources.current_tokens()
            if refreshed != tokens:
                account.token_ciphertext = cipher.seal(refreshed)
            if summary.status is RunStatus.OK:
                account.last_success_at = moment
            if summary.status is RunStatus.AUTH_EXPIRED:
                account.status = AccountStatus.RECONNECT_NEEDED
                account.status_reason = summary.error
        run.finished_at = moment
        run.status = summary.status
        run.seen, run.imported, run.failed = summary.seen, summary.imported, summary.failed
        run.events_seen, run.events_imported = summary.events_seen, summary.events_imported
        run.filtered = _ledger(summary.filtered)
        run.skipped = _ledger(summary.skipped)
        run.error = summary.error
        _, owner_changed = settle_owner(uow.session, account.user_id, known=[account.email])
        if summary.imported or summary.events_imported or owner_changed:
            uow.jobs.enqueue(DERIVE_ACTOR, user_id=account.user_id)


def _ledger(counts: Counter[str]) -> str | None:
    return json.dumps(dict(sorted(counts.items()))) if counts else None
