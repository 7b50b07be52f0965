"""One sync at a time per account: a Redis lock in production, a process lock embedded."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

import redis

__all__ = ["AccountLocks", "LocalLocks", "RedisLocks"]

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class AccountLocks(Protocol):
    """`hold(key)` yields True when this caller holds the lock, False when another does."""

    def hold(self, key: str) -> AbstractContextManager[bool]: ...


class RedisLocks:
    """SET NX with an expiry (a killed worker's lock lapses) and a token-checked release."""

    def __init__(self, client: redis.Redis, prefix: str, ttl_ms: int = 3_600_000) -> None:
        self._client, self._prefix, self._ttl = client, prefix, ttl_ms

    @contextmanager
    def hold(self, key: str) -> Iterator[bool]:
        name, token = f"{self._prefix}:lock:{key}", uuid.uuid4().hex
        if not self._client.set(name, token, nx=True, px=self._ttl):
            yield False
            return
        try:
            yield True
        finally:
            self._client.eval(_RELEASE, 1, name, token)


class LocalLocks:
    """Non-blocking locks within one process."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, key: str) -> Iterator[bool]:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        if not lock.acquire(blocking=False):
            yield False
            return
        try:
            yield True
        finally:
            lock.release()
