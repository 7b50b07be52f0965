"""What both sandboxes' calendars do alike with a seed occurrence: take its fields, and update
a stored occurrence only when they changed.

Ids, kinds and the stored shapes are each provider's own (`google.events`, `microsoft.events`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keepwarm.connectors.types import CalendarEvent

__all__ = ["seed_fields", "update_fields"]


def seed_fields(record: CalendarEvent, *, title: str) -> dict[str, Any]:
    """The fields a stored occurrence takes from `record`: start, end, all_day, its title
    (named `title`: Calendar's `summary`, Graph's `subject`), cancelled, organizer, attendees."""
    return {
        "start": record.start,
        "end": record.end,
        "all_day": record.all_day,
        title: record.summary,
        "cancelled": record.cancelled,
        "organizer": record.organizer,
        "attendees": record.attendees,
    }


def update_fields(item: object, fields: Mapping[str, object]) -> bool:
    """Set `fields` on `item`; False, and nothing set, when it already has every value."""
    if all(getattr(item, name) == value for name, value in fields.items()):
        return False
    for name, value in fields.items():
        setattr(item, name, value)
    return True
