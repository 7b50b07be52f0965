"""What "now" is: one injected clock, so tests and `--as-of` never depend on the wall clock.

Production code never calls `datetime.now()` itself: an entry point builds one `Clock` (the
system's, or a fixed one in tests) and passes it down. Link signing and verification, the
scheduler, sync ledgers and the lifecycle all read the same one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Clock", "fixed_clock", "system_clock"]

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def fixed_clock(moment: datetime) -> Clock:
    """A clock that always says `moment` (which must be timezone-aware)."""
    if moment.tzinfo is None:
        raise ValueError("a fixed clock needs a timezone-aware moment")
    return lambda: moment
