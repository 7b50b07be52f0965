"""The Calendar side of the sandbox's state: one primary calendar of event occurrences.

Recurring series are held as their instances (ids `<series>_<UTC start>`, with
`recurringEventId` and `originalStartTime`), which is what `singleEvents=true` shows. Every
change takes the next number of a calendar-wide counter; a sync token names the counter it was
issued at, and an epoch that `expire_tokens` bumps. Not thread-safe: the app locks around it.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from keepwarm.connectors.sandbox.events import seed_fields, update_fields
from keepwarm.connectors.sandbox.google.seed import SeedEvent
from keepwarm.connectors.types import Address, Attendee

__all__ = ["EventStore", "StoredEvent", "event_ids"]


@dataclass(slots=True)
class StoredEvent:
    """One event or instance of a series, as Calendar holds it."""

    id: str
    ical_uid: str
    recurring_event_id: str | None
    original_start: datetime | None
    start: datetime
    end: datetime
    all_day: bool
    summary: str | None
    cancelled: bool
    organizer: Address | None
    attendees: tuple[Attendee, ...]
    created: datetime
    updated: datetime
    sequence: int
    change: int


def event_ids(uid: str, occurrence_start: datetime, *, recurring: bool, all_day: bool) -> str:
    """Calendar's id for an occurrence: base32hex characters, `_<start>` for instances."""
    digest = hashlib.sha1(uid.encode(), usedforsecurity=False).digest()
    base = base64.b32hexencode(digest).decode().rstrip("=").lower()[:26]
    if not recurring:
        return base
    stamp = occurrence_start.strftime("%Y%m%d" if all_day else "%Y%m%dT%H%M%SZ")
    return f"{base}_{stamp}"


class EventStore:
    """The primary calendar of the sandbox's user."""

    def __init__(self, owner: str, *, now: Callable[[], datetime]) -> None:
        self.owner = owner
        self.change = 0
        self.token_epoch = 0
        self._now = now
        self._events: dict[str, StoredEvent] = {}

    def add(self, seeds: Sequence[SeedEvent]) -> list[str]:
        """Store occurrences; one already held with other content is updated. Returns the ids
        added or changed."""
        touched = []
        for seed in seeds:
            record = seed.record
            event_id = event_ids(
                record.uid,
                record.occurrence_start,
                recurring=seed.recurring,
                all_day=record.all_day,
            )
            fields = seed_fields(record, title="summary")
            existing = self._events.get(event_id)
            if existing is not None:
                if not update_fields(existing, fields):
                    continue
                self._touch(existing)
            else:
                now = self._now()
                self.change += 1
                self._events[event_id] = StoredEvent(
                    id=event_id,
                    ical_uid=record.uid,
                    recurring_event_id=event_id.split("_", 1)[0] if seed.recurring else None,
                    original_start=record.occurrence_start if seed.recurring else None,
                    created=now,
                    updated=now,
                    sequence=0,
                    change=self.change,
                    **fields,
                )
            touched.append(event_id)
        return touched

    def get(self, event_id: str) -> StoredEvent | None:
        """The event with this id, None when there is none."""
        return self._events.get(event_id)

    def all(self) -> list[StoredEvent]:
        """Every event by start, then id."""
        return sorted(self._events.values(), key=lambda event: (event.start, event.id))

    def changed_after(self, change: int) -> list[StoredEvent]:
        """Events changed after counter value `change`, in order of change."""
        found = [event for event in self._events.values() if event.change > change]
        return sorted(found, key=lambda event: event.change)

    def cancel(self, event_id: str) -> None:
        """Cancel an event or one instance. Raises KeyError for an unknown id."""
        event = self._events[event_id]
        event.cancelled = True
        self._touch(event)

    def move(self, event_id: str, new_start: datetime) -> None:
        """Reschedule an event or one instance to `new_start` (aware), keeping its length; an
        instance keeps its originalStartTime. Raises KeyError for an unknown id, ValueError for
        a naive datetime."""
        if new_start.tzinfo is None:
            raise ValueError("new_start must be timezone-aware")
        event = self._events[event_id]
        length = event.end - event.start
        event.start, event.end = new_start, new_start + length
        self._touch(event)

    def expire_tokens(self) -> None:
        """Invalidate every sync token issued so far (a full sync is required: 410)."""
        self.token_epoch += 1

    def _touch(self, event: StoredEvent) -> None:
        self.change += 1
        event.change = self.change
        event.sequence += 1
        event.updated = self._now()
