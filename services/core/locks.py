"""One sync at a time per account: a Redis lease in production, a process lock embedded."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

import redis

__all__ = ["AccountLocks", "Lease", "LeaseLost", "LocalLocks", "RedisLocks"]

log = logging.getLogger(__name__)

# KEYS: the lock, this process's liveness key, the liveness key of the holder the caller saw
# (its own when it saw none). ARGV: our "holder:token", the lease's ttl (ms), the liveness ttl
# (ms), the lock's value as the caller saw it ("" for none). 1: taken; 2: taken from a dead
# holder; 0: busy, or changed since the caller looked (someone else was quicker).
# Every key it touches is declared, so Redis (and Redis Cluster, where the keys' hash tag puts
# them in one slot) knows them; the holder is read by the caller first for that reason.
# Our own liveness is set first, so nobody can see our lease without seeing us alive.
_ACQUIRE = """
redis.call('set', KEYS[2], '1', 'PX', ARGV[3])
local current = redis.call('get', KEYS[1])
if (current or '') ~= ARGV[4] then return 0 end
if current then
  if redis.call('exists', KEYS[3]) == 1 then return 0 end
end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
if current then return 2 end
return 1
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


class LeaseLost(Exception):
    """Raised by `Lease.renew` when another worker holds the lease now: stop working.

    It happens only to a process that went silent for longer than its liveness period (or a
    hung one whose lease ran out) and was taken for dead.
    """


@dataclass(frozen=True, slots=True)
class Lease:
    """Whether this caller holds the lock, and how to keep holding it while it works."""

    held: bool
    renew: Callable[[], None] = lambda: None


class AccountLocks(Protocol):
    """`hold(key)` yields a Lease; `held` is False when another worker has the lock."""

    def hold(self, key: str) -> AbstractContextManager[Lease]: ...


class _Liveness:
    """Keeps this process's liveness key fresh while it holds at least one lease.

    A thread of its own does it, so a holder waiting out a long Retry-After, or blocked on a
    slow provider, still shows it is alive; a killed process stops at once.
    """

    def __init__(self, client: redis.Redis, key: str, ttl_ms: int) -> None:
        self._client, self._key, self._ttl = client, key, ttl_ms
        self._guard = threading.Lock()
        self._holding = 0
        self._stop: threading.Event | None = None

    def enter(self) -> None:
        with self._guard:
            self._holding += 1
            if self._stop is None:
                self._stop = threading.Event()
                threading.Thread(
                    target=self._beat, args=(self._stop,), name="keepwarm-liveness", daemon=True
                ).start()

    def leave(self) -> None:
        with self._guard:
            self._holding -= 1
            if self._holding == 0 and self._stop is not None:
                self._stop.set()
                self._stop = None

    def _beat(self, stop: threading.Event) -> None:
        while not stop.wait(self._ttl / 3000):
            try:
                self._client.set(self._key, "1", px=self._ttl)
            except redis.RedisError as exc:  # Redis down: the leases lapse, as they should
                log.warning("could not renew worker liveness: %s", exc)


class RedisLocks:
    """SET NX leases that name their holding process, which keeps itself known to be alive.

    A lease is free when released, when its holder is dead (its liveness key, renewed every
    third of `liveness_ms` by a thread, has expired), or when the holder stopped renewing it
    for `ttl_ms` (a hung process; a working holder renews on every provider call). So a worker
    killed mid-sync frees its accounts within `liveness_ms`, and a live one never loses them.
    Release and renewal check the holder's token, so nobody frees a lock they do not hold.
    """

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        ttl_ms: int = 600_000,
        liveness_ms: int = 15_000,
    ) -> None:
        self._client, self._prefix, self._ttl = client, prefix, ttl_ms
        self._liveness_ms = liveness_ms
        # One hash tag for the locks and the liveness keys: a script may only touch keys of
        # one slot on Redis Cluster.
        self._alive_prefix = f"{prefix}:{{locks}}:alive:"
        self._holder = uuid.uuid4().hex  # this process (one RedisLocks per runtime)
        self._liveness = _Liveness(client, self._alive_prefix + self._holder, liveness_ms)

    def lock_name(self, key: str) -> str:
        """The Redis key of the lock on `key`."""
        return f"{self._prefix}:{{locks}}:lock:{key}"

    @contextmanager
    def hold(self, key: str) -> Iterator[Lease]:
        name = self.lock_name(key)
        value = f"{self._holder}:{uuid.uuid4().hex}"
        own = self._alive_prefix + self._holder
        self._liveness.enter()
        try:
            seen = self._client.get(name)
            current = seen.decode() if isinstance(seen, bytes) else (seen or "")
            holder = current.partition(":")[0] if ":" in current else ""
            # A value naming no holder counts as held by someone alive: our own key exists.
            holder_alive = self._alive_prefix + holder if holder else own
            taken = int(
                self._client.eval(
                    _ACQUIRE,
                    3,
                    name,
                    own,
                    holder_alive,
                    value,
                    self._ttl,
                    self._liveness_ms,
                    current,
                )
            )
            if not taken:
                yield Lease(False)
                return
            if taken == 2:
                log.warning("took over %s from a worker that is no longer alive", key)

            def renew() -> None:
                if not self._client.eval(_RENEW, 1, name, value, self._ttl):
                    raise LeaseLost(f"{key}: another worker holds the lease now")

            try:
                yield Lease(True, renew)
            finally:
                self._client.eval(_RELEASE, 1, name, value)
        finally:
            self._liveness.leave()


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
