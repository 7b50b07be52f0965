"""Builders of test data: hand-made histories for the engine, calendars for the prompts, and a
clock the test moves by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from keepwarm.services.reconnect import ContactHistory, InteractionPoint

__all__ = ["ME", "T0", "Clock", "attendees", "calendar", "event", "history", "stamp"]

# A moment the engine tests count days from.
T0 = datetime(2001, 1, 1, 12, tzinfo=UTC)
# The owner of the calendars built here.
ME = "me@corp.example"


def history(
    pid: int, days: list[int], kind: str = "sent", size: int = 1, name: str | None = None
) -> ContactHistory:
    """Person `pid`'s interactions, one on each of `days` after T0."""
    points = tuple(
        InteractionPoint(T0 + timedelta(days=d), kind, size, f"subject {d}") for d in days
    )
    return ContactHistory(pid, name, (f"p{pid}@example.com",), points)


def stamp(at: datetime) -> str:
    """An iCalendar UTC time stamp."""
    return at.strftime("%Y%m%dT%H%M%SZ")


def attendees(*people: str, me: str = "ACCEPTED") -> str:
    """ATTENDEE lines: the owner (with their answer) and each of `people`, accepted."""
    lines = [f"ATTENDEE;PARTSTAT={me};CN=Me:mailto:{ME}"]
    lines += [f"ATTENDEE;PARTSTAT=ACCEPTED;CN={p.split('@')[0].title()}:mailto:{p}" for p in people]
    return "\n".join(lines)


def event(uid: str, summary: str, start: datetime, hours: float, body: str, extra: str = "") -> str:
    """One VEVENT organised by the owner."""
    end = start + timedelta(hours=hours)
    return (
        f"BEGIN:VEVENT\nUID:{uid}\nSUMMARY:{summary}\nDTSTART:{stamp(start)}\n"
        f"DTEND:{stamp(end)}\nORGANIZER:mailto:{ME}\n{body}\n{extra}END:VEVENT\n"
    )


def calendar(*events: str) -> str:
    """A VCALENDAR around `events`."""
    return (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//keepwarm tests//EN\n"
        + "".join(events)
        + "END:VCALENDAR\n"
    )


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now
