"""The calendar side of the sandbox's state: the user's primary calendar as Outlook's calendar
view shows it, occurrence by occurrence.

A recurring series appears as its occurrences (`type` occurrence, with `seriesMasterId` and
`originalStart`); an occurrence moved from its place is an exception and keeps its id. A
cancelled meeting stays in the view with `isCancelled` until it is deleted, which leaves a
tombstone. Changes are numbered from one counter, as in the mailbox. Not thread-safe: the app
holds its lock around every call.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from keepwarm.connectors.sandbox.events import seed_fields, update_fields
from keepwarm.connectors.sandbox.google.seed import SeedEvent
from keepwarm.connectors.sandbox.microsoft.delta import Tombstone
from keepwarm.connectors.types import Address, Attendee

__all__ = ["Calendar", "CalendarItem", "event_id"]


@dataclass(slots=True)
class CalendarItem:
    """One single event, occurrence or exception in the calendar view."""

    id: str
    kind: str  # singleInstance | occurrence | exception
    series_id: str | None
    ical_uid: str
    original_start: datetime | None
    start: datetime
    end: datetime
    all_day: bool
    subject: str | None
    cancelled: bool
    organizer: Address | None
    attendees: tuple[Attendee, ...]
    created: datetime
    modified: datetime
    change: int
    order: int


def event_id(*parts: str) -> str:
    """A Graph-shaped event id (`AAMkAD...`) for an event or occurrence key."""
    digest = hashlib.sha256("\x1f".join(("event", *parts)).encode()).digest()[:45]
    return "AAMkAD" + base64.urlsafe_b64encode(digest).decode() + "AAA="


@dataclass
class Calendar:
    """The primary calendar of the sandbox's user."""

    owner: str
    now: Callable[[], datetime]
    change: int = 0
    epoch: int = 0
    _items: dict[str, CalendarItem] = field(default_factory=dict)
    _tombstones: list[Tombstone] = field(default_factory=list)

    def add(self, seeds: Sequence[SeedEvent]) -> list[str]:
        """Store occurrences; one already held with other content is updated. Returns the ids
        added or changed."""
        touched: list[str] = []
        for seed in seeds:
            record = seed.record
            if seed.recurring:
                series = event_id(record.uid)
                item_id = event_id(record.uid, record.occurrence_start.isoformat())
                kind = "exception" if record.start != record.occurrence_start else "occurrence"
            else:
                series, item_id, kind = None, event_id(record.uid), "singleInstance"
            fields = {"kind": kind, **seed_fields(record, title="subject")}
            existing = self._items.get(item_id)
            if existing is not None:
                if not update_fields(existing, fields):
                    continue
                self._touch(existing)
            else:
                self.change += 1
                now = self.now()
                self._items[item_id] = CalendarItem(
                    id=item_id,
                    series_id=series,
                    ical_uid=_ical_uid(record.uid, record.occurrence_start if series else None),
                    original_start=record.occurrence_start if series else None,
                    created=now,
                    modified=now,
                    change=self.change,
                    order=len(self._items),
                    **fields,
                )
            touched.append(item_id)
        return touched

    def get(self, item_id: str) -> CalendarItem | None:
        """The occurrence with this id; None when there is none."""
        return self._items.get(item_id)

    def all(self) -> list[CalendarItem]:
        """Every occurrence by start, then id."""
        return sorted(self._items.values(), key=lambda item: (item.start, item.id))

    def tombstones(self) -> list[Tombstone]:
        """Occurrences deleted from the calendar."""
        return self._tombstones

    def cancel(self, item_id: str) -> None:
        """The organizer cancels the meeting or one occurrence: it stays, `isCancelled`.
        Raises KeyError for an unknown id."""
        item = self._items[item_id]
        item.cancelled = True
        self._touch(item)

    def move(self, item_id: str, new_start: datetime) -> None:
        """Reschedule to `new_start` (aware), keeping the length; an occurrence becomes an
        exception with the same id. Raises KeyError, or ValueError for a naive datetime."""
        if new_start.tzinfo is None:
            raise ValueError("new_start must be timezone-aware")
        item = self._items[item_id]
        length = item.end - item.start
        item.start, item.end = new_start, new_start + length
        if item.kind == "occurrence":
            item.kind = "exception"
        self._touch(item)

    def delete(self, item_id: str) -> None:
        """Remove the occurrence from the calendar (a tombstone). Raises KeyError."""
        del self._items[item_id]
        self.change += 1
        self._tombstones.append(Tombstone(item_id, self.change))

    def expire(self) -> None:
        """End every delta token issued for the calendar view."""
        self.epoch += 1

    def _touch(self, item: CalendarItem) -> None:
        self.change += 1
        item.change = self.change
        item.modified = self.now()


def _ical_uid(uid: str, occurrence: datetime | None) -> str:
    """Outlook's iCalUId: differs for each occurrence of a series (resources/event)."""
    text = uid if occurrence is None else f"{uid}:{occurrence.isoformat()}"
    return (
        "040000008200E00074C5B7101A82E008" + hashlib.sha256(text.encode()).hexdigest()[:56].upper()
    )
