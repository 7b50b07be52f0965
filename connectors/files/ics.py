"""Read .ics files: one `CalendarEvent` per occurrence inside the window, recurrences expanded.

`icalendar` parses and `recurring_ical_events` expands (RRULE, RDATE, EXDATE, RECURRENCE-ID
overrides, X-WR-TIMEZONE). Real calendars are often broken somewhere, so failure is contained at
the smallest unit we can: a file icalendar cannot parse is re-read event by event, a calendar
whose expansion fails is re-expanded one series (UID) at a time, and a single occurrence that
cannot be converted becomes one `Unreadable`. Nothing here raises on content.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import recurring_ical_events
from icalendar import Calendar, Component

from keepwarm.connectors.files.progress import Progress, file_size
from keepwarm.connectors.types import (
    SINGLE_OCCURRENCE,
    Address,
    Attendee,
    CalendarEvent,
    ResponseStatus,
    Unreadable,
)

__all__ = ["read_ics", "read_ics_bytes"]

Window = tuple[datetime, datetime]

_PARTSTAT = {
    "ACCEPTED": ResponseStatus.ACCEPTED,
    "DECLINED": ResponseStatus.DECLINED,
    "TENTATIVE": ResponseStatus.TENTATIVE,
    "NEEDS-ACTION": ResponseStatus.NEEDS_ACTION,
}
_RESOURCE_TYPES = frozenset({"RESOURCE", "ROOM"})
# Google books rooms as attendees with addresses in this domain (and often CUTYPE=INDIVIDUAL).
_RESOURCE_DOMAIN = "resource.calendar.google.com"
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")
_BLOCK = r"^BEGIN:{0}\r?$.*?^END:{0}\r?$"
_EVENT_BLOCK = re.compile(_BLOCK.format("VEVENT"), re.MULTILINE | re.DOTALL)
_TZ_BLOCK = re.compile(_BLOCK.format("VTIMEZONE"), re.MULTILINE | re.DOTALL)
_CALENDAR_PROPERTY = re.compile(r"^X-WR-(?:CALNAME|TIMEZONE):.*$", re.MULTILINE)
_UID_LINE = re.compile(r"^UID:(.*?)\r?$", re.MULTILINE)


def read_ics(
    path: Path, *, window: Window, progress: Progress
) -> Iterator[CalendarEvent | Unreadable]:
    """Yield the event occurrences of the .ics file at `path` that overlap `window`.

    Sources are the path; an Unreadable for one event is `path#UID`. A file that cannot be read
    gives one Unreadable. Never raises on content or I/O.
    """
    size = file_size(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        progress(size)
        yield Unreadable(str(path), f"cannot read: {exc.strerror or exc}")
        return
    results = read_ics_bytes(data, source=str(path), window=window)
    progress(size)
    yield from results


def read_ics_bytes(data: bytes, *, source: str, window: Window) -> list[CalendarEvent | Unreadable]:
    """The occurrences in `window` of every calendar in `data` (a file may hold several).

    Built as a list so icalendar's warnings about odd input can be silenced around our own calls
    only, never around the caller's code between yields. Never raises.
    """
    with warnings.catch_warnings():
        # icalendar warns about guessed time zones and the like; the result is still usable and
        # a warning must not become an error in callers that run with warnings as errors.
        # (catch_warnings swaps process-wide state: kept short, and never open across a yield.)
        warnings.simplefilter("ignore")
        try:
            calendars = Calendar.from_ical(data, multiple=True)
        except Exception as exc:  # icalendar raises ValueError, KeyError, ...
            return _salvage(data, source, window, exc)
        if not calendars:
            return [Unreadable(source, "no calendar in file")]
        results: list[CalendarEvent | Unreadable] = []
        for calendar in calendars:
            results.extend(_calendar_events(_as_calendar(calendar), source, window))
        return results


def _as_calendar(component: Component) -> Component:
    if component.name == "VCALENDAR":
        return component
    wrapper = Calendar()  # a bare VEVENT file; give it the calendar it lacks
    wrapper.add_component(component)
    return wrapper


def _calendar_events(
    calendar: Component, source: str, window: Window
) -> list[CalendarEvent | Unreadable]:
    results: list[CalendarEvent | Unreadable] = []
    events = []
    for event in calendar.subcomponents:
        if event.name != "VEVENT":
            continue
        if "DTSTART" not in event:
            uid = _text(event.get("UID")) or "?"
            results.append(Unreadable(f"{source}#{uid}", "event without DTSTART"))
            continue
        if not _text(event.get("UID")):
            # Overrides can only be matched to their series by UID, and the CalendarEvent needs
            # an id that is stable across re-imports: derive one from what the event says.
            event["UID"] = _derived_uid(event)
        events.append(event)
    if not events:
        return results
    owner = _owner(calendar)
    cancelled = _text(calendar.get("METHOD")).upper() == "CANCEL"
    # RFC 5545: a UID names one event; RECURRENCE-ID names an instance of a series. A one-off
    # is keyed by its UID alone, so a re-export after the meeting moved updates it.
    recurring = {
        _text(e.get("UID")) for e in events if "RRULE" in e or "RDATE" in e or "RECURRENCE-ID" in e
    }
    try:
        occurrences = _expand(calendar, events, window)
    except Exception:  # one broken series fails the whole query
        occurrences = None
    if occurrences is not None:
        results.extend(_event(o, source, owner, cancelled, recurring) for o in occurrences)
        return results
    for uid, series in _by_uid(events).items():
        try:
            occurrences = _expand(calendar, series, window)
        except Exception as exc:
            results.append(Unreadable(f"{source}#{uid}", f"cannot expand: {_describe(exc)}"))
            continue
        results.extend(_event(o, source, owner, cancelled, recurring) for o in occurrences)
    return results


def _expand(calendar: Component, events: Iterable[Component], window: Window) -> list[Component]:
    """Occurrences of `events` in `window`, expanded with the calendar's time zones."""
    subset = Calendar()
    for name, value in calendar.items():
        subset[name] = value
    for component in calendar.subcomponents:
        if component.name == "VTIMEZONE":
            subset.add_component(component)
    for event in events:
        subset.add_component(event)
    query = recurring_ical_events.of(subset)
    return list(query.between(window[0], window[1]))


def _by_uid(events: Iterable[Component]) -> dict[str, list[Component]]:
    series: dict[str, list[Component]] = {}
    for event in events:
        series.setdefault(_text(event.get("UID")), []).append(event)
    return series


def _event(
    occurrence: Component, source: str, owner: str | None, cancelled: bool, recurring: set[str]
) -> CalendarEvent | Unreadable:
    uid = _text(occurrence.get("UID"))
    try:
        start_value = _one(occurrence.get("DTSTART")).dt
        all_day = not isinstance(start_value, datetime)
        start = _utc(start_value)
        end = _end(occurrence, start, all_day)
        recurrence_id = _one(occurrence.get("RECURRENCE-ID"))
        organizer = _address(occurrence.get("ORGANIZER"))
        return CalendarEvent(
            source=source,
            uid=uid,
            occurrence_start=(
                SINGLE_OCCURRENCE
                if uid not in recurring
                else _utc(recurrence_id.dt)
                if recurrence_id is not None
                else start
            ),
            start=start,
            end=end,
            summary=_text(occurrence.get("SUMMARY")) or None,
            all_day=all_day,
            cancelled=cancelled or _text(occurrence.get("STATUS")).upper() == "CANCELLED",
            organizer=organizer,
            attendees=_attendees(occurrence.get("ATTENDEE"), organizer),
            calendar_owner=owner,
        )
    except Exception as exc:  # values icalendar accepted but that make no sense
        return Unreadable(f"{source}#{uid or '?'}", f"unreadable event: {_describe(exc)}")


def _end(occurrence: Component, start: datetime, all_day: bool) -> datetime:
    end_property = _one(occurrence.get("DTEND"))
    if end_property is not None:
        end = _utc(end_property.dt)
    elif occurrence.get("DURATION") is not None:
        end = start + _one(occurrence.get("DURATION")).dt
    else:  # RFC 5545 3.6.1: a date lasts the day, a date-time is an instant
        end = start + (timedelta(days=1) if all_day else timedelta(0))
    return max(end, start)  # some writers swap the two; never hand out negative durations


def _utc(value: object) -> datetime:
    """Aware UTC from an iCalendar value: floating times are taken as UTC, dates as midnight."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise TypeError(f"not a date or date-time: {type(value).__name__}")


def _attendees(value: object, organizer: Address | None) -> tuple[Attendee, ...]:
    attendees: dict[str, Attendee] = {}
    for person in _many(value):
        email = _mailto(person)
        if email is None or email in attendees:
            continue
        params = getattr(person, "params", {})
        kind = _text(params.get("CUTYPE")).upper()
        attendees[email] = Attendee(
            email=email,
            name=_common_name(params, email),
            response=_PARTSTAT.get(
                _text(params.get("PARTSTAT")).upper(), ResponseStatus.NEEDS_ACTION
            ),
            is_resource=kind in _RESOURCE_TYPES or email.endswith(_RESOURCE_DOMAIN),
            is_organizer=organizer is not None and email == organizer.email,
        )
    return tuple(attendees.values())


def _address(value: object) -> Address | None:
    person = _one(value)
    email = _mailto(person)
    if email is None:
        return None
    return Address(email, _common_name(getattr(person, "params", {}), email))


def _mailto(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if text[:7].lower() == "mailto:":
        text = text[7:]
    email = text.strip().lower()
    return email if "@" in email and " " not in email else None


def _common_name(params: Any, email: str) -> str | None:
    name = " ".join(_text(params.get("CN")).split()).strip("\"' ")
    return name if name and name.lower() != email else None


def _owner(calendar: Component) -> str | None:
    """Google names an exported calendar after its owner's address (X-WR-CALNAME)."""
    name = _text(calendar.get("X-WR-CALNAME")).strip().lower()
    return name if _EMAIL.fullmatch(name) else None


def _derived_uid(event: Component) -> str:
    start = event.get("DTSTART")
    start_text = start.to_ical().decode() if hasattr(start, "to_ical") else str(start)
    seed = f"{_text(event.get('SUMMARY'))}\n{start_text}"
    return "sha1-" + hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()[:24]


def _salvage(
    data: bytes, source: str, window: Window, error: Exception
) -> list[CalendarEvent | Unreadable]:
    """Read a file icalendar rejects as a whole, one VEVENT (and VTIMEZONE) block at a time."""
    text = data.decode("utf-8", "replace")
    events = _EVENT_BLOCK.findall(text)
    if not events:
        return [Unreadable(source, f"not a calendar: {_describe(error)}")]
    results: list[CalendarEvent | Unreadable] = [
        Unreadable(source, f"broken calendar, read event by event: {_describe(error)}")
    ]
    head = "\r\n".join(_CALENDAR_PROPERTY.findall(text))
    zones = [block for block in _TZ_BLOCK.findall(text) if _parses(head, block)]
    good = []
    for block in events:
        if _parses(head, block):
            good.append(block)
        else:
            uid = _UID_LINE.search(block)
            label = uid.group(1).strip() if uid else "?"
            results.append(Unreadable(f"{source}#{label}", "unparseable event"))
    if good:
        try:
            calendar = Calendar.from_ical(_wrap(head, *zones, *good))
        except Exception as exc:  # each parsed alone, not together
            results.append(Unreadable(source, f"unparseable events: {_describe(exc)}"))
        else:
            results.extend(_calendar_events(calendar, source, window))
    return results


def _parses(head: str, block: str) -> bool:
    try:
        Calendar.from_ical(_wrap(head, block))
    except Exception:
        return False
    return True


def _wrap(*blocks: str) -> str:
    body = "\r\n".join(block.strip() for block in blocks if block.strip())
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{body}\r\nEND:VCALENDAR\r\n"


def _one(value: Any) -> Any:
    """The first of a property that was (wrongly) given several times."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _many(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _text(value: object) -> str:
    if value is None:
        return ""
    return " ".join(str(_one(value)).split())


def _describe(exc: BaseException) -> str:
    message = " ".join(str(exc).split())[:120]
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
