"""Read seed paths into what the sandbox serves: messages with raw headers, and occurrences.

Everything goes through `connectors.files.read_paths`, the importer the product itself uses, so
the sandbox holds exactly what an import would see; the raw header lines come from `raw`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from keepwarm.connectors.files import read_paths
from keepwarm.connectors.sandbox.google.raw import RawHeaders, header_lines
from keepwarm.connectors.types import CalendarEvent, MailMessage, Unreadable

__all__ = [
    "Seed",
    "SeedEvent",
    "SeedMessage",
    "default_window",
    "infer_owner",
    "read_seeds",
    "sandbox_user",
]

_UNFOLD = re.compile(r"\r?\n[ \t]")
_EVENT = re.compile(r"^BEGIN:VEVENT\s*$(.*?)^END:VEVENT\s*$", re.MULTILINE | re.DOTALL)
_UID = re.compile(r"^UID[;:](?:[^:\r\n]*:)?(.*?)\s*$", re.MULTILINE)
_RECURRING = re.compile(r"^(?:RRULE|RDATE|RECURRENCE-ID)[;:]", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class SeedMessage:
    """A parsed message with its header lines as written and its size in bytes."""

    record: MailMessage
    headers: tuple[tuple[str, str], ...]
    size: int


@dataclass(frozen=True, slots=True)
class SeedEvent:
    """One calendar occurrence, and whether it belongs to a recurring series."""

    record: CalendarEvent
    recurring: bool


@dataclass(slots=True)
class Seed:
    """Everything read from a set of seed paths."""

    messages: list[SeedMessage] = field(default_factory=list)
    events: list[SeedEvent] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)


def read_seeds(paths: Sequence[Path], *, window: tuple[datetime, datetime]) -> Seed:
    """Read mbox (.gz), maildir, Enron trees, .eml and .ics seeds; calendar recurrences are
    expanded over `window`.

    Raises SourceMissing/UnknownFormat (keepwarm.connectors.errors) for a path that is no source.
    Unreadable records are kept in `Seed.unreadable`, never served.
    """
    seed = Seed()
    raw = RawHeaders()
    occurrences: list[CalendarEvent] = []
    for record in read_paths(list(paths), window=window):
        if isinstance(record, MailMessage):
            found = raw.lookup(record.source)
            if found is None:
                seed.unreadable.append(Unreadable(record.source, "header block not found"))
                continue
            block, size = found
            seed.messages.append(SeedMessage(record, header_lines(block), size))
        elif isinstance(record, CalendarEvent):
            occurrences.append(record)
        else:
            seed.unreadable.append(record)
    seed.events = _mark_recurring(occurrences)
    return seed


def infer_owner(messages: Sequence[SeedMessage]) -> str | None:
    """The mailbox owner: the most frequent From of mail filed as sent (ties: the address seen
    first). None without sent mail."""
    senders = Counter(
        item.record.sender.email
        for item in messages
        if item.record.in_sent_folder and item.record.sender is not None
    )
    if not senders:
        return None
    return senders.most_common(1)[0][0]  # most_common keeps first-seen order among ties


def sandbox_user(seed: Seed, user_email: str | None) -> str:
    """A sandbox's user, lower case: `user_email`, else the owner of the seeds' sent mail
    (`infer_owner`), else the owner the first calendar names. Raises ValueError when there is
    none."""
    owner = user_email or infer_owner(seed.messages) or _calendar_owner(seed)
    if owner is None:
        raise ValueError("cannot infer the sandbox's user: no sent mail; pass user_email")
    return owner.lower()


def default_window(now: datetime) -> tuple[datetime, datetime]:
    """The calendar window a sandbox serves when none is given: 30 years back, one ahead."""
    return now - timedelta(days=365 * 30), now + timedelta(days=365)


def _calendar_owner(seed: Seed) -> str | None:
    owners = [e.record.calendar_owner for e in seed.events if e.record.calendar_owner]
    return owners[0] if owners else None


def _mark_recurring(occurrences: list[CalendarEvent]) -> list[SeedEvent]:
    """A series is recurring when its file gives it RRULE/RDATE/RECURRENCE-ID, or when it has
    several occurrences (the file may be inside a tree we did not scan)."""
    counts = Counter((event.source, event.uid) for event in occurrences)
    scanned: dict[str, frozenset[str]] = {}
    marked = []
    for event in occurrences:
        if event.source not in scanned:
            scanned[event.source] = _recurring_uids(Path(event.source))
        recurring = event.uid in scanned[event.source] or counts[(event.source, event.uid)] > 1
        marked.append(SeedEvent(event, recurring))
    return marked


def _recurring_uids(path: Path) -> frozenset[str]:
    try:
        text = _UNFOLD.sub("", path.read_text("utf-8", "replace"))
    except OSError:
        return frozenset()
    uids = set()
    for block in _EVENT.findall(text):
        uid = _UID.search(block)
        if uid is not None and _RECURRING.search(block):
            uids.add(uid.group(1).strip())
    return frozenset(uids)
