"""services.accounts.sync driven through the seam by in-memory sources: no HTTP, real database.

What every provider gets from the driver: streams read in order, each page stored with its
cursor, a forgotten cursor resyncs that stream only, a failure keeps what was stored, and a
ledger that says "partial" whenever anything was skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from keepwarm.connectors.base import AccountSources, KnownIds, MailSource, Page
from keepwarm.connectors.errors import ProviderUnavailable, RateLimited
from keepwarm.connectors.memory import MemoryCalendarSource, MemoryMailSource
from keepwarm.connectors.types import Address, MailMessage
from keepwarm.services.accounts.connected import save_account
from keepwarm.services.accounts.sync import CURSOR_EXPIRED, SyncSummary, sync_account
from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.clock import fixed_clock
from keepwarm.services.core.config import Settings
from keepwarm.services.core.crypto import TokenCipher
from keepwarm.services.core.jobs import Job, unit_of_work
from keepwarm.services.models import Message, RunStatus, SyncCursor, SyncRun
from keepwarm.services.runtime import Runtime, build_runtime

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
SINCE = datetime(2024, 1, 1, tzinfo=UTC)
OWNER = "ann@example.com"


class Jobs:
    def __init__(self) -> None:
        self.sent: list[Job] = []

    def send(self, job: Job) -> None:
        self.sent.append(job)


def mail(n: int, stream: str = "inbox", *, days: int = 0) -> MailMessage:
    when = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=n + days)
    return MailMessage(
        source=f"memory:{stream}:{n}",
        message_id=f"m{n}@example.org",
        sent_at=when,
        subject=f"note {n}",
        sender=Address(OWNER) if stream == "sent" else Address(f"p{n % 7}@example.org"),
        to=(Address(f"p{n % 7}@example.org") if stream == "sent" else Address(OWNER),),
        in_sent_folder=stream == "sent",
        provider_id=f"id-{n}",
        received_at=when,
    )


@dataclass
class Account:
    runtime: Runtime
    account_id: int
    cipher: TokenCipher
    mail: MemoryMailSource
    calendar: MemoryCalendarSource

    def sync(self, mail: MailSource | None = None) -> SyncSummary:
        """One run over `mail` (default: this account's in-memory mailbox)."""
        sources = AccountSources(mail or self.mail, self.calendar, lambda: {"refresh_token": "r"})
        return sync_account(
            self.runtime.session_factory,
            self.account_id,
            lambda account, tokens: sources,
            self.cipher,
            Jobs(),
            fixed_clock(NOW),
        )

    def messages(self) -> int:
        with self.runtime.session_factory() as session:
            return int(session.scalar(select(func.count()).select_from(Message)) or 0)

    def runs(self) -> list[SyncRun]:
        with self.runtime.session_factory() as session:
            return list(session.scalars(select(SyncRun).order_by(SyncRun.id)))

    def cursors(self) -> dict[str, bool]:
        with self.runtime.session_factory() as session:
            return {
                f"{row.kind}:{row.stream}": row.caught_up
                for row in session.scalars(select(SyncCursor))
            }


@pytest.fixture
def account(tmp_path: Path) -> Iterator[Account]:
    key = TokenCipher.generate_key()
    settings = Settings.model_validate({"home": tmp_path / "home", "token_key": key})
    runtime = build_runtime(settings)
    cipher = TokenCipher(key)
    with unit_of_work(runtime.session_factory) as uow:
        user_id = ensure_user(uow.session).id
        saved = save_account(
            uow.session,
            user_id,
            provider="memory",
            email=OWNER,
            tokens={"refresh_token": "r"},
            scopes=("read",),
            cipher=cipher,
            since=SINCE,
            api_base=None,
            now=NOW,
        )
        account_id = saved.id
    mail = MemoryMailSource(["sent", "inbox"], page_size=10)
    try:
        yield Account(runtime, account_id, cipher, mail, MemoryCalendarSource())
    finally:
        runtime.close()


def test_every_stream_is_read_page_by_page_and_a_rerun_changes_nothing(account: Account) -> None:
    account.mail.add("sent", [mail(n, "sent") for n in range(25)])
    account.mail.add("inbox", [mail(n, "inbox") for n in range(100, 117)])
    first = account.sync()
    assert (first.status, first.seen, first.imported) == (RunStatus.OK, 42, 42)
    assert account.messages() == 42
    assert account.cursors() == {"mail:sent": True, "mail:inbox": True, "calendar:primary": True}
    # New mail arrives in one stream; the next run reads only what follows each cursor
    account.mail.add("inbox", [mail(200, "inbox")])
    reads = account.mail.reads
    again = account.sync()
    assert (again.status, again.seen, again.imported) == (RunStatus.OK, 1, 1)
    assert account.mail.reads - reads == 2  # one page per stream
    assert account.messages() == 43


def test_a_forgotten_cursor_resyncs_that_stream_only_without_doubling(account: Account) -> None:
    account.mail.add("sent", [mail(n, "sent") for n in range(25)])
    account.mail.add("inbox", [mail(n, "inbox") for n in range(100, 117)])
    account.sync()
    account.mail.expire("inbox")
    summary = account.sync()
    assert summary.status is RunStatus.OK
    assert summary.restarted == ["mail:inbox"]
    assert summary.filtered[CURSOR_EXPIRED] == 1
    assert summary.imported == 0 and account.messages() == 42  # read again, stored once
    [_, second] = account.runs()
    assert json.loads(second.filtered or "{}") == {CURSOR_EXPIRED: 1}


def test_a_failure_keeps_the_stored_pages_and_the_next_run_goes_on(account: Account) -> None:
    account.mail.add("sent", [mail(n, "sent") for n in range(25)])
    account.sync()
    account.mail.add("sent", [mail(n, "sent") for n in range(25, 60)])
    stored_before = account.messages()

    class FailsOnSecondPage:
        def __init__(self, inner: MemoryMailSource) -> None:
            self.inner, self.pages = inner, 0

        def streams(self) -> list[str]:
            return list(self.inner.streams())

        def read(
            self, stream: str, cursor: str | None, *, since: datetime, known: KnownIds
        ) -> Page[MailMessage]:
            self.pages += 1
            if self.pages == 2:
                raise RateLimited("slow down", retry_after=2.5)
            return self.inner.read(stream, cursor, since=since, known=known)

    with pytest.raises(RateLimited):
        account.sync(FailsOnSecondPage(account.mail))
    assert account.messages() == stored_before + 10  # the first page stayed, with its cursor
    assert account.runs()[-1].status is RunStatus.RATE_LIMITED
    finished = account.sync()
    assert (finished.status, finished.imported) == (RunStatus.OK, 25)
    assert account.messages() == 60


def test_a_run_that_skipped_anything_is_partial_and_says_why(account: Account) -> None:
    class LosesTwo:
        def streams(self) -> list[str]:
            return ["inbox"]

        def read(
            self, stream: str, cursor: str | None, *, since: datetime, known: KnownIds
        ) -> Page[MailMessage]:
            records = tuple(mail(n) for n in range(3))
            skipped = {"deleted before it could be read": 2}
            return Page(records, "done", more=False, caught_up=True, skipped=skipped)

    summary = account.sync(LosesTwo())
    assert summary.status is RunStatus.PARTIAL and (summary.seen, summary.imported) == (5, 3)
    [run] = account.runs()
    assert run.status is RunStatus.PARTIAL
    assert json.loads(run.skipped or "{}") == {"deleted before it could be read": 2}


def test_a_transient_failure_is_recorded_as_such(account: Account) -> None:
    account.mail.add("sent", [mail(1, "sent")])
    account.mail.fail(ProviderUnavailable("Google answered 503"))
    with pytest.raises(ProviderUnavailable):
        account.sync()
    [run] = account.runs()
    assert (run.status, run.error) == (RunStatus.UNAVAILABLE, "Google answered 503")
