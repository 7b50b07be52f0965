"""A few places at once per key, shared by every worker: Outlook's 4 concurrent requests per
mailbox, whoever sends them.

In Redis (production) the places are a sorted set per key whose members expire: a request
holds its place for at most `ttl_ms` (longer than any request may take: the Graph timeout),
so a worker killed in the middle of a request frees its place by itself. Within one process
(embedded) a semaphore per key does the same. Waiting for a place is pacing, not a retry.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

import redis

__all__ = ["LocalSlots", "RedisSlots", "Slots"]


class Slots(Protocol):
    """`hold(key)` blocks until one of the key's places is free and holds it for the block."""

    def hold(self, key: str) -> AbstractContextManager[None]: ...


# KEYS[1]: the key's places (member: holder token, score: when the place expires).
# ARGV: now (ms), the limit, ttl (ms), our token. Returns 0 when the place is taken, else the
# milliseconds until the earliest place expires (an upper bound of the wait: a release comes
# sooner).
_TAKE = """
local now, limit, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ttl + 1000)
  return 0
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(tonumber(first[2]) - now, 1)
"""


class RedisSlots:
    """`limit` places per key across every process on the same Redis.

    `poll` bounds how long a waiter sleeps before it looks again (places are released far
    sooner than they expire). `clock` is wall-clock seconds, agreed across machines.
    """

    def __init__(
        self,
        client: redis.Redis,
        limit: int,
        prefix: str,
        *,
        ttl_ms: int = 120_000,
        poll: float = 0.02,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._client, self._limit, self._prefix = client, limit, prefix
        self._ttl, self._poll = ttl_ms, poll
        self._clock, self._sleep = clock, sleep
        self._take = client.register_script(_TAKE)

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        name = f"{self._prefix}:slots:{key}"
        token = uuid.uuid4().hex
        while True:
            now = int(self._clock() * 1000)
            wait = int(self._take(keys=[name], args=[now, self._limit, self._ttl, token]))
            if wait == 0:
                break
            self._sleep(min(wait / 1000, self._poll))
        try:
            yield
        finally:
            self._client.zrem(name, token)

    def held(self, key: str) -> int:
        """Places of `key` taken right now (expired ones excluded)."""
        name = f"{self._prefix}:slots:{key}"
        return int(self._client.zcount(name, int(self._clock() * 1000), "+inf"))


class LocalSlots:
    """`limit` places per key within one process."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._limit = limit
        self._semaphores: dict[str, threading.BoundedSemaphore] = {}
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            semaphore = self._semaphores.setdefault(key, threading.BoundedSemaphore(self._limit))
        with semaphore:
            yield
