"""Hostile mail for the adversarial tests and bench/attacks.py: spoofed owners, forged dates,
header values with control characters, as mbox text a sandbox or the importer reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

__all__ = ["OWNER", "Mail", "forged_date_mailbox", "write_mbox"]

OWNER = "ann@example.com"


@dataclass(frozen=True)
class Mail:
    """One message as an mbox entry: `labels` as Takeout writes them (Gmail and the Graph
    sandbox both file by them), `received` the time the provider accepted it."""

    n: int
    sender: str
    to: str
    date: datetime
    received: datetime
    labels: str = "Inbox"
    subject: str | None = None
    extra: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [
            f"From x@y {self.received:%a %b %d %H:%M:%S %Y}",
            f"X-Gmail-Labels: {self.labels}",
            f"Received: from mx.example.org by mx.example.com; {format_datetime(self.received)}",
            f"Message-ID: <m{self.n}@example.org>",
            f"Date: {format_datetime(self.date)}",
            f"From: {self.sender}",
            f"To: {self.to}",
            f"Subject: {self.subject if self.subject is not None else f'note {self.n}'}",
            *self.extra,
        ]
        return "\n".join(lines) + "\n\nbody\n\n"


def write_mbox(path: Path, mails: Iterable[Mail]) -> Path:
    path.write_text("".join(mail.text() for mail in mails))
    return path


def forged_date_mailbox(path: Path, first: datetime, count: int = 300) -> Path:
    """`count` messages received in the window, one a day, each from a different person; one
    received last (so it heads the first page) whose Date claims 2001; and one received a
    month before `first` minus a year (outside a window starting a year before `first`)."""
    mails = [
        Mail(
            n,
            f"p{n}@example.org",
            OWNER,
            date=first + timedelta(days=n),
            received=first + timedelta(days=n, minutes=3),
        )
        for n in range(count)
    ]
    newest = first + timedelta(days=count + 100)
    mails.append(Mail(count, "forger@example.org", OWNER, datetime(2001, 5, 1, tzinfo=UTC), newest))
    old = first - timedelta(days=400)
    mails.append(Mail(count + 1, "old@example.org", OWNER, old, old))
    return write_mbox(path, mails)
