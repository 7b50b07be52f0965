"""Google Calendar events through google-api-python-client, with sync tokens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import google.oauth2.credentials

from keepwarm.connectors.google.translate import HTTP_TIMEOUT, authorized_service, execute
from keepwarm.connectors.text import one_line
from keepwarm.connectors.types import (
    SINGLE_OCCURRENCE,
    Address,
    Attendee,
    CalendarEvent,
    ResponseStatus,
)

__all__ = ["CalendarPage", "CalendarReader", "to_calendar_event"]

_RESPONSES = {
    "accepted": ResponseStatus.ACCEPTED,
    "declined": ResponseStatus.DECLINED,
    "tentative": ResponseStatus.TENTATIVE,
    "needsAction": ResponseStatus.NEEDS_ACTION,
}


@dataclass(frozen=True, slots=True)
class CalendarPage:
    """One page of events.list; `next_sync_token` only on the last page."""

    events: tuple[CalendarEvent, ...]
    next_page_token: str | None
    next_sync_token: str | None


def _when(value: dict[str, Any] | None) -> tuple[datetime | None, bool]:
    if not value:
        return None, False
    if "dateTime" in value:
        return datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00")).astimezone(
            UTC
        ), False
    if "date" in value:
        return datetime.fromisoformat(value["date"]).replace(tzinfo=UTC), True
    return None, False


def to_calendar_event(item: dict[str, Any], calendar_id: str) -> CalendarEvent | None:
    """A Calendar v3 event (one occurrence: `singleEvents=true`) as a CalendarEvent.

    Identity is Google's: the event's id (the series' id, `recurringEventId`, for an instance)
    with the instance's original start, or SINGLE_OCCURRENCE for a one-off. Not the iCalUID, which
    cancelled and deleted events do not carry: Calendar guarantees them only `id` (and an
    instance's `recurringEventId` and `originalStartTime`), so they come back as tombstones
    that mark the stored occurrence cancelled, never dropped and never a new row.
    """
    event_id = item.get("id")
    if not event_id:
        return None
    series = item.get("recurringEventId")
    start, all_day = _when(item.get("start"))
    end, _ = _when(item.get("end"))
    original, _ = _when(item.get("originalStartTime"))
    occurrence = (original or start) if series else SINGLE_OCCURRENCE
    if occurrence is None:
        return None
    cancelled = item.get("status") == "cancelled"
    uid = f"google:{series or event_id}"
    if start is None:
        if not cancelled:
            return None
        return CalendarEvent(
            source=f"gcal:{calendar_id}:{event_id}",
            uid=uid,
            occurrence_start=occurrence,
            start=original or SINGLE_OCCURRENCE,
            end=original or SINGLE_OCCURRENCE,
            summary=None,
            all_day=False,
            cancelled=True,
            organizer=None,
            attendees=(),
            tombstone=True,
        )
    organizer = item.get("organizer") or {}
    attendees = tuple(
        Attendee(
            email=str(a["email"]).lower(),
            name=_name(a.get("displayName")),
            response=_RESPONSES.get(a.get("responseStatus", ""), ResponseStatus.NEEDS_ACTION),
            is_resource=bool(a.get("resource")),
            is_organizer=bool(a.get("organizer")),
        )
        for a in item.get("attendees", [])
        if a.get("email")
    )
    return CalendarEvent(
        source=f"gcal:{calendar_id}:{event_id}",
        uid=uid,
        occurrence_start=occurrence,
        start=start,
        end=end or start + (timedelta(days=1) if all_day else timedelta(0)),
        summary=one_line(str(item.get("summary") or "")) or None,
        all_day=all_day,
        cancelled=cancelled,
        organizer=(
            Address(str(organizer["email"]).lower(), _name(organizer.get("displayName")))
            if organizer.get("email")
            else None
        ),
        attendees=attendees,
        calendar_owner=None,
    )


def _name(value: object) -> str | None:
    return one_line(str(value)) or None if value else None


class CalendarReader:
    """Reads the user's calendars; raises connectors.errors on failure (410 → CursorExpired).

    `timeout` is the seconds a call may wait for an answer; a call that waits longer fails with
    ProviderUnavailable.
    """

    def __init__(
        self,
        credentials: google.oauth2.credentials.Credentials,
        *,
        api_base: str | None = None,
        timeout: float = HTTP_TIMEOUT,
        spend: Callable[[int], None] = lambda units: None,
    ) -> None:
        endpoint = api_base.rstrip("/") + "/calendar/v3/" if api_base else None
        self._service, self._http = authorized_service(
            "calendar", "v3", credentials, endpoint, timeout
        )
        self._spend = spend

    def close(self) -> None:
        """Close the connections to the provider."""
        self._http.close()

    def calendars(self) -> list[str]:
        """Ids of the calendars the user owns or can write to (their own and shared ones)."""
        self._spend(1)
        data = execute(self._service.calendarList().list())
        return [
            str(c["id"])
            for c in data.get("items", [])
            if c.get("primary") or c.get("accessRole") in {"owner", "writer"}
        ]

    def page(
        self,
        calendar_id: str,
        *,
        sync_token: str | None,
        page_token: str | None,
        time_min: datetime,
    ) -> CalendarPage:
        """One page of occurrences: changes since `sync_token`, or all from `time_min`."""
        self._spend(1)
        kwargs: dict[str, Any] = {
            "calendarId": calendar_id,
            "singleEvents": True,
            "maxResults": 250,
        }
        if sync_token:
            kwargs["syncToken"] = sync_token
        else:
            kwargs["timeMin"] = time_min.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if page_token:
            kwargs["pageToken"] = page_token
        data = execute(self._service.events().list(**kwargs), cursor_statuses=(410,))
        events = tuple(
            e
            for e in (to_calendar_event(i, calendar_id) for i in data.get("items", []))
            if e is not None
        )
        return CalendarPage(events, data.get("nextPageToken"), data.get("nextSyncToken"))
