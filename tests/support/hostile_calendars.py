"""Hostile calendars for the adversarial tests and bench/attacks.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

__all__ = ["BAD_ZONES", "UNBOUNDED", "huge_calendar", "weekly_in_window"]

WEEKLY_START = datetime(2020, 1, 6, 10, tzinfo=UTC)


def _event(uid: str, start: str, *lines: str) -> str:
    body = "\r\n".join(lines)
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:{start}\r\nSUMMARY:{uid}\r\n"
        "ORGANIZER:mailto:ann@example.com\r\nATTENDEE:mailto:bob@example.org\r\n"
        f"{body}\r\nEND:VEVENT\r\n"
    )


def _calendar(*events: str, head: str = "") -> str:
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{head}{''.join(events)}END:VCALENDAR\r\n"


# Rules with no end that recur every minute (one from before any window), one daily rule that
# its BY parts make minutely, beside a weekly meeting without end and a one-off.
UNBOUNDED = _calendar(
    _event("minutely", "20200101T000000Z", "RRULE:FREQ=MINUTELY"),
    _event("minutely-1990", "19900101T000000Z", "RRULE:FREQ=MINUTELY"),
    _event(
        "daily-every-minute",
        "20200101T000000Z",
        "RRULE:FREQ=DAILY;BYHOUR="
        + ",".join(map(str, range(24)))
        + ";BYMINUTE="
        + ",".join(map(str, range(60))),
    ),
    _event("weekly", f"{WEEKLY_START:%Y%m%dT%H%M%SZ}", "DURATION:PT1H", "RRULE:FREQ=WEEKLY"),
    _event("once", "20210301T100000Z", "DURATION:PT1H"),
)


def weekly_in_window(window: tuple[datetime, datetime]) -> int:
    """Occurrences of UNBOUNDED's weekly meeting that start inside `window`."""
    start = max(WEEKLY_START, window[0])
    weeks = (window[1] - WEEKLY_START).days // 7 + 1
    skipped = max(0, (start - WEEKLY_START).days // 7)
    return weeks - skipped


# Zones nobody knows: a TZID never defined, a VTIMEZONE that does not parse, a path as a
# TZID, an unknown default zone; and one event in UTC.
BAD_ZONES = _calendar(
    "BEGIN:VTIMEZONE\r\nTZID:Custom\r\nBEGIN:STANDARD\r\nDTSTART:garbage\r\n"
    "TZOFFSETFROM:+9999\r\nTZOFFSETTO:nonsense\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
    _event("custom", "20200301T100000", "DTEND:20200301T110000").replace(
        "DTSTART:", "DTSTART;TZID=Custom:"
    ),
    _event("unknown", "20200302T100000").replace("DTSTART:", "DTSTART;TZID=Mars/Olympus:"),
    _event("pathy", "20200303T100000").replace("DTSTART:", "DTSTART;TZID=../../etc/passwd:"),
    _event("fine", "20200304T100000Z", "DURATION:PT1H"),
    head="X-WR-TIMEZONE:Not/AZone\r\n",
)


def huge_calendar(path: Path, megabytes: float) -> Path:
    """A calendar of about `megabytes`: one-off meetings with a few guests, and one event in
    ten a weekly series of 52."""
    first = datetime(2020, 1, 1, 9, tzinfo=UTC)
    target = int(megabytes * 2**20)
    written = 0
    with path.open("w", newline="") as out:
        out.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-WR-CALNAME:ann@example.com\r\n")
        n = 0
        while written < target:
            start = first + timedelta(hours=n)
            guests = "\r\n".join(
                f"ATTENDEE;CN=Guest {n}-{g};PARTSTAT=ACCEPTED:mailto:g{n % 500}.{g}@example.org"
                for g in range(3)
            )
            series = n % 10 == 0
            text = _event(
                f"{'series' if series else 'one'}-{n}",
                f"{start:%Y%m%dT%H%M%SZ}",
                "DURATION:PT30M",
                guests,
                "DESCRIPTION:" + "agenda " * 20,
                *(["RRULE:FREQ=WEEKLY;COUNT=52"] if series else []),
            )
            out.write(text)
            written += len(text)
            n += 1
        out.write("END:VCALENDAR\r\n")
    return path
