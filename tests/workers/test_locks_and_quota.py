"""The per-account lease and the per-user quota, on a real Redis."""

from __future__ import annotations

import redis

from keepwarm.services.core.locks import LocalLocks, RedisLocks
from keepwarm.services.core.quota import LocalQuota, RedisQuota


def test_one_holder_at_a_time_and_only_the_holder_releases(redis_url: tuple[str, str]) -> None:
    client = redis.Redis.from_url(redis_url[0])
    locks = RedisLocks(client, redis_url[1], ttl_ms=60_000)
    with locks.hold("account:1") as first:
        assert first.held
        with locks.hold("account:1") as second:
            assert not second.held
        with locks.hold("account:2") as other:
            assert other.held
    with locks.hold("account:1") as again:
        assert again.held
    client.close()


def test_a_dead_holders_lease_lapses_and_a_live_one_is_renewed(
    redis_url: tuple[str, str],
) -> None:
    client = redis.Redis.from_url(redis_url[0])
    locks = RedisLocks(client, redis_url[1], ttl_ms=60_000)
    name = locks.lock_name("account:7")
    with locks.hold("account:7") as lease:
        client.pexpire(name, 50)  # as if the holder went quiet for its whole lease
        lease.renew()  # a live holder renews: the lease is long again
        assert int(client.pttl(name)) > 1_000
        client.delete(name)  # lapsed (a killed worker never renews)
        with locks.hold("account:7") as successor:
            assert successor.held  # the next sync is not blocked
    client.close()


def test_local_locks() -> None:
    locks = LocalLocks()
    with locks.hold("a") as first, locks.hold("a") as second:
        assert first.held and not second.held


class FakeClock:
    """Time that moves only when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def test_redis_quota_shares_one_budget_between_workers(redis_url: tuple[str, str]) -> None:
    client = redis.Redis.from_url(redis_url[0])
    clock = FakeClock()
    worker_a = RedisQuota(client, 250, redis_url[1], clock=clock, sleep=clock.sleep)
    worker_b = RedisQuota(client, 250, redis_url[1], clock=clock, sleep=clock.sleep)
    worker_a.spend("google:ann", 200)
    assert clock.slept == 0
    worker_b.spend("google:ann", 100)  # would pass 250 this second: waits for the next
    assert clock.slept > 0
    worker_b.spend("google:bo", 250)  # another user's budget is their own
    client.close()


def test_local_quota_paces_to_the_limit() -> None:
    clock = FakeClock()
    quota = LocalQuota(250, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        quota.spend("u", 230)
    # Ten batches of 230 units cannot go faster than one per second
    assert clock.slept >= 8.9


def test_redis_quota_is_a_moving_window_not_per_second_buckets(
    redis_url: tuple[str, str],
) -> None:
    # 200 units late in one second and 200 early in the next would pass two one-second
    # buckets, yet Gmail's moving second would see 400: the second spend must wait until the
    # first has left the window (t = 1.9).
    client = redis.Redis.from_url(redis_url[0])
    clock = FakeClock()
    clock.now = 1_000.9
    quota = RedisQuota(client, 250, redis_url[1], clock=clock, sleep=clock.sleep)
    quota.spend("google:cy", 200)
    clock.now = 1_001.05
    quota.spend("google:cy", 200)
    assert 0.8 <= clock.slept <= 0.9
    client.close()
