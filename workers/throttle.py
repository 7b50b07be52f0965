"""Keeping under a provider's per-user quota, shared by every worker on the same Redis."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

import redis

__all__ = ["LocalQuota", "Quota", "RedisQuota"]


class Quota(Protocol):
    """Blocks until `units` may be spent for `key` this second."""

    def spend(self, key: str, units: int) -> None: ...


class RedisQuota:
    """A one-second window per key in Redis (INCRBY on the current second's counter).

    All workers of a deployment share it, so ten of them syncing one mailbox still stay
    under Gmail's 250 units/s. When the second is full the caller sleeps into the next one:
    pacing, not a retry, so it costs no retry budget.
    """

    def __init__(
        self,
        client: redis.Redis,
        limit: int,
        prefix: str,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client, self._limit, self._prefix = client, limit, prefix
        self._clock, self._sleep = clock, sleep

    def spend(self, key: str, units: int) -> None:
        if units > self._limit:
            raise ValueError(f"{units} units in one call exceed the limit of {self._limit}/s")
        while True:
            now = self._clock()
            second = int(now)
            name = f"{self._prefix}:quota:{key}:{second}"
            pipe = self._client.pipeline()
            pipe.incrby(name, units)
            pipe.expire(name, 5)
            total = int(pipe.execute()[0])
            if total <= self._limit:
                return
            self._client.decrby(name, units)
            self._sleep(max(second + 1 - now, 0.01))


class LocalQuota:
    """The same window inside one process (embedded mode)."""

    def __init__(
        self,
        limit: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._limit, self._clock, self._sleep = limit, clock, sleep
        self._spent: dict[str, deque[tuple[float, int]]] = {}
        self._lock = threading.Lock()

    def spend(self, key: str, units: int) -> None:
        if units > self._limit:
            raise ValueError(f"{units} units in one call exceed the limit of {self._limit}/s")
        while True:
            with self._lock:
                now = self._clock()
                window = self._spent.setdefault(key, deque())
                while window and window[0][0] <= now - 1.0:
                    window.popleft()
                used = sum(u for _, u in window)
                if used + units <= self._limit:
                    window.append((now, units))
                    return
                wait = window[0][0] + 1.0 - now
            self._sleep(max(wait, 0.01))
