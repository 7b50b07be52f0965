"""Provider-neutral records that every connector yields.

Only metadata travels here: who, when, which thread, which folder. No message body is ever read
into these records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

__all__ = [
    "Address",
    "Attendee",
    "CalendarEvent",
    "MailMessage",
    "PartlyRead",
    "ResponseStatus",
    "Unreadable",
]


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox as written in a header: a normalised address and the display name beside it."""

    email: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class MailMessage:
    """The header metadata of one message.

    `sent_at` is timezone-aware UTC, or None when the message carries no readable date.
    `received_at` is when the provider accepted the message (Gmail's internalDate, Graph's
    receivedDateTime), None for files: unlike the sender's `Date`, nobody outside can forge it,
    so sync windows are judged by it.
    `folder` is the mailbox folder it was found in (maildir/Enron trees) and `labels` the
    provider labels (Gmail, Takeout's X-Gmail-Labels); `in_sent_folder` says the owner's client
    filed it as sent mail, the strongest evidence of who the owner is.
    """

    source: str
    message_id: str | None
    sent_at: datetime | None
    subject: str | None
    sender: Address | None
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    in_reply_to: str | None = None
    folder: str | None = None
    labels: tuple[str, ...] = ()
    in_sent_folder: bool = False
    # Header facts the noise rules read; kept raw so the rules can change without a re-import.
    list_id: str | None = None
    list_unsubscribe: bool = False
    precedence: str | None = None
    auto_submitted: str | None = None
    content_type: str | None = None
    auto_reply_header: bool = False
    provider_id: str | None = None
    thread_id: str | None = None
    received_at: datetime | None = None
    problems: tuple[str, ...] = field(default=())


class ResponseStatus(StrEnum):
    """An attendee's answer to an invitation (iCalendar PARTSTAT, Google responseStatus)."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    TENTATIVE = "tentative"
    NEEDS_ACTION = "needs_action"


@dataclass(frozen=True, slots=True)
class Attendee:
    """One person invited to an event."""

    email: str
    name: str | None = None
    response: ResponseStatus = ResponseStatus.NEEDS_ACTION
    is_resource: bool = False
    is_organizer: bool = False


# The `occurrence_start` of an event that is not part of a series: its identity is its UID (or
# provider id) alone, so a moved meeting updates its stored row instead of leaving a copy.
SINGLE_OCCURRENCE = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One occurrence of an event (recurrences are already expanded).

    `uid` with `occurrence_start` identifies the occurrence across re-imports; `start`/`end` are
    timezone-aware UTC (all-day events start at midnight UTC of their date).

    A `tombstone` says only "this occurrence was cancelled or deleted": providers send nothing
    else for those (Calendar guarantees just the ids), so only its identity and `cancelled`
    mean anything, and it must never overwrite what is stored.
    """

    source: str
    uid: str
    occurrence_start: datetime
    start: datetime
    end: datetime
    summary: str | None
    all_day: bool
    cancelled: bool
    organizer: Address | None
    attendees: tuple[Attendee, ...]
    calendar_owner: str | None = None
    tombstone: bool = False


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A file, message or event that could not be read, and why. Reported, never dropped."""

    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class PartlyRead(Unreadable):
    """Part of a record could not be read as written, and the rest of it was kept (a series
    cut at its cap, times read as UTC for a zone nobody knows). Reported beside the records,
    not counted among the unreadable ones."""
