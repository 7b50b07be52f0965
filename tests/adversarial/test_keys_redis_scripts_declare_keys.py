"""Every Redis Lua script names each key it touches in KEYS (Redis Cluster routes a script by
its declared keys; one built from a value it read would break there), and the locks' keys
share one hash tag so one script's keys live in one slot."""

from __future__ import annotations

import re

import pytest
import redis

from keepwarm.services.core import locks, quota, slots
from keepwarm.services.core.locks import RedisLocks

SCRIPTS = {
    "locks._ACQUIRE": locks._ACQUIRE,
    "locks._RELEASE": locks._RELEASE,
    "locks._RENEW": locks._RENEW,
    "quota._SPEND": quota._SPEND,
    **{
        f"slots.{name}": value
        for name, value in vars(slots).items()
        if name.startswith("_") and isinstance(value, str) and "redis.call" in value
    },
}
_CALL = re.compile(r"redis\.call\(\s*'(\w+)'\s*,\s*([^,)]+)")


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_each_key_a_script_touches_is_declared(name: str) -> None:
    calls = _CALL.findall(SCRIPTS[name])
    assert calls, name
    for command, key in calls:
        assert re.fullmatch(r"KEYS\[\d+\]", key.strip()), f"{name}: {command} on {key}"


def test_a_lock_and_its_holders_liveness_share_a_slot(redis_url: tuple[str, str]) -> None:
    client = redis.Redis.from_url(redis_url[0])
    try:
        held = RedisLocks(client, redis_url[1], ttl_ms=60_000)
        with held.hold("account:9") as lease:
            assert lease.held
            keys = [k.decode() for k in client.scan_iter(f"{redis_url[1]}*")]
            tags = {re.search(r"\{([^}]*)\}", key).group(1) for key in keys}  # type: ignore[union-attr]
            assert tags == {"locks"}, keys
            # A second process sees it held by a live holder
            other = RedisLocks(client, redis_url[1], ttl_ms=60_000)
            with other.hold("account:9") as second:
                assert not second.held
    finally:
        client.close()
