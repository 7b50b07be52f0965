"""One sync at a time per account: a Redis lease in production, a process lock embedded."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

import redis

__all__ = ["AccountLocks", "Lease", "LocalLocks", "RedisLocks"]

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


@dataclass(frozen=True, slots=True)
class Lease:
    """Whether this caller holds the lock, and how to keep holding it while it works."""

    held: bool
    renew: Callable[[], None] = lambda: None


class AccountLocks(Protocol):
    """`hold(key)` yields a Lease; `held` is False when another worker has the lock."""

    def hold(self, key: str) -> AbstractContextManager[Lease]: ...


class RedisLocks:
    """SET NX with a short expiry, renewed by the holder as it works.

    A worker killed mid-sync stops renewing, so its lease lapses within `ttl_ms` and the next
    sync of that account (the scheduler's, or a retry) can run; a live one never loses it.
    Release and renewal check the holder's token, so nobody frees a lock they do not hold.
    """

    def __init__(self, client: redis.Redis, prefix: str, ttl_ms: int = 600_000) -> None:
        self._client, self._prefix, self._ttl = client, prefix, ttl_ms

    @contextmanager
    def hold(self, key: str) -> Iterator[Lease]:
        name, token = f"{self._prefix}:lock:{key}", uuid.uuid4().hex
        if not self._client.set(name, token, nx=True, px=self._ttl):
            yield Lease(False)
            return

        def renew() -> None:
            self._client.eval(_RENEW, 1, name, token, self._ttl)

        try:
            yield Lease(True, renew)
        finally:
            self._client.eval(_RELEASE, 1, name, token)


class LocalLocks:
    """Non-blocking locks within one process."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, key: str) -> Iterator[Lease]:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        if not lock.acquire(blocking=False):
            yield Lease(False)
            return
        try:
            yield Lease(True)
        finally:
            lock.release()
