"""Per-user quotas over a moving window, and the counters a benchmark reads.

Gmail allows 250 units per user per moving second (each method has a cost in units; a batch
costs the sum of its calls); Calendar counts requests. A request that would overdraw the window
is refused with 429 and costs nothing, as Google does not charge refused calls.
"""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime

from keepwarm.connectors.sandbox.google.errors import ApiError

__all__ = ["GMAIL_COSTS", "MovingWindow", "QuotaMeter"]

# Units per call (developers.google.com/gmail/api/reference/quota), by discovery method id.
GMAIL_COSTS = {
    "gmail.users.getProfile": 1,
    "gmail.users.labels.list": 1,
    "gmail.users.history.list": 2,
    "gmail.users.messages.list": 5,
    "gmail.users.messages.get": 5,
    "gmail.users.threads.get": 10,
}


class MovingWindow:
    """Units spent during the last `seconds`, per key, against a `limit`."""

    def __init__(self, limit: int, seconds: float, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.seconds = seconds
        self._clock = clock
        self._spent: dict[str, deque[tuple[float, int]]] = {}
        self._totals: dict[str, int] = {}  # the sum over each deque, kept as it changes

    def try_spend(self, key: str, units: int) -> float | None:
        """Spend `units` for `key` and return None, or spend nothing and return how many seconds
        until they would fit."""
        now = self._clock()
        spent = self._spent.setdefault(key, deque())
        total = self._totals.get(key, 0)
        while spent and spent[0][0] <= now - self.seconds:
            total -= spent.popleft()[1]
        self._totals[key] = total
        if total + units <= self.limit:
            spent.append((now, units))
            self._totals[key] = total + units
            return None
        if units > self.limit:
            return self.seconds
        excess = total + units - self.limit
        for at, held in spent:  # oldest first: how long until enough of them age out
            excess -= held
            if excess <= 0:
                return max(at + self.seconds - now, 0.001)
        return self.seconds


class QuotaMeter:
    """Gmail units and Calendar requests per user: limits, spending and counts."""

    def __init__(
        self,
        *,
        gmail_units_per_second: int,
        calendar_requests_per_second: int,
        clock: Callable[[], float],
    ) -> None:
        self._gmail = MovingWindow(gmail_units_per_second, 1.0, clock)
        self._calendar = MovingWindow(calendar_requests_per_second, 1.0, clock)
        self._units: Counter[str] = Counter()
        self._calls: dict[str, Counter[str]] = {}
        self._refused: dict[str, Counter[str]] = {}

    def charge(self, user: str, method: str) -> None:
        """Charge one call of discovery method `method` to `user`.

        Raises ApiError 429 (with Retry-After) when the user's window has no room for it.
        """
        if method.startswith("gmail."):
            units = GMAIL_COSTS.get(method, 5)
            wait = self._gmail.try_spend(user, units)
        else:
            units = 0  # Calendar has no unit costs, only a request rate
            wait = self._calendar.try_spend(user, 1)
        if wait is not None:
            self._refused.setdefault(user, Counter())[method] += 1
            raise rate_limited(wait, gmail=method.startswith("gmail."))
        self._units[user] += units
        self._calls.setdefault(user, Counter())[method] += 1

    def units_spent(self, user: str) -> int:
        """Gmail quota units charged to `user` so far (refused calls excluded)."""
        return self._units[user]

    def call_counts(self, user: str) -> dict[str, int]:
        """Served calls per discovery method id, e.g. {"gmail.users.messages.get": 50}."""
        return dict(self._calls.get(user, {}))

    def refused_counts(self, user: str) -> dict[str, int]:
        """Calls refused with 429 for lack of quota, per method."""
        return dict(self._refused.get(user, {}))


def rate_limited(wait: float, *, gmail: bool) -> ApiError:
    """429 as Gmail (or Calendar) sends it when a user's rate is exceeded.

    `Retry-After` is in whole seconds, at least 1; Gmail also names the moment in the message.
    """
    seconds = max(1, math.ceil(wait))
    retry = ("Retry-After", str(seconds))
    if not gmail:
        return ApiError(
            429,
            "Rate Limit Exceeded",
            "rateLimitExceeded",
            domain="usageLimits",
            with_status=False,
            headers=(retry,),
        )
    at = datetime.fromtimestamp(time.time() + wait, UTC).isoformat(timespec="milliseconds")
    message = f"User-rate limit exceeded.  Retry after {at.replace('+00:00', 'Z')}"
    return ApiError(429, message, "rateLimitExceeded", domain="usageLimits", headers=(retry,))
