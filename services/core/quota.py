"""Sharing a provider's per-user quota between every worker on the same Redis.

Two layers keep a sync under Gmail's 250 units per user per moving second:
- here, a budget per user (`KEEPWARM_GMAIL_UNITS_PER_SECOND`) that all processes draw from,
  counted when a call is about to be sent: it divides the user's quota between whoever calls;
- in the reader (connectors.google.pacing), a window counted when each call has been answered,
  the latest moment Gmail can have charged it: that one makes sure Gmail's own window is
  never overdrawn, whatever the network and server latency.

Both are moving one-second windows, the same in Redis (production) and in process (embedded).
The same windows, over 10 minutes, share Outlook's 10,000 requests per mailbox.
Waiting for room is pacing, not a retry, so it costs no retry budget.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Protocol

import redis

__all__ = ["LocalQuota", "Quota", "RedisQuota"]


class Quota(Protocol):
    """Blocks until `units` may be spent for `key` within the moving second."""

    def spend(self, key: str, units: int) -> None: ...


# KEYS[1]: the key's sorted set of spends (score: when, member: "<unique>:<units>").
# ARGV: now, window seconds, limit, units, a unique member id. Returns "0" when the units were
# spent, else the seconds until they would fit (as a string: Lua numbers lose their fraction
# on the way back).
_SPEND = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local limit, units = tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local spends = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local used = 0
for i = 1, #spends, 2 do
  used = used + tonumber(string.match(spends[i], ':(%d+)$'))
end
if used + units <= limit then
  redis.call('ZADD', KEYS[1], now, ARGV[5] .. ':' .. units)
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000) + 1000)
  return '0'
end
local excess = used + units - limit
for i = 1, #spends, 2 do
  excess = excess - tonumber(string.match(spends[i], ':(%d+)$'))
  if excess <= 0 then
    return tostring(math.max(tonumber(spends[i + 1]) + window - now, 0.001))
  end
end
return tostring(window)
"""


class RedisQuota:
    """A moving one-second window per key in Redis, checked and spent atomically (Lua).

    All workers of a deployment share it, so ten of them calling for one user still draw on
    one budget. `clock` is wall-clock seconds and must agree across machines (NTP keeps them
    within milliseconds, small against the window).
    """

    def __init__(
        self,
        client: redis.Redis,
        limit: int,
        prefix: str,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        window: float = 1.0,
    ) -> None:
        self._client, self._limit, self._prefix = client, limit, prefix
        self._clock, self._sleep, self._window = clock, sleep, window
        self._script = client.register_script(_SPEND)

    def spend(self, key: str, units: int) -> None:
        """Wait until `units` fit in `key`'s window, then spend them.

        Raises ValueError when `units` alone exceed the limit (they would never fit).
        """
        if units > self._limit:
            raise ValueError(f"{units} units in one call exceed the limit of {self._limit}")
        name = f"{self._prefix}:quota:{key}"
        while True:
            now = self._clock()
            args: list[str | float] = [
                repr(now),
                self._window,
                self._limit,
                units,
                uuid.uuid4().hex,
            ]
            wait = float(self._script(keys=[name], args=args))
            if wait <= 0:
                return
            self._sleep(wait)


class LocalQuota:
    """The same moving window inside one process (embedded mode)."""

    def __init__(
        self,
        limit: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        window: float = 1.0,
    ) -> None:
        self._limit, self._clock, self._sleep = limit, clock, sleep
        self._window = window
        self._spent: dict[str, deque[tuple[float, int]]] = {}
        self._lock = threading.Lock()

    def spend(self, key: str, units: int) -> None:
        """Wait until `units` fit in `key`'s window, then spend them.

        Raises ValueError when `units` alone exceed the limit (they would never fit).
        """
        if units > self._limit:
            raise ValueError(f"{units} units in one call exceed the limit of {self._limit}")
        while True:
            with self._lock:
                now = self._clock()
                window = self._spent.setdefault(key, deque())
                while window and window[0][0] <= now - self._window:
                    window.popleft()
                used = sum(u for _, u in window)
                if used + units <= self._limit:
                    window.append((now, units))
                    return
                excess, wait = used + units - self._limit, self._window
                for spent_at, spent in window:  # oldest first: until enough of them leave
                    excess -= spent
                    if excess <= 0:
                        wait = spent_at + self._window - now
                        break
            self._sleep(max(wait, 0.001))
