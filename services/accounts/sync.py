"""Syncing a connected Google account: sent mail first, then the rest, then history; calendars.

Every provider call happens outside a transaction; each page is then written in one short
transaction together with the cursor that covers it, so a crash at any point loses at most one
page of work and a re-run redoes it without doubling anything (upserts on natural keys).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from keepwarm.connectors.errors import AuthExpired, CursorExpired
from keepwarm.connectors.google.calendar import CalendarPage
from keepwarm.connectors.google.gmail import HistoryPage, ListPage
from keepwarm.connectors.types import MailMessage, Unreadable
from keepwarm.services.core.crypto import TokenCipher
from keepwarm.services.core.jobs import JobSink, unit_of_work
from keepwarm.services.mail.importing import DERIVE_ACTOR
from keepwarm.services.mail.ingest import store_dead_letters, store_events, store_messages
from keepwarm.services.mail.ownership import settle_owner
from keepwarm.services.models import Account, AccountStatus, Message, SyncRun

__all__ = [
    "CalendarSource",
    "MailSource",
    "Sources",
    "SyncStopped",
    "SyncSummary",
    "sync_account",
]

# Sent mail defines relationships, so it comes first; deleted mail is still correspondence
# (people delete what they have answered), so Trash is read too, but never Spam.
_PHASES = ("sent", "rest", "trash", "done")
_PHASE_LABEL = {"sent": "SENT", "rest": None, "trash": "TRASH"}


class MailSource(Protocol):
    """What sync needs of a mailbox (keepwarm.connectors.google.GmailReader)."""

    def profile(self) -> tuple[str, str]: ...
    def list_page(self, *, label: str | None, page_token: str | None) -> ListPage: ...
    def history_page(self, start_history_id: str, page_token: str | None) -> HistoryPage: ...
    def get_messages(self, ids: list[str]) -> list[MailMessage | Unreadable]: ...


class CalendarSource(Protocol):
    """What sync needs of calendars (keepwarm.connectors.google.CalendarReader)."""

    def calendars(self) -> list[str]: ...
    def page(
        self,
        calendar_id: str,
        *,
        sync_token: str | None,
        page_token: str | None,
        time_min: datetime,
    ) -> CalendarPage: ...


@dataclass(frozen=True)
class Sources:
    """The readers for one account, and how to read back the tokens after a refresh."""

    mail: MailSource
    calendar: CalendarSource
    current_tokens: Callable[[], dict[str, Any]]
    close: Callable[[], None] = lambda: None


@dataclass
class SyncSummary:
    """What one run did."""

    run_id: int = 0
    seen: int = 0
    imported: int = 0
    events_seen: int = 0
    events_imported: int = 0
    failed: int = 0
    status: str = "ok"
    error: str | None = None
    filtered: dict[str, int] = field(default_factory=dict)


class SyncStopped(Exception):
    """The account was disconnected or deleted while its sync ran: store nothing more."""


def _current(session: Session, account_id: int) -> Account:
    """The account, still connected; raises SyncStopped when it is no longer.

    Checked by every unit of work, so a disconnect (or a purge) takes effect at the next page
    even while a long backfill runs, and nothing is written for an account that is gone.
    """
    account = session.get(Account, account_id)
    if account is None or account.status != AccountStatus.ACTIVE.value:
        raise SyncStopped(f"account {account_id} is no longer connected")
    return account


def _known_ids(session: Session, user_id: int, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    return set(
        session.scalars(
            select(Message.provider_id).where(
                Message.user_id == user_id, Message.provider_id.in_(ids)
            )
        )
    )


def _store_page(
    factory: sessionmaker[Session],
    account_id: int,
    summary: SyncSummary,
    records: list[MailMessage | Unreadable],
    advance: Callable[[Account], None],
) -> None:
    messages = [r for r in records if isinstance(r, MailMessage)]
    bad = [r for r in records if isinstance(r, Unreadable)]
    with unit_of_work(factory) as uow:
        account = _current(uow.session, account_id)
        counts = store_messages(uow.session, account.user_id, None, messages, account.id)
        store_dead_letters(uow.session, account.user_id, None, bad)
        advance(account)  # the cursor moves in the same transaction as the rows it covers
        summary.seen += counts.seen + len(bad)
        summary.imported += counts.imported
        summary.failed += len(bad)


def _backfill(
    factory: sessionmaker[Session], account_id: int, mail: MailSource, summary: SyncSummary
) -> None:
    with unit_of_work(factory) as uow:
        account = _current(uow.session, account_id)
        phase, token, since = account.backfill_phase, account.backfill_page_token, account.since
        history_id, user_id = account.backfill_history_id, account.user_id
    if history_id is None:
        _, history_id = mail.profile()  # incremental sync resumes from here
        with unit_of_work(factory) as uow:
            stored = _current(uow.session, account_id)
            stored.backfill_history_id = history_id
    while phase != "done":
        page = mail.list_page(label=_PHASE_LABEL[phase], page_token=token)
        ids = [mid for mid, _ in page.ids]
        with factory() as session:
            known = _known_ids(session, user_id, ids)
        fresh = [mid for mid in ids if mid not in known]
        records = mail.get_messages(fresh)
        dated = [r.sent_at for r in records if isinstance(r, MailMessage) and r.sent_at]
        # Newest first: once a page reaches back past the window, the phase is complete.
        past_window = bool(dated) and min(dated) < since
        records = [
            r
            for r in records
            if not (isinstance(r, MailMessage) and r.sent_at and r.sent_at < since)
        ]
        finished = page.next_page_token is None or past_window
        next_phase = _PHASES[_PHASES.index(phase) + 1] if finished else phase
        next_token = None if finished else page.next_page_token

        def advance(
            account: Account, next_phase: str = next_phase, next_token: str | None = next_token
        ) -> None:
            account.backfill_phase, account.backfill_page_token = next_phase, next_token
            if next_phase == "done":
                account.mail_cursor = account.backfill_history_id

        _store_page(factory, account_id, summary, records, advance)
        phase, token = next_phase, next_token


def _incremental(
    factory: sessionmaker[Session],
    account_id: int,
    mail: MailSource,
    cursor: str,
    summary: SyncSummary,
) -> None:
    token: str | None = None
    with factory() as session:
        account = _current(session, account_id)
        user_id = account.user_id
    while True:
        page = mail.history_page(cursor, token)
        with factory() as session:
            known = _known_ids(session, user_id, list(page.added))
        records = mail.get_messages([mid for mid in page.added if mid not in known])
        last = page.next_page_token is None

        def advance(account: Account, last: bool = last, history_id: str = page.history_id) -> None:
            if last:
                account.mail_cursor = history_id

        _store_page(factory, account_id, summary, records, advance)
        if last:
            return
        token = page.next_page_token


def _restart_backfill(factory: sessionmaker[Session], account_id: int) -> None:
    with unit_of_work(factory) as uow:
        account = _current(uow.session, account_id)
        account.mail_cursor = None
        account.backfill_phase, account.backfill_page_token = "sent", None
        account.backfill_history_id = None


def _sync_mail(
    factory: sessionmaker[Session], account_id: int, mail: MailSource, summary: SyncSummary
) -> None:
    with factory() as session:
        account = _current(session, account_id)
        cursor = account.mail_cursor
    if cursor is not None:
        try:
            _incremental(factory, account_id, mail, cursor, summary)
            return
        except CursorExpired:
            # Gmail forgot the history: a full resync, never a silent skip.
            _restart_backfill(factory, account_id)
    _backfill(factory, account_id, mail, summary)


def _sync_calendars(
    factory: sessionmaker[Session], account_id: int, cal: CalendarSource, summary: SyncSummary
) -> None:
    with factory() as session:
        account = _current(session, account_id)
        cursors: dict[str, str] = json.loads(account.calendar_cursor or "{}")
        since, user_id = account.since, account.user_id
    for calendar_id in cal.calendars():
        sync_token = cursors.get(calendar_id)
        page_token: str | None = None
        seen: set[str] = set()
        while True:
            try:
                page = cal.page(
                    calendar_id, sync_token=sync_token, page_token=page_token, time_min=since
                )
            except CursorExpired:
                sync_token, page_token, seen = None, None, set()
                continue
            with unit_of_work(factory) as uow:
                counts = store_events(
                    uow.session, user_id, None, list(page.events), seen, account_id
                )
                summary.events_seen += counts.seen
                summary.events_imported += counts.imported
                account = _current(uow.session, account_id)
                if page.next_sync_token:
                    stored = json.loads(account.calendar_cursor or "{}")
                    stored[calendar_id] = page.next_sync_token
                    account.calendar_cursor = json.dumps(stored, sort_keys=True)
            if page.next_page_token is None:
                break
            page_token = page.next_page_token


def sync_account(
    factory: sessionmaker[Session],
    account_id: int,
    open_sources: Callable[[Account, dict[str, Any]], Sources],
    cipher: TokenCipher,
    sink: JobSink,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
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
        if account is None or account.status != AccountStatus.ACTIVE.value:
            summary.status = "skipped"
            return summary
        tokens = cipher.open(account.token_ciphertext)
        run = SyncRun(account_id=account_id, started_at=now())
        uow.session.add(run)
        uow.session.flush()
        summary.run_id = run.id
        sources = open_sources(account, tokens)
    try:
        _sync_mail(factory, account_id, sources.mail, summary)
        _sync_calendars(factory, account_id, sources.calendar, summary)
    except SyncStopped:
        summary.status = "stopped"
    except BaseException as exc:
        # Recorded, then raised: a run cut short by anything (a provider error, a lost lease,
        # the worker's time limit) is never written down as a success.
        summary.status, summary.error = type(exc).__name__, str(exc)
        raise
    finally:
        sources.close()
        _finish(factory, account_id, summary, sources, cipher, tokens, now, sink)
    return summary


def _finish(
    factory: sessionmaker[Session],
    account_id: int,
    summary: SyncSummary,
    sources: Sources,
    cipher: TokenCipher,
    tokens: dict[str, Any],
    now: Callable[[], datetime],
    sink: JobSink,
) -> None:
    with unit_of_work(factory, sink) as uow:
        account = uow.session.get(Account, account_id)
        run = uow.session.get(SyncRun, summary.run_id)
        if account is None or run is None:
            return  # deleted meanwhile, with its ledger: nothing left to record
        moment = now()
        account.last_sync_at = moment
        # Disconnected meanwhile: its status and its wiped tokens are the user's decision
        if account.status == AccountStatus.ACTIVE.value:
            refreshed = sources.current_tokens()
            if refreshed != tokens:
                account.token_ciphertext = cipher.seal(refreshed)
            if summary.status == "ok":
                account.last_success_at = moment
            if summary.status == AuthExpired.__name__:
                account.status = AccountStatus.RECONNECT_NEEDED.value
                account.status_reason = summary.error
        run.finished_at = moment
        run.status = summary.status
        run.seen, run.imported, run.failed = summary.seen, summary.imported, summary.failed
        run.events_seen, run.events_imported = summary.events_seen, summary.events_imported
        run.error = summary.error
        _, owner_changed = settle_owner(uow.session, account.user_id, known=[account.email])
        if summary.imported or summary.events_imported or owner_changed:
            uow.jobs.enqueue(DERIVE_ACTOR, user_id=account.user_id)
