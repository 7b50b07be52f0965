"""GmailReader against the sandbox: threads.get where it is cheaper (with exactly the result
of per-message gets), pacing that keeps Gmail's window from refusing anything, timeouts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.auth.exceptions import RefreshError

from keepwarm.connectors.errors import AuthExpired, ProviderUnavailable
from keepwarm.connectors.google import GmailReader
from keepwarm.connectors.google.translate import classify
from keepwarm.connectors.sandbox.google import GoogleSandbox
from keepwarm.connectors.types import MailMessage, Unreadable
from tests.support.google import ManualClock, authorize
from tests.support.paths import ENRON

OWNER = "ann@example.com"


def _mail(n: int, labels: str, *, thread: int, year: int = 2001, sender: str = OWNER) -> str:
    return (
        f"From 1@xxx Thu Jan 01 00:00:00 +0000 2001\n"
        f"X-GM-THRID: {thread}\n"
        f"X-Gmail-Labels: {labels}\n"
        f"Message-ID: <m{n}@example.com>\n"
        f"Date: Mon, {n} Jan {year} 10:00:00 +0000\n"
        f"From: {sender}\n"
        f"To: bo@example.com\n"
        f"Subject: Re: plan\n\n"
        "body\n\n"
    )


@pytest.fixture
def mixed_thread(tmp_path: Path) -> Path:
    """A Takeout mbox: one thread of four sent messages (one from 1998) beside messages in the
    inbox, Trash and Spam; and two sent messages in threads of their own."""
    thread = 1650000000000000100
    mails = [
        _mail(1, "Sent", thread=thread, year=1998),
        _mail(2, "Sent", thread=thread),
        _mail(3, "Inbox", thread=thread, sender="bo@example.com"),
        _mail(4, "Sent", thread=thread),
        _mail(5, "Trash", thread=thread, sender="bo@example.com"),
        _mail(6, "Spam", thread=thread, sender="bo@example.com"),
        _mail(7, "Sent", thread=thread),
        _mail(8, "Sent", thread=thread + 1),
        _mail(9, "Sent", thread=thread + 2),
    ]
    path = tmp_path / "takeout.mbox"
    path.write_text("".join(mails))
    return path


@pytest.fixture
def reader_for(clock: ManualClock) -> Iterator[Any]:
    """GmailReaders on a sandbox, paced on the test's clock (time moves when they wait)."""
    readers: list[GmailReader] = []

    def make(sandbox: GoogleSandbox, **options: Any) -> GmailReader:
        options.setdefault("clock", clock)
        options.setdefault("sleep", clock.advance)
        reader = GmailReader(authorize(sandbox), api_base=sandbox.url, **options)
        readers.append(reader)
        return reader

    yield make
    for reader in readers:
        reader.close()


def _one_by_one(reader: GmailReader, ids: list[str]) -> list[MailMessage | Unreadable]:
    """The per-message path: one id per call, so no thread is ever shared."""
    return [record for mid in ids for record in reader.get_messages([mid])]


def test_a_thread_of_sent_mail_comes_in_one_call_and_only_what_was_asked(
    make_sandbox: Any, reader_for: Any, mixed_thread: Path
) -> None:
    sandbox: GoogleSandbox = make_sandbox(mixed_thread, user_email=OWNER)
    reader: GmailReader = reader_for(sandbox)
    page = reader.list_page(label="SENT", page_token=None)
    ids = [mid for mid, _ in page.ids]
    assert len(ids) == 6
    calls_before = sandbox.call_counts()
    records = reader.get_messages(ids)
    calls = {k: v - calls_before.get(k, 0) for k, v in sandbox.call_counts().items()}
    # One threads.get for the four sent messages of the thread, a get for each of the others
    assert calls == {
        "gmail.users.messages.list": 0,
        "gmail.users.threads.get": 1,
        "gmail.users.messages.get": 2,
    }
    # The thread also holds inbox, Trash and Spam mail: none of it is returned
    assert [r.provider_id for r in records if isinstance(r, MailMessage)] == ids
    assert all("SENT" in r.labels for r in records if isinstance(r, MailMessage))
    # ... and the result is exactly what one get per message gives (the 1998 one included:
    # the caller applies its window to both paths alike)
    assert records == _one_by_one(reader_for(sandbox), ids)


def test_threads_bring_the_cost_under_five_units_a_message(
    make_sandbox: Any, reader_for: Any
) -> None:
    sandbox: GoogleSandbox = make_sandbox(ENRON)
    reader: GmailReader = reader_for(sandbox)
    page = reader.list_page(label=None, page_token=None)
    ids = [mid for mid, _ in page.ids]
    spent = sandbox.units_spent()
    records = reader.get_messages(ids)
    units = sandbox.units_spent() - spent
    assert len(records) == len(ids) and units < 5 * len(ids)
    assert sandbox.call_counts()["gmail.users.threads.get"] >= 1
    assert records == _one_by_one(reader_for(sandbox), ids)


def test_ids_of_an_earlier_listing_are_fetched_one_by_one(
    make_sandbox: Any, reader_for: Any, mixed_thread: Path
) -> None:
    sandbox: GoogleSandbox = make_sandbox(mixed_thread, user_email=OWNER)
    reader: GmailReader = reader_for(sandbox)
    sent = [mid for mid, _ in reader.list_page(label="SENT", page_token=None).ids]
    reader.list_page(label="TRASH", page_token=None)  # the reader now knows only Trash
    records = reader.get_messages(sent)
    assert [r.provider_id for r in records if isinstance(r, MailMessage)] == sent
    assert "gmail.users.threads.get" not in sandbox.call_counts()


def test_pacing_keeps_gmail_from_refusing_anything(
    make_sandbox: Any, reader_for: Any, clock: ManualClock
) -> None:
    # Gmail's real limit on the sandbox, on the same clock as the reader's pacing
    sandbox: GoogleSandbox = make_sandbox(ENRON, quota_units_per_second=250)
    reader: GmailReader = reader_for(sandbox)
    started = clock.now
    ids: list[str] = []
    for label in ("SENT", None, "TRASH"):
        page = reader.list_page(label=label, page_token=None)
        ids += [mid for mid, _ in page.ids if mid not in ids]
        reader.get_messages([mid for mid, _ in page.ids])
    assert sandbox.refused_counts() == {}
    # It was paced, not unlimited: 250 units a second at most after the first second
    assert clock.now - started >= (reader.units - 250) / 250


def test_a_call_answered_after_the_timeout_is_provider_unavailable(
    make_sandbox: Any, reader_for: Any
) -> None:
    sandbox: GoogleSandbox = make_sandbox(ENRON)
    reader: GmailReader = reader_for(sandbox, timeout=0.5)
    ids = [mid for mid, _ in reader.list_page(label="SENT", page_token=None).ids]
    sandbox.delay(30, path_prefix="/gmail/v1/users/me/messages")
    with pytest.raises(ProviderUnavailable) as listing:
        reader.list_page(label="SENT", page_token=None)
    assert isinstance(listing.value.__cause__, TimeoutError)
    sandbox.delay(30, path_prefix="/batch")
    with pytest.raises(ProviderUnavailable) as batch:
        reader.get_messages(ids[:3])
    assert isinstance(batch.value.__cause__, TimeoutError)
    # The next call goes through on a new connection
    assert len(reader.get_messages(ids[:3])) == 3


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (TimeoutError("timed out"), ProviderUnavailable),
        (ConnectionResetError(104, "reset"), ProviderUnavailable),
        (RefreshError("invalid_grant: Token has been expired or revoked."), AuthExpired),
        (ValueError("a bug of ours"), ValueError),
    ],
)
def test_failures_are_classified_once(failure: Exception, expected: type[Exception]) -> None:
    classified = classify(failure)
    assert type(classified) is expected
    assert (classified is failure) == (expected is ValueError)  # ours surface unchanged


def test_the_providers_default_timeout_is_the_readers() -> None:
    from keepwarm.connectors.google.provider import DEFAULT_TIMEOUT
    from keepwarm.connectors.google.translate import HTTP_TIMEOUT

    assert DEFAULT_TIMEOUT == HTTP_TIMEOUT
