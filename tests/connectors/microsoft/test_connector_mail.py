"""GraphMailSource against the sandbox: which folders it reads and in what order, records equal
to what importing the same files gives, delta rounds after the first (new mail, moves counted
once), the sync window's ledger, Focused/Other, and expired delta links."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from keepwarm.connectors.base import AccountSources
from keepwarm.connectors.errors import CursorExpired
from keepwarm.connectors.files import read_paths
from keepwarm.connectors.microsoft.sources import open_microsoft
from keepwarm.connectors.microsoft.translate import OTHER_LABEL
from keepwarm.connectors.sandbox.microsoft import MicrosoftSandbox
from keepwarm.connectors.types import MailMessage
from tests.support.microsoft import CALENDAR_WINDOW, connect
from tests.support.paths import ENRON
from tests.support.paths import SANDBOX_OWNER as OWNER
from tests.support.paths import TEST_DATA as DATA

LONG_AGO = datetime(1990, 1, 1, tzinfo=UTC)


def nothing_known(ids: Sequence[str]) -> set[str]:
    return set()


@pytest.fixture
def sources(ms: MicrosoftSandbox) -> Iterator[AccountSources]:
    auth, grant = connect(ms)
    opened = open_microsoft(auth, grant.tokens, owner=grant.email, page_size=40)
    yield opened
    opened.close()


def read_stream(
    sources: AccountSources,
    stream: str,
    cursor: str | None = None,
    *,
    since: datetime = LONG_AGO,
    known: Callable[[Sequence[str]], set[str]] = nothing_known,
) -> tuple[list[MailMessage], str, dict[str, int], int]:
    """Every record of a stream until caught up: (messages, cursor, filtered, pages)."""
    messages: list[MailMessage] = []
    filtered: dict[str, int] = {}
    pages = 0
    while True:
        page = sources.mail.read(stream, cursor, since=since, known=known)
        pages += 1
        messages += [r for r in page.records if isinstance(r, MailMessage)]
        for reason, count in page.filtered.items():
            filtered[reason] = filtered.get(reason, 0) + count
        cursor = page.cursor
        if not page.more:
            assert page.caught_up
            return messages, cursor, filtered, pages
        assert not page.caught_up or pages > 1


def test_streams_put_sent_items_first_and_skip_junk_and_deleted(
    make_ms: Callable[..., MicrosoftSandbox], tmp_path: Path
) -> None:
    tree = tmp_path / "mailbox"
    shutil.copytree(ENRON, tree)
    nested = tree / "inbox" / "projects"
    nested.mkdir()
    shutil.copy(next((ENRON / "inbox").iterdir()), nested / "1")
    (tree / "junk").mkdir()
    shutil.copy(next((ENRON / "inbox").iterdir()), tree / "junk" / "1")
    sandbox = make_ms(tree)
    auth, grant = connect(sandbox)
    opened = open_microsoft(auth, grant.tokens, owner=grant.email)
    try:
        mail = opened.mail
        streams = list(mail.streams())
        folders = mail.folders()  # type: ignore[attr-defined]
        paths = [folders[s].path for s in streams]
    finally:
        opened.close()
    assert streams[:2] == ["sentitems", "inbox"]
    assert paths == [
        "Sent Items",
        "Inbox",
        "Inbox/projects",
        "Archive",
        "all_documents",
        "discussion_threads",
    ]
    assert all(s.startswith("folder:") for s in streams[2:] if s != "archive")
    assert sandbox.folder_counts()["Junk Email"] == 1  # there, but never read


def test_records_equal_what_importing_the_same_files_gives(
    ms: MicrosoftSandbox, sources: AccountSources
) -> None:
    messages, _, _, pages = read_stream(sources, "sentitems")
    assert len(messages) == 101 and pages == 3
    received = [m.received_at for m in messages]
    assert received == sorted(received, reverse=True)  # newest first
    assert all(m.in_sent_folder and m.folder == "Sent Items" for m in messages)
    imported = {
        r.message_id: r
        for folder in ("_sent_mail", "sent", "sent_items")
        for r in read_paths([ENRON / folder], window=CALENDAR_WINDOW)
        if isinstance(r, MailMessage)
    }
    for message in messages:
        assert message.message_id is not None
        original = imported[message.message_id]
        for field in ("sender", "to", "cc", "bcc", "reply_to", "sent_at", "subject"):
            assert getattr(message, field) == getattr(original, field), field
        assert message.provider_id == f"<{message.message_id}>"
        assert message.thread_id


def test_the_window_filters_and_the_ledger_says_so(sources: AccountSources) -> None:
    since = datetime(2001, 6, 1, tzinfo=UTC)
    messages, _, filtered, _ = read_stream(sources, "sentitems", since=since)
    assert messages and all(m.received_at and m.received_at >= since for m in messages)
    assert filtered == {"received before the sync window": 101 - len(messages)}


def test_later_rounds_bring_new_mail_and_a_move_counts_once(
    ms: MicrosoftSandbox, sources: AccountSources
) -> None:
    stored: set[str] = set()

    def known(ids: Sequence[str]) -> set[str]:
        return stored & set(ids)

    inbox, inbox_cursor, _, _ = read_stream(sources, "inbox", known=known)
    stored |= {m.provider_id for m in inbox if m.provider_id}
    archive, archive_cursor, _, _ = read_stream(sources, "archive", known=known)
    assert archive == []
    moved = ms.message_ids("inbox")[0]
    ms.move_message(moved, "archive")
    ms.add_messages([sorted((ENRON / "all_documents").iterdir())[1]], folder="inbox")
    new, inbox_cursor, _, pages = read_stream(sources, "inbox", inbox_cursor, known=known)
    assert len(new) == 1 and pages == 1
    assert new[0].received_at and new[0].received_at.year >= 2026  # it arrived now
    again, _, _, _ = read_stream(sources, "archive", archive_cursor, known=known)
    assert again == []  # the moved message is the one stored already


def test_focused_and_other(make_ms: Callable[..., MicrosoftSandbox]) -> None:
    apparmor = DATA / "apparmor-slice.mbox"
    sandbox = make_ms(ENRON / "sent", apparmor, user_email=OWNER)
    auth, grant = connect(sandbox)
    opened = open_microsoft(auth, grant.tokens, owner=grant.email)
    try:
        listed, _, _, _ = read_stream(opened, "inbox")  # a lone mbox is filed in the Inbox
        sent, _, _, _ = read_stream(opened, "sentitems")
    finally:
        opened.close()
    assert listed and all(m.labels == (OTHER_LABEL,) for m in listed)  # a mailing list
    assert all(m.labels == () for m in sent)


def test_an_expired_delta_link_raises_cursor_expired(
    ms: MicrosoftSandbox, sources: AccountSources
) -> None:
    _, cursor, _, _ = read_stream(sources, "inbox")
    ms.expire_delta_tokens("inbox")
    with pytest.raises(CursorExpired, match="SyncStateNotFound"):
        sources.mail.read("inbox", cursor, since=LONG_AGO, known=nothing_known)
    assert read_stream(sources, "inbox")[0]  # from the start again


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_the_next_page_is_fetched_while_this_one_is_stored(
    ms: MicrosoftSandbox, sources: AccountSources
) -> None:
    def skip_requests() -> int:
        return sum("$skiptoken" in r for r in ms.requests())

    page = sources.mail.read("sentitems", None, since=LONG_AGO, known=nothing_known)
    assert page.more
    # Before anyone asks for it, the second page is on its way (one request ahead)
    _until(lambda: skip_requests() == 1, "the page after the first")
    ms.expire_delta_tokens("sentitems")
    # It was fetched while its token was good: reading it asks nothing more...
    second = sources.mail.read("sentitems", page.cursor, since=LONG_AGO, known=nothing_known)
    assert second.records and second.more
    # ...and the third, fetched ahead after the tokens expired, fails where it is read
    with pytest.raises(CursorExpired):
        sources.mail.read("sentitems", second.cursor, since=LONG_AGO, known=nothing_known)
    # A cursor other than the one read ahead is fetched afresh
    again = sources.mail.read("sentitems", None, since=LONG_AGO, known=nothing_known)
    assert again.records == page.records
