"""When a user's weekly digest is due, in their own time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from keepwarm.services.core.errors import InvalidInput

__all__ = ["WEEKDAYS", "DigestSlot", "digest_slot", "parse_timezone", "parse_weekday"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class DigestSlot:
    """The digest of one ISO week: its key ("2026-W47") and the moment it is due (UTC)."""

    week: str
    due_at: datetime


def parse_timezone(name: str) -> ZoneInfo:
    """An IANA zone ("Europe/Berlin"); raises InvalidInput naming the bad value."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"timezone: unknown IANA time zone {name!r}") from None


def parse_weekday(text: str) -> int:
    """0 for Monday ... 6 for Sunday, from "mon", "Monday" or "0"-"6"."""
    key = text.strip().lower()
    if key.isdigit() and int(key) < 7:
        return int(key)
    for index, day in enumerate(WEEKDAYS):
        if key[:3] == day and (len(key) == 3 or f"{day}{key[3:]}" == key):
            return index
    raise InvalidInput(f"weekday: expected mon..sun, got {text!r}")


def digest_slot(now: datetime, zone: ZoneInfo, weekday: int, hour: int) -> DigestSlot:
    """The digest slot of the ISO week that `now` falls in, in the user's zone.

    The week is the user's local week, not UTC's: someone in Auckland whose Monday has begun
    is in the new week while London is still on Sunday. The slot is the wall-clock hour on the
    chosen day; across a DST change it stays at that local hour (so its UTC time moves).
    A local hour skipped by a spring-forward change resolves to the first moment after it,
    and a repeated autumn hour to its first occurrence.
    """
    local = now.astimezone(zone)
    year, week, _ = local.isocalendar()
    monday = local.date() - timedelta(days=local.weekday())
    wall = datetime.combine(monday + timedelta(days=weekday), time(hour), tzinfo=zone)
    # fold=0 (PEP 495) reads a skipped wall time with the offset from before the gap, which
    # lands just after it, and a repeated one as its first occurrence: what we want.
    return DigestSlot(f"{year}-W{week:02d}", wall.astimezone(UTC))
