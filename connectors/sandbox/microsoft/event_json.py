"""Graph's `event` resource as the calendar view returns it (no `$select` there).

Calendars.ReadBasic leaves out `body` and `bodyPreview`; the sandbox holds no bodies, so with
Calendars.Read they come back empty. Times are `dateTimeTimeZone` values in the zone of
`Prefer: outlook.timezone` (UTC by default).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from keepwarm.connectors.sandbox.microsoft.events import CalendarItem
from keepwarm.connectors.sandbox.microsoft.message_json import utc
from keepwarm.connectors.types import Address, Attendee, ResponseStatus

__all__ = ["event_resource", "zone"]

# iCalendar PARTSTAT (keepwarm's ResponseStatus) -> Graph's responseStatus.response.
_RESPONSES = {
    ResponseStatus.ACCEPTED: "accepted",
    ResponseStatus.DECLINED: "declined",
    ResponseStatus.TENTATIVE: "tentativelyAccepted",
    ResponseStatus.NEEDS_ACTION: "notResponded",
}


def zone(name: str | None) -> tuple[str, ZoneInfo | None]:
    """The time zone a `Prefer: outlook.timezone` names: (name shown, zone); UTC when absent
    or unknown to the sandbox (it knows IANA names and UTC)."""
    if not name or name.upper() == "UTC":
        return "UTC", None
    try:
        return name, ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC", None


def event_resource(
    item: CalendarItem, owner: str, tz: tuple[str, ZoneInfo | None], *, bodies: bool
) -> dict[str, Any]:
    """The occurrence as a calendar-view delta page shows it."""
    organizer = item.organizer or Address(owner)
    is_organizer = organizer.email.lower() == owner.lower()
    attendees = [a for a in item.attendees if a.email.lower() != organizer.email.lower()]
    own = next((a for a in item.attendees if a.email.lower() == owner.lower()), None)
    if is_organizer:
        response = "organizer"
    elif own is not None:
        response = _RESPONSES[own.response]
    else:
        response = "none"
    body: dict[str, Any] = {
        "@odata.type": "#microsoft.graph.event",
        "@odata.etag": f'W/"{_change_key(item)}"',
        "id": item.id,
        "createdDateTime": utc(item.created),
        "lastModifiedDateTime": utc(item.modified),
        "changeKey": _change_key(item),
        "categories": [],
        "transactionId": None,
        "originalStartTimeZone": "UTC",
        "originalEndTimeZone": "UTC",
        "iCalUId": item.ical_uid,
        "reminderMinutesBeforeStart": 15,
        "isReminderOn": True,
        "hasAttachments": False,
        "subject": item.subject or "",
        "importance": "normal",
        "sensitivity": "normal",
        "isAllDay": item.all_day,
        "isCancelled": item.cancelled,
        "isOrganizer": is_organizer,
        "responseRequested": True,
        "seriesMasterId": item.series_id,
        "showAs": "free" if item.cancelled else "busy",
        "type": item.kind,
        "webLink": "https://outlook.office365.com/owa/?itemid="
        + item.id.replace("=", "%3D")
        + "&exvsurl=1&path=/calendar/item",
        "onlineMeetingUrl": None,
        "isOnlineMeeting": False,
        "onlineMeetingProvider": "unknown",
        "allowNewTimeProposals": True,
        "isDraft": False,
        "hideAttendees": False,
        "responseStatus": {"response": response, "time": "0001-01-01T00:00:00Z"},
    }
    if item.original_start is not None:
        body["originalStart"] = utc(item.original_start)
    if bodies:
        body["bodyPreview"] = ""
        body["body"] = {"contentType": "html", "content": ""}
    body.update(
        {
            "start": _when(item.start, item.all_day, tz),
            "end": _when(item.end, item.all_day, tz),
            "location": {
                "displayName": "",
                "locationType": "default",
                "uniqueIdType": "unknown",
                "address": {},
                "coordinates": {},
            },
            "locations": [],
            "recurrence": None,
            "attendees": [_attendee(a) for a in attendees],
            "organizer": {"emailAddress": _address(organizer)},
            "onlineMeeting": None,
        }
    )
    return body


def _when(moment: datetime, all_day: bool, tz: tuple[str, ZoneInfo | None]) -> dict[str, str]:
    name, info = tz
    if all_day:
        # An all-day event spans whole days in whatever zone it is shown in.
        local = moment.replace(tzinfo=None)
    else:
        local = (moment.astimezone(info) if info else moment.astimezone(UTC)).replace(tzinfo=None)
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": name}


def _attendee(attendee: Attendee) -> dict[str, Any]:
    return {
        "type": "resource" if attendee.is_resource else "required",
        "status": {"response": _RESPONSES[attendee.response], "time": "0001-01-01T00:00:00Z"},
        "emailAddress": _address(Address(attendee.email, attendee.name)),
    }


def _address(address: Address) -> dict[str, str]:
    return {"name": address.name or address.email, "address": address.email}


def _change_key(item: CalendarItem) -> str:
    return "EZ9r3czxY0m2jz8c45czkw" + format(item.change, "x").rjust(8, "0") + "=="
