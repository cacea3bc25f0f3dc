"""Small shared state of the real-time path: counters, frames in flight, smoothing.

Redis when ``REDIS_URL`` is set (shared by web processes and Celery workers, updated
atomically), else process memory (the embedded mode has one process). Numbers only.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis
from flask import current_app

PREFIX = "emotiscan:"

# A read-modify-write of one key: the function from the old value (None: none) to the new, and
# the new value's time to live in seconds. The function may run more than once (a conflict).
Update = tuple[Callable[[dict | None], dict], int]


class StateStore(Protocol):
    def incr(self, key: str, ttl_s: int) -> int: ...
    def count(self, name: str, amount: int = 1) -> None: ...
    def admit(self, limits: dict[str, int], member: str, ttl_s: float) -> str | None: ...
    def release(self, keys: list[str], member: str) -> None: ...
    def counters(self) -> dict[str, int]: ...
    def get_json(self, key: str) -> dict | None: ...
    def set_json(self, key: str, value: dict, ttl_s: int) -> None: ...
    def update_json(self, key: str, fn: Callable[[dict | None], dict], ttl_s: int) -> dict: ...
    def update_json_many(self, updates: dict[str, Update]) -> dict[str, dict]: ...
    def delete(self, keys: list[str]) -> None: ...
    def tally(self, key: str, field: str, ttl_s: int) -> None: ...
    def tallies(self, key: str) -> dict[str, int]: ...
    def heartbeat(self, name: str, ttl_s: int) -> None: ...
    def alive(self, prefix: str) -> int: ...
    def ping(self) -> bool: ...
    def publish_rate(self, key: str, name: str, per_s: float, ttl_s: float) -> None: ...
    def rates(self, key: str) -> list[float]: ...
    def mark_active(self, key: str, member: str, window_s: float) -> int: ...
    def settle(
        self, counts: dict[str, int], tallies: dict[str, dict[str, int]], tally_ttl_s: int, releases: list[tuple[list[str], str]]
    ) -> None: ...


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, tuple[float, object]] = {}
        self._counters: dict[str, int] = {}
        self._sets: dict[str, dict[str, float]] = {}  # frames in flight: member -> deadline
        self._rates: dict[str, dict[str, tuple[float, float]]] = {}  # key -> name -> (rate, deadline)

    def _get(self, key: str):
        expires, value = self._values.get(key, (0.0, None))
        return value if expires > time.monotonic() else None

    def incr(self, key: str, ttl_s: int) -> int:
        with self._lock:
            expires, value = self._values.get(key, (0.0, 0))
            if expires <= time.monotonic():  # expiry set at creation, as in Redis (EXPIRE NX)
                expires, value = time.monotonic() + ttl_s, 0
            self._values[key] = (expires, int(value or 0) + 1)
            return int(value or 0) + 1

    def count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counters[name] = self._counters.get(name, 0) + amount

    def admit(self, limits: dict[str, int], member: str, ttl_s: float) -> str | None:
        """Add ``member`` to every set of ``limits`` unless one already holds its limit of live
        members; returns that full key, or None when admitted. A member lapses after ``ttl_s`` on
        its own (a frame lost with a killed worker), never taking the others with it."""
        now = time.monotonic()
        with self._lock:
            sets = {}
            for key, limit in limits.items():
                live = {m: t for m, t in (self._sets.get(key) or {}).items() if t > now}
                self._sets[key] = sets[key] = live
                if len(live) >= limit:
                    return key
            for live in sets.values():
                live[member] = now + ttl_s
            return None

    def release(self, keys: list[str], member: str) -> None:
        with self._lock:
            for key in keys:
                (self._sets.get(key) or {}).pop(member, None)

    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counters)

    def get_json(self, key: str) -> dict | None:
        with self._lock:
            return self._get(key)

    def set_json(self, key: str, value: dict, ttl_s: int) -> None:
        with self._lock:
            self._values[key] = (time.monotonic() + ttl_s, value)

    def update_json(self, key: str, fn: Callable[[dict | None], dict], ttl_s: int) -> dict:
        """Read-modify-write under the store's lock: one update at a time per process."""
        with self._lock:
            value = fn(self._get(key))
            self._values[key] = (time.monotonic() + ttl_s, value)
            return value

    def update_json_many(self, updates: dict[str, Update]) -> dict[str, dict]:
        """:meth:`update_json` of several keys at once, in the order given."""
        with self._lock:
            values = {}
            for key, (fn, ttl_s) in updates.items():
                values[key] = fn(self._get(key))
                self._values[key] = (time.monotonic() + ttl_s, values[key])
            return values

    def tally(self, key: str, field: str, ttl_s: int) -> None:
        """Add one to ``field`` of the small hash ``key`` (per-camera statistics)."""
        with self._lock:
            counts = dict(self._get(key) or {})
            counts[field] = counts.get(field, 0) + 1
            self._values[key] = (time.monotonic() + ttl_s, counts)

    def tallies(self, key: str) -> dict[str, int]:
        with self._lock:
            return dict(self._get(key) or {})

    def delete(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._values.pop(key, None)
                self._sets.pop(key, None)

    def heartbeat(self, name: str, ttl_s: int) -> None:
        self.set_json("heartbeat:" + name, {"at": time.time()}, ttl_s)

    def alive(self, prefix: str) -> int:
        with self._lock:
            return sum(1 for k in self._values if k.startswith("heartbeat:" + prefix) and self._get(k))

    def ping(self) -> bool:
        return True

    def publish_rate(self, key: str, name: str, per_s: float, ttl_s: float) -> None:
        with self._lock:
            self._rates.setdefault(key, {})[name] = (per_s, time.monotonic() + ttl_s)

    def rates(self, key: str) -> list[float]:
        """The rates published and not lapsed (one per live worker)."""
        now = time.monotonic()
        with self._lock:
            live = {n: v for n, v in (self._rates.get(key) or {}).items() if v[1] > now}
            self._rates[key] = live
            return [rate for rate, _ in live.values()]

    def mark_active(self, key: str, member: str, window_s: float) -> int:
        """``member`` is active for ``window_s`` more; how many members are."""
        now = time.monotonic()
        with self._lock:
            live = {m: t for m, t in (self._sets.get(key) or {}).items() if t > now}
            live[member] = now + window_s
            self._sets[key] = live
            return len(live)

    def settle(
        self, counts: dict[str, int], tallies: dict[str, dict[str, int]], tally_ttl_s: int, releases: list[tuple[list[str], str]]
    ) -> None:
        """A batch's bookkeeping at once: counters, per-key tallies and frames released."""
        for name, amount in counts.items():
            self.count(name, amount)
        with self._lock:
            for key, fields in tallies.items():
                values = dict(self._get(key) or {})
                for name, amount in fields.items():
                    values[name] = values.get(name, 0) + amount
                self._values[key] = (time.monotonic() + tally_ttl_s, values)
        for keys, member in releases:
            self.release(keys, member)


_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local ttl = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if redis.call('ZCARD', key) >= tonumber(ARGV[2 + i]) then return i end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + ttl, ARGV[1])
  redis.call('EXPIRE', key, math.ceil(ttl) + 1)
end
return 0
"""

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
"""
_PUBLISH_RATE = (
    _NOW
    + """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. (now + tonumber(ARGV[3])))
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3])) + 1)
"""
)
# The live rates of the hash ``rates_key`` of "rate deadline" values, the lapsed ones deleted
# (app/services/admission.py's script inlines the same loop).
RATES_LUA = """
local rates = {}
local seen = redis.call('HGETALL', rates_key)
for i = 1, #seen, 2 do
  local rate, deadline = string.match(seen[i + 1], '(%S+) (%S+)')
  if tonumber(deadline) > now then rates[#rates + 1] = rate else redis.call('HDEL', rates_key, seen[i]) end
end
"""
_RATES = _NOW + "local rates_key = KEYS[1]\n" + RATES_LUA + "return rates\n"
_MARK_ACTIVE = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
return redis.call('ZCARD', KEYS[1])
"""
)


class RedisStore:
    def __init__(self, url: str) -> None:
        self.redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30)

    def incr(self, key: str, ttl_s: int) -> int:
        # The expiry is set when the counter is created, not renewed (a once-per-period flag).
        pipe = self.redis.pipeline()
        pipe.incr(PREFIX + key)
        pipe.expire(PREFIX + key, ttl_s, nx=True)
        return int(pipe.execute()[0])

    def count(self, name: str, amount: int = 1) -> None:
        self.redis.hincrby(PREFIX + "counters", name, amount)

    def admit(self, limits: dict[str, int], member: str, ttl_s: float) -> str | None:
        # One script, so that two web processes never both take the last place. Members are
        # scored by their deadline on Redis's own clock (web processes' clocks may differ).
        keys = [PREFIX + k for k in limits]
        full = int(self.redis.eval(_ADMIT, len(keys), *keys, member, ttl_s, *limits.values()))
        return list(limits)[full - 1] if full else None

    def release(self, keys: list[str], member: str) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.zrem(PREFIX + key, member)
        pipe.execute()

    def counters(self) -> dict[str, int]:
        return {k.decode(): int(v) for k, v in self.redis.hgetall(PREFIX + "counters").items()}

    def get_json(self, key: str) -> dict | None:
        raw = self.redis.get(PREFIX + key)
        return json.loads(raw) if raw else None

    def set_json(self, key: str, value: dict, ttl_s: int) -> None:
        self.redis.set(PREFIX + key, json.dumps(value), ex=ttl_s)

    def update_json(self, key: str, fn: Callable[[dict | None], dict], ttl_s: int) -> dict:
        """Optimistic transaction (WATCH/MULTI): when another process changed the key meanwhile,
        ``fn`` runs again on the new value, so that concurrent workers never lose an update."""
        full = PREFIX + key
        with self.redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(full)
                    raw = pipe.get(full)
                    value = fn(json.loads(raw) if raw else None)
                    pipe.multi()
                    pipe.set(full, json.dumps(value), ex=ttl_s)
                    pipe.execute()
                    return value
                except redis.WatchError:
                    continue

    def update_json_many(self, updates: dict[str, Update]) -> dict[str, dict]:
        """:meth:`update_json` of several keys in one optimistic transaction, three round trips
        in all (WATCH, MGET, MULTI/SET/EXEC): a batch's tracks, smoothing and rule states. The
        functions run in the order given (a later one may read what an earlier one computed),
        and all run again when any key changed meanwhile."""
        if not updates:
            return {}
        keys = list(updates)
        full = [PREFIX + key for key in keys]
        with self.redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(*full)
                    raws = pipe.mget(full)
                    values = {key: updates[key][0](json.loads(raw) if raw else None) for key, raw in zip(keys, raws, strict=True)}
                    pipe.multi()
                    for key, name in zip(keys, full, strict=True):
                        pipe.set(name, json.dumps(values[key]), ex=updates[key][1])
                    pipe.execute()
                    return values
                except redis.WatchError:
                    continue

    def tally(self, key: str, field: str, ttl_s: int) -> None:
        pipe = self.redis.pipeline()
        pipe.hincrby(PREFIX + key, field, 1)
        pipe.expire(PREFIX + key, ttl_s)
        pipe.execute()

    def tallies(self, key: str) -> dict[str, int]:
        return {k.decode(): int(v) for k, v in self.redis.hgetall(PREFIX + key).items()}

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 500):
            self.redis.delete(*(PREFIX + k for k in keys[start : start + 500]))

    def heartbeat(self, name: str, ttl_s: int) -> None:
        self.redis.set(PREFIX + "heartbeat:" + name, str(time.time()), ex=ttl_s)

    def alive(self, prefix: str) -> int:
        return sum(1 for _ in self.redis.scan_iter(PREFIX + "heartbeat:" + prefix + "*", count=100))

    def settle(
        self, counts: dict[str, int], tallies: dict[str, dict[str, int]], tally_ttl_s: int, releases: list[tuple[list[str], str]]
    ) -> None:
        """A batch's counters, per-camera tallies and released frames in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for name, amount in counts.items():
            pipe.hincrby(PREFIX + "counters", name, amount)
        for key, fields in tallies.items():
            for name, amount in fields.items():
                pipe.hincrby(PREFIX + key, name, amount)
            pipe.expire(PREFIX + key, tally_ttl_s)
        for keys, member in releases:
            for key in keys:
                pipe.zrem(PREFIX + key, member)
        if len(pipe):
            pipe.execute()

    def publish_rate(self, key: str, name: str, per_s: float, ttl_s: float) -> None:
        # "rate deadline" on Redis's clock (workers' clocks may differ); lapsed ones are dropped by readers.
        self.redis.eval(_PUBLISH_RATE, 1, PREFIX + key, name, per_s, ttl_s)

    def rates(self, key: str) -> list[float]:
        return [float(r) for r in self.redis.eval(_RATES, 1, PREFIX + key)]

    def mark_active(self, key: str, member: str, window_s: float) -> int:
        return int(self.redis.eval(_MARK_ACTIVE, 1, PREFIX + key, member, window_s))

    def ping(self) -> bool:
        try:
            return bool(self.redis.ping())
        except redis.RedisError:
            return False


_stores: dict[str, StateStore] = {}
_stores_lock = threading.Lock()


def store() -> StateStore:
    """The store of the current app's configuration (one per Redis URL per process)."""
    url = current_app.config.get("REDIS_URL")
    with _stores_lock:
        if not url:
            # Kept on the app itself: keyed by id(app), a new app could inherit the state of a
            # garbage-collected one whose id Python reused.
            return current_app.extensions.setdefault("emotiscan_memory_store", MemoryStore())
        if url not in _stores:
            _stores[url] = RedisStore(url)
        return _stores[url]
