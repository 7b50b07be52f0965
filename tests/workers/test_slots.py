"""Places per mailbox across workers (Outlook's 4 concurrent requests) and the 10-minute
request budget (Outlook's 10,000), on a real Redis and in process."""

from __future__ import annotations

import threading
from contextlib import ExitStack

import redis

from keepwarm.services.core.quota import LocalQuota, RedisQuota
from keepwarm.services.core.slots import LocalSlots, RedisSlots


class FakeClock:
    """Time that moves only when a waiter sleeps."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


class Gate:
    """A sleep that says when a waiter started waiting, and lets it go only when told."""

    def __init__(self) -> None:
        self.waiting = threading.Event()
        self.go = threading.Event()

    def sleep(self, seconds: float) -> None:
        self.waiting.set()
        self.go.wait(10)


def test_redis_slots_let_four_in_and_the_fifth_waits_for_a_release(
    redis_url: tuple[str, str],
) -> None:
    client = redis.Redis.from_url(redis_url[0])
    gate = Gate()
    worker_a = RedisSlots(client, 4, redis_url[1])
    worker_b = RedisSlots(client, 4, redis_url[1], sleep=gate.sleep)
    entered = threading.Event()

    def fifth() -> None:
        with worker_b.hold("graph:ann"):
            entered.set()

    with ExitStack() as held:
        first = held.enter_context(_Holding(worker_a, "graph:ann"))
        for _ in range(3):
            held.enter_context(_Holding(worker_a, "graph:ann"))
        with worker_b.hold("graph:bo"):  # another mailbox has places of its own
            assert worker_a.held("graph:bo") == 1
        thread = threading.Thread(target=fifth)
        thread.start()
        assert gate.waiting.wait(10) and not entered.is_set()
        assert worker_a.held("graph:ann") == 4
        first.release()
        gate.go.set()
        thread.join(10)
        assert entered.is_set()
    assert worker_a.held("graph:ann") == 0
    client.close()


def test_a_dead_workers_place_expires(redis_url: tuple[str, str]) -> None:
    client = redis.Redis.from_url(redis_url[0])
    clock = FakeClock()
    slots = RedisSlots(client, 1, redis_url[1], ttl_ms=60_000, clock=clock, sleep=clock.sleep)
    abandoned = slots.hold("graph:cy")
    abandoned.__enter__()  # a worker killed mid-request never leaves
    with slots.hold("graph:cy"):
        assert 59.9 <= clock.slept <= 60.1  # waited until the place expired
    client.close()


class _Holding:
    """A place held until released (or the stack closes)."""

    def __init__(self, slots: RedisSlots, key: str) -> None:
        self._context = slots.hold(key)
        self._open = False

    def __enter__(self) -> _Holding:
        self._context.__enter__()
        self._open = True
        return self

    def release(self) -> None:
        if self._open:
            self._open = False
            self._context.__exit__(None, None, None)

    def __exit__(self, *exc: object) -> None:
        self.release()


def test_local_slots() -> None:
    slots = LocalSlots(2)
    entered = threading.Event()

    def third() -> None:
        with slots.hold("m"):
            entered.set()

    with slots.hold("m"), slots.hold("m"):
        thread = threading.Thread(target=third)
        thread.start()
        assert not entered.wait(0.05)  # both places are taken
    thread.join(10)
    assert entered.is_set()


def test_ten_minute_budgets(redis_url: tuple[str, str]) -> None:
    clock = FakeClock()
    local = LocalQuota(3, clock=clock, sleep=clock.sleep, window=600.0)
    for _ in range(4):
        local.spend("graph:ann", 1)
    assert clock.slept == 600.0  # the fourth waited until the first left the window
    client = redis.Redis.from_url(redis_url[0])
    clock = FakeClock()
    shared = RedisQuota(client, 3, redis_url[1], clock=clock, sleep=clock.sleep, window=600.0)
    for _ in range(3):
        shared.spend("graph:ann", 1)
        clock.now += 10
    shared.spend("graph:ann", 1)
    assert 569.9 <= clock.slept <= 570.1
    client.close()
