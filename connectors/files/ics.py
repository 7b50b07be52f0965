"""Read .ics files: one `CalendarEvent` per occurrence inside the window, recurrences expanded.

`icalendar` parses and `recurring_ical_events` expands (RRULE, RDATE, EXDATE, RECURRENCE-ID
overrides, X-WR-TIMEZONE). Real calendars are often broken somewhere, so failure is contained at
the smallest unit we can: a file icalendar cannot parse is re-read event by event, a calendar
whose expansion fails is re-expanded one series (UID) at a time, and a single occurrence that
cannot be converted becomes one `Unreadable`. Nothing here raises on content.
"""

from __future__ import annotations

import functools
import hashlib
import re
import warnings
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import recurring_ical_events
from icalendar import Calendar, Component, vRecur

from keepwarm.connectors.files.progress import Progress, file_size
from keepwarm.connectors.text import one_line
from keepwarm.connectors.types import (
    SINGLE_OCCURRENCE,
    Address,
    Attendee,
    CalendarEvent,
    PartlyRead,
    ResponseStatus,
    Unreadable,
)

__all__ = ["read_ics", "read_ics_bytes"]

Window = tuple[datetime, datetime]
T = TypeVar("T")

# A rule recurring more often than this before the window's end is read only this far (its
# COUNT): 10,000 is a daily meeting for 27 years, longer than the import's window.
SERIES_OCCURRENCES = 10_000
# And no file yields more occurrences than this: past it, one line says the rest was not read.
FILE_OCCURRENCES = 500_000
# One-off events expanded by one query: a query's occurrences are a list, so this bounds it.
SINGLES_PER_QUERY = 500

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
    gives one Unreadable. Never raises on content or I/O. Occurrences are yielded as they are
    expanded, never gathered: memory stays that of the parsed file, however many there are.
    """
    size = file_size(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        progress(size)
        yield Unreadable(str(path), f"cannot read: {exc.strerror or exc}")
        return
    yield from _quietly(_read(data, str(path), window))
    progress(size)


def read_ics_bytes(data: bytes, *, source: str, window: Window) -> list[CalendarEvent | Unreadable]:
    """The occurrences in `window` of every calendar in `data` (a file may hold several), as
    a list: for callers that want them all at once. Never raises."""
    return list(_quietly(_read(data, source, window)))


def _quietly(records: Iterator[T]) -> Iterator[T]:
    """`records`, with icalendar's warnings silenced around our own steps only.

    icalendar warns about guessed time zones and the like; the result is still usable, and a
    warning must not become an error in callers that run with warnings as errors. The filter
    is process-wide state, so it is set around each step and never left open across a yield.
    """
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                record = next(records)
            except StopIteration:
                return
        yield record


def _read(data: bytes, source: str, window: Window) -> Iterator[CalendarEvent | Unreadable]:
    try:
        calendars = Calendar.from_ical(data, multiple=True)
    except Exception as exc:  # icalendar raises ValueError, KeyError, ...
        yield from _salvage(data, source, window, exc)
        return
    if not calendars:
        yield Unreadable(source, "no calendar in file")
        return
    budget = _Budget(source)
    for calendar in calendars:
        yield from _calendar_events(_as_calendar(calendar), source, window, budget)


def _as_calendar(component: Component) -> Component:
    if component.name == "VCALENDAR":
        return component
    wrapper = Calendar()  # a bare VEVENT file; give it the calendar it lacks
    wrapper.add_component(component)
    return wrapper


class _Budget:
    """How many occurrences one file may still yield (FILE_OCCURRENCES in all)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.left = FILE_OCCURRENCES
        self.spent = False

    def take(
        self,
        occurrences: list[Component],
        convert: Callable[[Component], CalendarEvent | Unreadable],
    ) -> Iterator[CalendarEvent | Unreadable]:
        """Each of `occurrences` converted, while the budget lasts; then one line saying so."""
        for occurrence in occurrences:
            if self.left <= 0:
                if not self.spent:
                    self.spent = True
                    yield Unreadable(
                        self.source,
                        f"more than {FILE_OCCURRENCES:,} occurrences in the window: "
                        "the rest of the file was not read",
                    )
                return
            self.left -= 1
            yield convert(occurrence)


def _calendar_events(
    calendar: Component, source: str, window: Window, budget: _Budget
) -> Iterator[CalendarEvent | Unreadable]:
    events = []
    for event in calendar.subcomponents:
        if event.name != "VEVENT":
            continue
        if "DTSTART" not in event:
            uid = _text(event.get("UID")) or "?"
            yield Unreadable(f"{source}#{uid}", "event without DTSTART")
            continue
        if not _text(event.get("UID")):
            # Overrides can only be matched to their series by UID, and the CalendarEvent needs
            # an id that is stable across re-imports: derive one from what the event says.
            event["UID"] = _derived_uid(event)
        events.append(event)
    if not events:
        return
    for event in events:
        try:
            note = _bound_series(event, window[1])
        except Exception:  # a rule or date icalendar could not read: the expansion reports it
            note = None
        if note is not None:
            yield PartlyRead(f"{source}#{_text(event.get('UID'))}", note)
    unknown = _unknown_zones(calendar, events)
    if unknown:
        names = ", ".join(sorted(unknown))
        yield PartlyRead(source, f"unknown time zone {names}: its times were read as UTC")
    owner = _owner(calendar)
    cancelled = _text(calendar.get("METHOD")).upper() == "CANCEL"
    # RFC 5545: a UID names one event; RECURRENCE-ID names an instance of a series. A one-off
    # is keyed by its UID alone, so a re-export after the meeting moved updates it.
    recurring = {
        _text(e.get("UID")) for e in events if "RRULE" in e or "RDATE" in e or "RECURRENCE-ID" in e
    }
    groups = _by_uid(events)
    # One-off events are expanded together, a few hundred at a time (one query each, quick);
    # each series alone, so that what one series costs is bounded by its own (capped) rule.
    singles = [uid for uid in groups if uid not in recurring]
    batches = [
        singles[i : i + SINGLES_PER_QUERY] for i in range(0, len(singles), SINGLES_PER_QUERY)
    ]
    batches += [[uid] for uid in groups if uid in recurring]
    convert = functools.partial(
        _event, source=source, owner=owner, cancelled=cancelled, recurring=recurring
    )
    for batch in batches:
        try:
            occurrences = _expand(calendar, [e for uid in batch for e in groups[uid]], window)
        except Exception:  # one broken event fails the whole query: go on one at a time
            for uid in batch:
                try:
                    occurrences = _expand(calendar, groups[uid], window)
                except Exception as exc:
                    yield Unreadable(f"{source}#{uid}", f"cannot expand: {_describe(exc)}")
                    continue
                yield from budget.take(occurrences, convert)
        else:
            yield from budget.take(occurrences, convert)
        if budget.spent:
            return


def _expand(calendar: Component, events: Iterable[Component], window: Window) -> list[Component]:
    """Occurrences of `events` in `window`, expanded with the calendar's time zones.

    A list (the library's `after` iterator walks each rule from its start again for every
    step: quadratic), kept small by the caller: at most SINGLES_PER_QUERY one-off events, or
    one series whose rule _bound_series has capped.
    """
    subset = Calendar()
    for name, value in calendar.items():
        if name.upper() == "X-WR-TIMEZONE" and not _known_zone(_text(value)):
            continue  # it would fail every event; its times are floating instead (UTC)
        subset[name] = value
    for component in calendar.subcomponents:
        if component.name == "VTIMEZONE":
            subset.add_component(component)
    for event in events:
        subset.add_component(event)
    query = recurring_ical_events.of(subset)
    return list(query.between(window[0], window[1]))


def _unknown_zones(calendar: Component, events: Iterable[Component]) -> set[str]:
    """TZIDs that events name but neither the calendar defines nor the system knows.

    icalendar reads such a time as floating, and floating times are taken as UTC: the event
    is kept, hours off perhaps, and the user is told once per file rather than per event.
    """
    defined = {_text(c.get("TZID")) for c in calendar.subcomponents if c.name == "VTIMEZONE"}
    named: set[str] = set()
    for event in events:
        for key in ("DTSTART", "DTEND", "RECURRENCE-ID"):
            for value in _many(event.get(key)):
                params = getattr(value, "params", {})
                tzid = _text(params.get("TZID")) if params else ""
                if tzid and tzid not in defined:
                    named.add(tzid)
    default = _text(calendar.get("X-WR-TIMEZONE"))
    if default:
        named.add(default)
    return {tzid for tzid in named if not _known_zone(tzid)}


@functools.cache
def _known_zone(tzid: str) -> bool:
    try:
        zoneinfo.ZoneInfo(tzid.strip("/"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _bound_series(event: Component, end: datetime) -> str | None:
    """End a rule that would recur more than SERIES_OCCURRENCES times before `end` once it
    has (an UNTIL), and say so; None for every other event.

    Expanding walks a rule from its DTSTART, so a rule without end (FREQ=MINUTELY) costs time
    and memory by its frequency, not by what falls in the window: 26 years of minutes is 13
    million occurrences, and walking to the window from 1990 alone took 97 s. The bound is
    arithmetic (periods walked times what the BY parts can make of each), so it is never
    walked itself. Nobody meets a person more often than a few times a day: such a series is
    no relationship, and its first occurrences are still read.
    """
    rule = event.get("RRULE")
    if rule is None:
        return None
    rule = _one(rule)
    if "INTERVAL" in rule and (_first_int(rule.get("INTERVAL")) or 0) < 1:
        # RFC 5545 wants a positive INTERVAL; with 0 the expansion never moves on (it hung).
        del event["RRULE"]
        return "RRULE with INTERVAL below 1 is not a rule: read as a single event"
    start = _one(event.get("DTSTART")).dt
    period = _PERIOD.get(_text(rule.get("FREQ")).upper())
    if period is None:
        return None  # not a rule the expansion accepts: it reports it
    period *= _first_int(rule.get("INTERVAL")) or 1
    per_period = _most_per_period(rule)
    until = rule.get("UNTIL")
    last = min(end, _utc(_one(until))) if until else end
    walked = max((last - _utc(start)).total_seconds(), 0.0) / period + 1
    count = _first_int(rule.get("COUNT"))
    if min(walked * per_period, count or float("inf")) <= SERIES_OCCURRENCES:
        return None
    if period >= 86400 and per_period == 1 and walked <= _DAILY_WALK:
        # A plain daily (or rarer) rule has no more occurrences in the window than the
        # window has days, and walking to it from a few decades back is quick.
        return None
    periods = max(SERIES_OCCURRENCES // per_period, 1)
    cut = start + timedelta(seconds=(periods - 1) * period)  # UNTIL is inclusive
    if isinstance(cut, datetime) and cut.tzinfo is not None:
        cut = cut.astimezone(UTC)
    bounded = {key: value for key, value in rule.items() if key not in {"UNTIL", "COUNT"}}
    bounded["UNTIL"] = [cut]
    event["RRULE"] = vRecur(bounded)
    freq = _text(rule.get("FREQ")) or "?"
    return (
        f"recurs more than {SERIES_OCCURRENCES:,} times (FREQ={freq}): "
        f"read only up to {_utc(cut):%Y-%m-%d %H:%M}"
    )


def _most_per_period(rule: Mapping[str, Any]) -> int:
    """The most occurrences one period of `rule` can make: the product of its BY parts, each
    by the most it can expand to (RFC 5545's table). A weekday without an ordinal is up to 5
    of them in a month and 53 in a year (BYDAY=MO in a MONTHLY rule is every Monday), a day
    of the month is 12 in a year without BYMONTH; every other part is as many as it lists."""
    freq = _text(rule.get("FREQ")).upper()
    most = 1
    for key, value in rule.items():
        if not key.startswith("BY") or key == "BYSETPOS":
            continue
        values = value if isinstance(value, list) else [value]
        n = max(len(values), 1)
        if key == "BYDAY" and freq in {"MONTHLY", "YEARLY"}:
            spread = 5 if freq == "MONTHLY" or "BYMONTH" in rule else 53
            n = sum(1 if _text(day).lstrip("+-")[:1].isdigit() else spread for day in values)
        elif key == "BYMONTHDAY" and freq == "YEARLY" and "BYMONTH" not in rule:
            n *= 12
        most *= max(n, 1)
    return most


# Seconds between occurrences of each FREQ, before INTERVAL and the BY... parts (a month and a
# year at their shortest, so the bound stays an upper bound).
_PERIOD = {
    "SECONDLY": 1,
    "MINUTELY": 60,
    "HOURLY": 3600,
    "DAILY": 86400,
    "WEEKLY": 7 * 86400,
    "MONTHLY": 28 * 86400,
    "YEARLY": 365 * 86400,
}
# Periods a plain daily-or-rarer rule may walk before the window's end unbounded: from 1890.
_DAILY_WALK = 50_000


def _first_int(value: Any) -> int | None:
    try:
        return int(_one(value))
    except (TypeError, ValueError):
        return None


def _by_uid(events: Iterable[Component]) -> dict[str, list[Component]]:
    series: dict[str, list[Component]] = {}
    for event in events:
        series.setdefault(_text(event.get("UID")), []).append(event)
    return series


def _event(
    occurrence: Component, *, source: str, owner: str | None, cancelled: bool, recurring: set[str]
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
) -> Iterator[CalendarEvent | Unreadable]:
    """Read a file icalendar rejects as a whole, one VEVENT (and VTIMEZONE) block at a time."""
    text = data.decode("utf-8", "replace")
    events = _EVENT_BLOCK.findall(text)
    if not events:
        yield Unreadable(source, f"not a calendar: {_describe(error)}")
        return
    yield PartlyRead(source, f"broken calendar, read event by event: {_describe(error)}")
    head = "\r\n".join(_CALENDAR_PROPERTY.findall(text))
    zones = [block for block in _TZ_BLOCK.findall(text) if _parses(head, block)]
    good = []
    for block in events:
        if _parses(head, block):
            good.append(block)
        else:
            uid = _UID_LINE.search(block)
            label = uid.group(1).strip() if uid else "?"
            yield Unreadable(f"{source}#{label}", "unparseable event")
    if good:
        try:
            calendar = Calendar.from_ical(_wrap(head, *zones, *good))
        except Exception as exc:  # each parsed alone, not together
            yield Unreadable(source, f"unparseable events: {_describe(exc)}")
        else:
            yield from _calendar_events(calendar, source, window, _Budget(source))


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
    return one_line(str(_one(value)))


def _describe(exc: BaseException) -> str:
    message = " ".join(str(exc).split())[:120]
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
