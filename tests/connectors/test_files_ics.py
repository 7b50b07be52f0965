""".ics: recurrence expansion inside the window, overrides, cancellations, answers, damage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keepwarm.connectors.files import read_paths
from keepwarm.connectors.files.ics import read_ics_bytes
from keepwarm.connectors.types import Address, Attendee, CalendarEvent, ResponseStatus, Unreadable

ICS = Path(__file__).resolve().parents[1] / "data" / "ics"
RECUR = ICS / "icaljs" / "recur_instances.ics"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def read(path: Path, start: datetime, end: datetime) -> list[CalendarEvent | Unreadable]:
    records = list(read_paths([path], window=(start, end)))
    assert all(isinstance(r, CalendarEvent | Unreadable) for r in records)
    return records  # type: ignore[return-value]


def events(path: Path, start: datetime, end: datetime) -> list[CalendarEvent]:
    records = read(path, start, end)
    assert all(isinstance(r, CalendarEvent) for r in records), records
    return sorted(records, key=lambda e: e.occurrence_start)  # type: ignore[arg-type]


def test_rrule_rdate_exdate_and_moved_instances() -> None:
    # Monthly on the first Tuesday, 10:00 America/Los_Angeles, from 2012-10-02; RDATEs on
    # Nov 5, 10 and 30; EXDATEs on Dec 4, Feb 5 and Apr 2; the Oct 2 instance moved to 15:00 and
    # the Nov 5 one to Nov 6 20:00.
    found = events(RECUR, utc(2012, 9, 1), utc(2013, 4, 30))
    assert [(e.occurrence_start, e.start) for e in found] == [
        (utc(2012, 10, 2, 17), utc(2012, 10, 2, 22)),  # moved: RECURRENCE-ID stays the key
        (utc(2012, 11, 5, 18), utc(2012, 11, 7, 4)),  # moved to Nov 6 20:00 PST
        (utc(2012, 11, 6, 18), utc(2012, 11, 6, 18)),
        (utc(2012, 11, 10, 18), utc(2012, 11, 10, 18)),
        (utc(2012, 11, 30, 18), utc(2012, 11, 30, 18)),
        (utc(2013, 1, 1, 18), utc(2013, 1, 1, 18)),
        (utc(2013, 3, 5, 18), utc(2013, 3, 5, 18)),
    ]  # Dec 4, Feb 5 and Apr 2 are EXDATEs
    assert {e.uid for e in found} == {"623c13c0-6c2b-45d6-a12b-c33ad61c4868"}
    assert all(e.end - e.start == timedelta(minutes=30) for e in found)
    assert all(not e.all_day and not e.cancelled for e in found)
    assert {e.organizer for e in found} == {Address("jlal@mozilla.com", "James Lal")}
    regular = found[2]
    assert regular.summary == "Crazy Event Thingy!"
    assert regular.attendees == (
        Attendee("calmozilla1@gmail.com", "Sahaja Lal", ResponseStatus.ACCEPTED),
        Attendee("james@lightsofapollo.com", None, ResponseStatus.NEEDS_ACTION),
        Attendee("iam.revelation@gmail.com", None, ResponseStatus.NEEDS_ACTION),
    )
    assert found[0].attendees == ()  # the override lists none


def test_only_occurrences_inside_the_window() -> None:
    found = events(RECUR, utc(2012, 11, 6), utc(2013, 1, 31))
    assert [e.start for e in found] == [
        utc(2012, 11, 7, 4),
        utc(2012, 11, 6, 18),
        utc(2012, 11, 10, 18),
        utc(2012, 11, 30, 18),
        utc(2013, 1, 1, 18),
    ]
    assert events(RECUR, utc(2000, 1, 1), utc(2012, 10, 1)) == []


def test_google_export_names_the_owner() -> None:
    found = events(ICS / "icaljs" / "daily_recur.ics", utc(2012, 11, 1), utc(2012, 11, 7))
    assert [e.start for e in found] == [
        utc(2012, 11, 1, 12),
        utc(2012, 11, 2, 12),
        utc(2012, 11, 3, 12),
        utc(2012, 11, 4, 13),  # 05:00 Los Angeles, now PST
        utc(2012, 11, 5, 13),
        utc(2012, 11, 6, 13),
    ]
    assert {e.calendar_owner for e in found} == {"calmozilla1@gmail.com"}
    assert {e.uid for e in found} == {"tgh9qho17b07pk2n2ji3gluans@google.com"}
    assert found[0].summary == "Every day recurring"
    assert found[0].attendees == ()  # the VALARM's ATTENDEE is not a guest


def test_cancelled_instance_is_flagged() -> None:
    path = ICS / "recurring-ical-events" / "issue_18_cancel_status.ics"
    found = events(path, utc(2020, 1, 1), utc(2020, 2, 1))
    assert [(e.start, e.cancelled) for e in found] == [
        (utc(2020, 1, 28, 21), False),
        (utc(2020, 1, 29, 21), True),
        (utc(2020, 1, 30, 21), False),
    ]


def test_declined_attendee_and_organizer_flag() -> None:
    found = events(ICS / "apparmor" / "008-declined.ics", utc(2020, 1, 1), utc(2021, 1, 1))
    assert len(found) == 10  # second Tuesdays, March to December 2020
    assert found[0].start == utc(2020, 3, 10, 18)
    assert found[0].end == utc(2020, 3, 10, 19)
    assert found[0].organizer == Address("john.johansen@canonical.com", "John Johansen")
    assert found[0].calendar_owner is None
    assert found[0].attendees == (
        Attendee("apparmor@lists.ubuntu.com", None, ResponseStatus.NEEDS_ACTION),
        Attendee(
            "john.johansen@canonical.com",
            "John Johansen",
            ResponseStatus.NEEDS_ACTION,
            is_organizer=True,
        ),
        Attendee("otto@seravo.fi", None, ResponseStatus.DECLINED),
    )


def test_repeated_attendee_is_listed_once() -> None:
    path = ICS / "recurring-ical-events" / "subcomponents.ics"
    (event,) = events(path, utc(2019, 1, 1), utc(2020, 1, 1))
    # Redacted: organizer, four attendees and two resources all share one address.
    assert event.attendees == (
        Attendee(
            "redacted@example.com", "redacted", ResponseStatus.NEEDS_ACTION, is_organizer=True
        ),
    )
    assert event.start == utc(2019, 5, 27, 12)


def test_broken_calendar_keeps_its_valid_event() -> None:
    path = ICS / "icalendar" / "issue_104_broken_calendar.ics"
    records = read(path, utc(2014, 1, 1), utc(2015, 1, 1))
    assert isinstance(records[0], Unreadable)
    assert records[0].source == str(path)
    assert records[0].reason.startswith("broken calendar, read event by event: ValueError")
    (event,) = records[1:]
    assert isinstance(event, CalendarEvent)
    assert (event.summary, event.start, event.end) == (
        "Broken Eevnt",
        utc(2014, 4, 1),
        utc(2014, 4, 1, 1),
    )
    # The event has no UID: the one derived from it is stable across reads.
    again = read(path, utc(2014, 1, 1), utc(2015, 1, 1))[1]
    assert isinstance(again, CalendarEvent)
    assert event.uid == again.uid and event.uid.startswith("sha1-")


def test_several_calendars_in_one_file_and_unusable_events() -> None:
    path = ICS / "icalendar" / "issue_1050_multiple_calendars.ics"
    assert read(path, utc(2000, 1, 1), utc(2030, 1, 1)) == [
        Unreadable(f"{path}#event1@example.com", "event without DTSTART"),
        Unreadable(f"{path}#event2@example.com", "event without DTSTART"),
    ]
    path = ICS / "icalendar" / "invalid_duration.ics"
    (bad,) = read(path, utc(2000, 1, 1), utc(2030, 1, 1))
    assert isinstance(bad, Unreadable)
    assert bad.source == f"{path}#invalid-duration@example.com"
    assert bad.reason.startswith("cannot expand: ")


CALENDAR = b"""BEGIN:VCALENDAR
VERSION:2.0
METHOD:PUBLISH
BEGIN:VEVENT
UID:floating
DTSTART:20200101T100000
DTEND:20200101T103000
SUMMARY:Floating time
END:VEVENT
BEGIN:VEVENT
DTSTART;VALUE=DATE:20200101
SUMMARY:All day, no UID
ORGANIZER;CN="Room Booker":MAILTO:Booker@Example.com
ATTENDEE;CUTYPE=ROOM;CN=Room 1:mailto:room1@example.com
ATTENDEE;CN=Big room:mailto:c_123@resource.calendar.google.com
ATTENDEE;PARTSTAT=TENTATIVE:mailto:booker@example.com
ATTENDEE;PARTSTAT=DELEGATED:mailto:d@example.com
ATTENDEE:urn:uuid:no-address
END:VEVENT
BEGIN:VEVENT
UID:later
DTSTART:20200105T100000Z
DURATION:PT1H
END:VEVENT
END:VCALENDAR
"""


def test_floating_all_day_durations_and_resources() -> None:
    window = (utc(2020, 1, 1), utc(2020, 1, 6))
    floating, all_day, later = read_ics_bytes(CALENDAR, source="inline", window=window)
    assert isinstance(floating, CalendarEvent)
    assert (floating.start, floating.end) == (utc(2020, 1, 1, 10), utc(2020, 1, 1, 10, 30))
    assert isinstance(all_day, CalendarEvent)
    assert all_day.all_day
    assert (all_day.start, all_day.end) == (utc(2020, 1, 1), utc(2020, 1, 2))
    assert all_day.organizer == Address("booker@example.com", "Room Booker")
    assert all_day.attendees == (
        Attendee("room1@example.com", "Room 1", is_resource=True),
        Attendee("c_123@resource.calendar.google.com", "Big room", is_resource=True),
        Attendee("booker@example.com", None, ResponseStatus.TENTATIVE, is_organizer=True),
        Attendee("d@example.com", None, ResponseStatus.NEEDS_ACTION),
    )
    assert isinstance(later, CalendarEvent)
    assert later.end == utc(2020, 1, 5, 11)
    # A narrow window keeps only what overlaps it; floating times count as UTC.
    narrow = read_ics_bytes(
        CALENDAR, source="inline", window=(utc(2020, 1, 1, 9), utc(2020, 1, 1, 11))
    )
    assert {e.uid for e in narrow if isinstance(e, CalendarEvent)} == {"floating", all_day.uid}


def test_cancel_method_cancels_every_event() -> None:
    cancel = CALENDAR.replace(b"METHOD:PUBLISH", b"METHOD:CANCEL")
    found = read_ics_bytes(cancel, source="inline", window=(utc(2020, 1, 1), utc(2020, 2, 1)))
    assert found and all(isinstance(e, CalendarEvent) and e.cancelled for e in found)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(
            [
                b"BEGIN:VEVENT",
                b"END:VEVENT",
                b"DTSTART:20200101T100000Z",
                b"DTSTART:garbage",
                b"DTEND;VALUE=DATE:2020",
                b"RRULE:FREQ=DAILY;COUNT=3",
                b"RRULE:FREQ=NOPE",
                b"EXDATE:20200102T100000Z",
                b"RECURRENCE-ID:20200102T100000Z",
                b"UID:u",
                b"DURATION:P1D",
                b"DURATION:PXYZ",
                b"ATTENDEE;PARTSTAT=X:mailto:a@b.c",
                b"ORGANIZER:mailto:",
                b"BEGIN:VTIMEZONE",
                b"END:VTIMEZONE",
                b"TZID:Nowhere",
                b"DTSTART;TZID=Nowhere:20200101T100000",
                b"\xff\x00",
                b" folded",
                b"X",
            ]
        ),
        max_size=20,
    )
)
def test_calendar_reader_never_raises(lines: list[bytes]) -> None:
    data = b"BEGIN:VCALENDAR\r\n" + b"\r\n".join(lines) + b"\r\nEND:VCALENDAR\r\n"
    found = read_ics_bytes(data, source="fuzz", window=(utc(2019, 1, 1), utc(2021, 1, 1)))
    assert all(isinstance(r, CalendarEvent | Unreadable) for r in found)
