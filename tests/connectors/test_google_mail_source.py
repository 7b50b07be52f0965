"""GmailSource against the sandbox: the sync window is judged by when Google received mail.

Regression for the silent loss found on 2026-11-30: one message whose `Date` was older than the
window, on the first page, ended the backfill phase (Gmail lists by receipt time, not by
`Date`), and the run was recorded "ok" with 99 of 300 messages stored.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from keepwarm.connectors.base import Page
from keepwarm.connectors.google import GmailReader
from keepwarm.connectors.google.mail_source import BEFORE_WINDOW, GmailSource
from keepwarm.connectors.sandbox.google import GoogleSandbox
from keepwarm.connectors.types import MailMessage
from tests.support.google import authorize

OWNER = "ann@example.com"
SINCE = datetime(2024, 1, 1, tzinfo=UTC)
FIRST = datetime(2024, 3, 1, 9, tzinfo=UTC)


def _mail(n: int, *, date: datetime, received: datetime, sent: bool = False) -> str:
    labels = "Sent" if sent else "Inbox"
    sender, to = (OWNER, f"p{n}@example.org") if sent else (f"p{n}@example.org", OWNER)
    return (
        f"From x@y {received:%a %b %d %H:%M:%S %Y}\n"
        f"X-Gmail-Labels: {labels}\n"
        f"Received: from mx.example.org by mx.google.com; {format_datetime(received)}\n"
        f"Message-ID: <m{n}@example.org>\n"
        f"Date: {format_datetime(date)}\n"
        f"From: {sender}\n"
        f"To: {to}\n"
        f"Subject: note {n}\n\n"
        "body\n\n"
    )


def hostile_mailbox(path: Path) -> Path:
    """300 messages received in the window, one a day, and one received last (so it heads the
    first page) whose Date claims 2001; plus one received before the window."""
    parts = [
        _mail(n, date=FIRST + timedelta(days=n), received=FIRST + timedelta(days=n, minutes=3))
        for n in range(300)
    ]
    newest = FIRST + timedelta(days=400)
    parts.append(_mail(300, date=datetime(2001, 5, 1, tzinfo=UTC), received=newest))
    old = SINCE - timedelta(days=30)
    parts.append(_mail(301, date=old, received=old))
    path.write_text("".join(parts))
    return path


def read_all(source: GmailSource) -> list[Page[MailMessage]]:
    pages: list[Page[MailMessage]] = []
    cursor: str | None = None
    while True:
        page = source.read("gmail", cursor, since=SINCE, known=lambda ids: set())
        pages.append(page)
        cursor = page.cursor
        if not page.more:
            return pages


def test_a_forged_old_date_on_the_first_page_does_not_end_the_backfill(
    make_sandbox: Any, tmp_path: Path
) -> None:
    sandbox: GoogleSandbox = make_sandbox(
        hostile_mailbox(tmp_path / "hostile.mbox"), user_email=OWNER
    )
    reader = GmailReader(authorize(sandbox), api_base=sandbox.url)
    try:
        pages = read_all(GmailSource(reader, page_size=100))
    finally:
        reader.close()
    stored = [r for page in pages for r in page.records if isinstance(r, MailMessage)]
    ids = {r.message_id for r in stored}
    # Every message received in the window, the forged one included (its receipt is recent)
    assert len(stored) == 301 == len(ids)
    assert "m300@example.org" in ids and "m301@example.org" not in ids
    forged = next(r for r in stored if r.message_id == "m300@example.org")
    assert forged.received_at == FIRST + timedelta(days=400)
    # The one received before the window is accounted for, not silently dropped
    assert sum(page.filtered.get(BEFORE_WINDOW, 0) for page in pages) == 1
    assert all(not page.skipped for page in pages)
    assert json.loads(pages[-1].cursor)["phase"] == "history" and pages[-1].caught_up


def test_a_future_date_is_replaced_by_the_receipt_time(make_sandbox: Any, tmp_path: Path) -> None:
    received = FIRST + timedelta(days=2)
    mbox = tmp_path / "future.mbox"
    mbox.write_text(_mail(1, date=datetime(2031, 1, 1, tzinfo=UTC), received=received))
    sandbox: GoogleSandbox = make_sandbox(mbox, user_email=OWNER)
    reader = GmailReader(authorize(sandbox), api_base=sandbox.url)
    try:
        [message] = [r for p in read_all(GmailSource(reader)) for r in p.records]
    finally:
        reader.close()
    # A Date in 2031 would hold this contact's silence clock at zero for years
    assert isinstance(message, MailMessage)
    assert message.sent_at == message.received_at == received
    assert "Date later than receipt: the receipt time is used" in message.problems
