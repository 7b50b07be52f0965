"""The per-account lease names its holding process: a dead holder frees it, a live one keeps it.

On a real Redis. A "process" here is a `RedisLocks` (each runtime builds one); a killed process
is a real one, killed with SIGKILL.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import redis

from keepwarm.services.core.locks import LeaseLost, RedisLocks
from tests.support.paths import REPO
from tests.support.shifted import python_command
from tests.support.sync import wait_for

_HOLD_FOREVER = """
import sys, threading, redis
from keepwarm.services.core.locks import RedisLocks
locks = RedisLocks(redis.Redis.from_url(sys.argv[1]), sys.argv[2], liveness_ms=300)
with locks.hold("account:1") as lease:
    assert lease.held
    print("held", flush=True)
    threading.Event().wait()
"""


@pytest.fixture
def client(redis_url: tuple[str, str]) -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(redis_url[0])
    yield c
    c.close()


def _alive_ttl(client: redis.Redis, namespace: str) -> int:
    [key] = list(client.scan_iter(f"{namespace}:{{locks}}:alive:*"))
    return int(client.pttl(key))


def test_a_killed_holders_lease_is_free_once_its_liveness_lapses(
    client: redis.Redis, redis_url: tuple[str, str]
) -> None:
    holder = subprocess.Popen(
        python_command("-c", _HOLD_FOREVER, *redis_url),
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        successor = RedisLocks(client, redis_url[1], liveness_ms=300)
        with successor.hold("account:1") as lease:
            assert not lease.held  # alive: nobody else may sync the account
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)

        def take() -> bool:
            with successor.hold("account:1") as lease:
                return lease.held

        # Well before the lease's own ten minutes: as soon as the dead process's liveness lapsed
        wait_for(take, "the dead holder's lease to become free", timeout=10)
    finally:
        holder.kill()
        holder.communicate()


def test_a_live_holder_keeps_its_lease_past_its_liveness_without_renewing_it(
    client: redis.Redis, redis_url: tuple[str, str]
) -> None:
    namespace = redis_url[1]
    holder = RedisLocks(client, namespace, ttl_ms=60_000, liveness_ms=300)
    other = RedisLocks(client, namespace, ttl_ms=60_000, liveness_ms=300)
    with holder.hold("account:2") as lease:
        assert lease.held
        # The holder makes no provider call (a long Retry-After, say) for several liveness
        # periods: its liveness is refreshed by itself, each refresh seen here
        last = [_alive_ttl(client, namespace)]

        def refreshed() -> bool:
            now = _alive_ttl(client, namespace)
            went_up, last[0] = now > last[0], now
            return went_up

        for _ in range(4):  # a refresh every 100 ms: 4 of them outlast the 300 ms liveness
            wait_for(refreshed, "a liveness refresh", timeout=5)
        with other.hold("account:2") as attempt:
            assert not attempt.held
        lease.renew()  # still the holder's
    with other.hold("account:2") as after:
        assert after.held  # released on exit


def test_a_holder_taken_for_dead_learns_it_lost_the_lease_and_frees_nothing(
    client: redis.Redis, redis_url: tuple[str, str]
) -> None:
    namespace = redis_url[1]
    # Liveness refreshed only every 20 s: deleting the key below passes for a death
    stalled = RedisLocks(client, namespace, liveness_ms=60_000)
    successor = RedisLocks(client, namespace, liveness_ms=60_000)
    with ExitStack() as stack:
        with stalled.hold("account:3") as lease:
            assert lease.held
            for key in client.scan_iter(f"{namespace}:{{locks}}:alive:*"):
                client.delete(key)
            taken = stack.enter_context(successor.hold("account:3"))
            assert taken.held
            with pytest.raises(LeaseLost):
                lease.renew()
        # The stalled holder has let go of a lease that was no longer its own: still taken
        taken.renew()
        with stalled.hold("account:3") as late:
            assert not late.held
    assert client.get(f"{namespace}:{{locks}}:lock:account:3") is None  # the successor released it
