"""Calendar v3 resources as JSON: calendar list entries and events, as Google renders them.

Times are UTC (`...Z`, timeZone "UTC"): the sandbox keeps no event time zones. Cancelled events
carry only what Calendar guarantees for them: id, status and, for instances, recurringEventId
and originalStartTime.
"""

from __future__ import annotations

from datetime import UTC, datetime

from keepwarm.connectors.sandbox.google.events import EventStore, StoredEvent
from keepwarm.connectors.types import Attendee

__all__ = ["calendar_entry", "event_resource", "rfc3339"]

_STATUS = {"needs_action": "needsAction"}


def rfc3339(moment: datetime) -> str:
    """UTC with milliseconds and a Z, as Calendar writes `updated` and `created`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def calendar_entry(store: EventStore) -> dict[str, object]:
    """The primary calendar as a calendarList entry."""
    return {
        "kind": "calendar#calendarListEntry",
        "etag": f'"{store.token_epoch}"',
        "id": store.owner,
        "summary": store.owner,
        "timeZone": "UTC",
        "selected": True,
        "accessRole": "owner",
        "defaultReminders": [],
        "primary": True,
    }


def _when(moment: datetime, all_day: bool) -> dict[str, str]:
    if all_day:
        return {"date": moment.date().isoformat()}
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "timeZone": "UTC"}


def event_resource(event: StoredEvent, owner: str) -> dict[str, object]:
    """An event as events.list/get return it; `owner` decides the `self` flags."""
    etag = f'"{int(event.updated.timestamp() * 1000) * 1000 + event.change % 1000}"'
    body: dict[str, object] = {"kind": "calendar#event", "etag": etag, "id": event.id}
    if event.cancelled:  # Calendar guarantees only these fields for cancelled events
        body["status"] = "cancelled"
        if event.recurring_event_id is not None and event.original_start is not None:
            body["recurringEventId"] = event.recurring_event_id
            body["originalStartTime"] = _when(event.original_start, event.all_day)
        return body
    organizer = _person(event.organizer.email if event.organizer else owner, owner)
    if event.organizer is not None and event.organizer.name:
        organizer["displayName"] = event.organizer.name
    body.update(
        {
            "status": "confirmed",
            "created": rfc3339(event.created),
            "updated": rfc3339(event.updated),
            "summary": event.summary or "",
            "creator": dict(organizer),
            "organizer": organizer,
            "start": _when(event.start, event.all_day),
            "end": _when(event.end, event.all_day),
        }
    )
    if event.recurring_event_id is not None and event.original_start is not None:
        body["recurringEventId"] = event.recurring_event_id
        body["originalStartTime"] = _when(event.original_start, event.all_day)
    body["iCalUID"] = event.ical_uid
    body["sequence"] = event.sequence
    if event.attendees:
        body["attendees"] = [_attendee(attendee, owner) for attendee in event.attendees]
    body["reminders"] = {"useDefault": True}
    body["eventType"] = "default"
    return body


def _person(email: str, owner: str) -> dict[str, object]:
    person: dict[str, object] = {"email": email}
    if email.lower() == owner.lower():
        person["self"] = True
    return person


def _attendee(attendee: Attendee, owner: str) -> dict[str, object]:
    body = _person(attendee.email, owner)
    if attendee.name:
        body["displayName"] = attendee.name
    if attendee.is_organizer:
        body["organizer"] = True
    if attendee.is_resource:
        body["resource"] = True
    body["responseStatus"] = _STATUS.get(attendee.response.value, attendee.response.value)
    return body
