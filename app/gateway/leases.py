"""Camera leases: which gateway pulls which stream camera.

Redis when gateways run as separate processes (``make gateway``, several of them): a lease is
``SET key owner NX PX ttl``; only the owner renews it (a Lua compare-and-pexpire) or releases it
(a Lua compare-and-delete), so a gateway whose lease expired can never delete its successor's.
Each gateway also keeps its membership alive (a sorted set scored by expiry: no key scan), so that
every one can compute its fair share of the cameras. In the embedded mode (one process, no Redis) the same interface over a dict.

A gateway stops pulling a camera before its lease can have expired by its own clock (``valid``),
so that two gateways never pull the same camera, even when a renewal is late.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol

LEASE_PREFIX = "emotiscan:gateway:lease:"
MEMBERS_KEY = "emotiscan:gateway:members"  # sorted set: owner -> expiry (wall clock, s)

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class Leases(Protocol):
    owner: str
    ttl_s: float

    def acquire(self, camera_id: int) -> bool: ...
    def renew(self, camera_id: int) -> bool: ...
    def release(self, camera_id: int) -> None: ...
    def holder(self, camera_id: int) -> str | None: ...
    def join(self) -> None: ...
    def leave(self) -> None: ...
    def members(self) -> int: ...


def fair_share(cameras: int, members: int) -> int:
    """How many cameras one of ``members`` gateways may hold (at least one gateway: this one)."""
    return math.ceil(cameras / max(1, members)) if cameras else 0


class RedisLeases:
    def __init__(self, client, owner: str, ttl_s: float = 5.0) -> None:
        self.redis, self.owner, self.ttl_s = client, owner, ttl_s
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    @property
    def _ttl_ms(self) -> int:
        return int(self.ttl_s * 1000)

    def acquire(self, camera_id: int) -> bool:
        return bool(self.redis.set(f"{LEASE_PREFIX}{camera_id}", self.owner, nx=True, px=self._ttl_ms))

    def renew(self, camera_id: int) -> bool:
        return bool(self._renew(keys=[f"{LEASE_PREFIX}{camera_id}"], args=[self.owner, self._ttl_ms]))

    def release(self, camera_id: int) -> None:
        self._release(keys=[f"{LEASE_PREFIX}{camera_id}"], args=[self.owner])

    def holder(self, camera_id: int) -> str | None:
        value = self.redis.get(f"{LEASE_PREFIX}{camera_id}")
        return value.decode() if isinstance(value, bytes) else value

    def join(self) -> None:
        now = time.time()
        with self.redis.pipeline() as pipe:
            pipe.zadd(MEMBERS_KEY, {self.owner: now + self.ttl_s})
            pipe.zremrangebyscore(MEMBERS_KEY, "-inf", now)
            pipe.pexpire(MEMBERS_KEY, self._ttl_ms * 4)
            pipe.execute()

    def leave(self) -> None:
        self.redis.zrem(MEMBERS_KEY, self.owner)

    def members(self) -> int:
        return int(self.redis.zcount(MEMBERS_KEY, time.time(), "+inf"))


class MemoryLeases:
    """The embedded mode's leases (one process); the same rules, so the gateway code is one."""

    def __init__(self, owner: str, ttl_s: float = 5.0, clock=time.monotonic) -> None:
        self.owner, self.ttl_s, self.clock = owner, ttl_s, clock
        self._leases: dict[int, tuple[str, float]] = {}
        self._members: dict[str, float] = {}
        self._lock = threading.Lock()

    def _live(self, camera_id: int) -> str | None:
        held = self._leases.get(camera_id)
        if held and held[1] > self.clock():
            return held[0]
        self._leases.pop(camera_id, None)
        return None

    def acquire(self, camera_id: int) -> bool:
        with self._lock:
            if self._live(camera_id) is not None:
                return False
            self._leases[camera_id] = (self.owner, self.clock() + self.ttl_s)
            return True

    def renew(self, camera_id: int) -> bool:
        with self._lock:
            if self._live(camera_id) != self.owner:
                return False
            self._leases[camera_id] = (self.owner, self.clock() + self.ttl_s)
            return True

    def release(self, camera_id: int) -> None:
        with self._lock:
            if self._live(camera_id) == self.owner:
                del self._leases[camera_id]

    def holder(self, camera_id: int) -> str | None:
        with self._lock:
            return self._live(camera_id)

    def join(self) -> None:
        with self._lock:
            self._members[self.owner] = self.clock() + self.ttl_s

    def leave(self) -> None:
        with self._lock:
            self._members.pop(self.owner, None)

    def members(self) -> int:
        with self._lock:
            now = self.clock()
            return sum(1 for until in self._members.values() if until > now)
