"""Camera leases of the gateway: in memory (embedded mode) and in Redis (several processes)."""

from __future__ import annotations

import time
import uuid

import pytest
import redis

import tests.conftest as conftest
from app.gateway.leases import LEASE_PREFIX, MemoryLeases, RedisLeases, fair_share


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_fair_share_gives_every_camera_an_owner():
    assert fair_share(0, 3) == 0
    assert fair_share(4, 2) == 2
    assert fair_share(4, 3) == 2  # 2 + 2 + 0 or 2 + 1 + 1: never a camera left over
    assert fair_share(3, 0) == 3  # no member seen yet: this gateway takes them all


def test_memory_leases_are_exclusive_renewed_by_the_owner_only_and_expire():
    clock = Clock()
    shared = MemoryLeases("a", 5.0, clock)
    b = MemoryLeases("b", 5.0, clock)
    b._leases, b._members, b._lock = shared._leases, shared._members, shared._lock  # one process, one table
    assert shared.acquire(1) and not b.acquire(1)
    assert not b.renew(1) and shared.renew(1)
    b.release(1)  # not its lease: nothing happens
    assert shared.holder(1) == "a"
    clock.now += 5.1
    assert shared.holder(1) is None and b.acquire(1) and not shared.renew(1)
    shared.join(), b.join()
    assert shared.members() == 2
    clock.now += 6
    assert shared.members() == 0


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(conftest.REDIS_URL)
    yield client
    for key in client.scan_iter(match="emotiscan:gateway:*"):
        client.delete(key)


def test_redis_leases_compare_before_renewing_or_deleting(redis_client):
    camera = int(uuid.uuid4().int % 10**9)
    a, b = RedisLeases(redis_client, "gw-a", 0.6), RedisLeases(redis_client, "gw-b", 0.6)
    assert a.acquire(camera) and not b.acquire(camera)
    assert not b.renew(camera)
    b.release(camera)  # compare-and-delete: b cannot delete a's lease
    assert a.holder(camera) == "gw-a"
    assert 0 < redis_client.pttl(f"{LEASE_PREFIX}{camera}") <= 600
    time.sleep(0.4)
    assert a.renew(camera)  # renewed: lives another 0.6 s from now
    time.sleep(0.4)
    assert a.holder(camera) == "gw-a"
    time.sleep(0.4)  # not renewed: expired, the other gateway takes it; the first cannot renew it back
    assert b.acquire(camera) and not a.renew(camera)
    a.release(camera)
    assert b.holder(camera) == "gw-b"
    b.release(camera)
    assert b.holder(camera) is None
    a.join(), b.join()
    assert a.members() == 2
    a.leave()
    assert b.members() == 1
