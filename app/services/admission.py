"""Frames waiting for or in analysis: the one place that admits a frame to the queue (web
process) and releases it (worker), per camera and per tenant.

Each admitted frame is a member of two sets (its camera's, its tenant's), removed when its
analysis ends or, for a frame lost with a killed worker, when its own deadline passes.
The caps are exact at any moment, which keeps a tenant's queue, and so its cameras' latency,
bounded under overload; they follow the throughput the workers measure and publish
(:class:`ThroughputMeter`), so that the workers stay busy and the excess is refused at once.

Distributed mode: the admission script also appends the admitted frame to the Redis Stream
``FRAMES_STREAM`` (read by the consumer group ``FRAMES_GROUP``, app/tasks/frames_worker.py), so
that admission, counting and queueing are one round trip. The stream lives in Redis memory only
(no persistence) and each entry is deleted once its batch is committed.
"""

from __future__ import annotations

from flask import current_app
from redis.commands.core import Script

from app.infra.state import PREFIX, RATES_LUA, RedisStore, store
from app.services import camera_status

# The admission of app/infra/state.py with the caps sized from the workers' measured rates
# (:func:`sized_caps`, inlined) and the frame's counters in the same script: one Redis round
# trip per frame for the caps, /metrics, the camera's status counts and, when given, the queue.
# KEYS: camera and tenant sets, counters, camera stats, rates, active tenants[, stream].
_ADMIT_COUNTED = (
    """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local ttl = tonumber(ARGV[2])
local caps = {tonumber(ARGV[3]), tonumber(ARGV[4])}
local rates_key = KEYS[5]
"""
    + RATES_LUA
    + """
if #rates > 0 then
  local total = 0
  for _, rate in ipairs(rates) do total = total + tonumber(rate) end
  total = math.max(#rates * tonumber(ARGV[5]), math.floor(total * tonumber(ARGV[6])))
  redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now)
  redis.call('ZADD', KEYS[6], now + tonumber(ARGV[7]), ARGV[8])
  redis.call('EXPIRE', KEYS[6], math.ceil(tonumber(ARGV[7])) + 1)
  caps[2] = math.min(caps[2], math.ceil(total / redis.call('ZCARD', KEYS[6])))
end
local full = 0
for i = 1, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  if full == 0 and redis.call('ZCARD', KEYS[i]) >= caps[i] then full = i end
end
if full == 0 then
  for i = 1, 2 do
    redis.call('ZADD', KEYS[i], now + ttl, ARGV[1])
    redis.call('EXPIRE', KEYS[i], math.ceil(ttl) + 1)
  end
end
redis.call('HINCRBY', KEYS[3], ARGV[9 + full], 1)
redis.call('HINCRBY', KEYS[4], full == 0 and 'received' or 'refused', 1)
redis.call('EXPIRE', KEYS[4], ARGV[12])
if full == 0 and KEYS[7] then
  redis.call('XADD', KEYS[7], 'MAXLEN', '~', ARGV[13], '*', unpack(ARGV, 14))
end
return full
"""
)

RATES_KEY = "throughput"  # per worker: its frames per second of analysis, "rate deadline"
ACTIVE_KEY = "tenants_active"  # tenants that sent a frame within ACTIVE_S
ACTIVE_S = 2.0
RATE_TTL_S = 10.0  # a worker's rate lapses this long after its last publication (killed, stopped)
RATE_EVERY_S = 1.0
REASONS = (None, "busy", "tenant_busy")  # by the full set: none, camera, tenant


# Frames in flight per worker at least: the batch it analyses and the next, waiting for it. With
# one batch only, a worker that finished found its places just released and waited for new
# frames to trickle in, while the frames it could have taken had been refused.
BATCHES_PER_WORKER = 2


def sized_caps(rates: list[float], tenants: int, batch: int, window_s: float) -> tuple[int, int]:
    """(frames in flight in all, per tenant) for workers analysing ``rates`` frames/s each:
    enough to give every worker its batch and the next (BATCHES_PER_WORKER), or ``window_s`` of
    their measured throughput when that is more, so that under overload the workers stay busy
    while a frame waits at most about ``window_s``; each of the ``tenants`` active tenants gets
    an equal share. Only the shares are enforced: a tenant that starts sending is admitted up to
    its share at once, without waiting for the others' frames beyond their new share to drain
    (the total overshoots by at most that, for a fraction of a second)."""
    total = max(len(rates) * batch * BATCHES_PER_WORKER, int(sum(rates) * window_s))
    return total, -(-total // max(tenants, 1))


FRAMES_STREAM = PREFIX + "frames:stream"  # not "frames": that name is Celery's list of the same queue
FRAMES_GROUP = "analysis"
# A safety bound only: the caps in flight keep the stream far shorter (entries are deleted after
# their batch), so trimming never drops a frame in normal operation.
STREAM_MAXLEN = 10_000


def camera_key(camera_id: int) -> str:
    return f"inflight:{camera_id}"


def tenant_key(tenant_id: int) -> str:
    return f"inflight_tenant:{tenant_id}"


_scripts: dict[int, Script] = {}


def _script(state: RedisStore) -> Script:
    """The script registered once per client: EVALSHA sends its digest, not its text, per frame."""
    script = _scripts.get(id(state))
    if script is None:
        script = _scripts[id(state)] = state.redis.register_script(_ADMIT_COUNTED)
    return script


def streams_frames() -> bool:
    """Whether admitted frames go to the Redis Stream (the distributed mode) in admission itself."""
    return current_app.config["TASK_MODE"] == "celery" and isinstance(store(), RedisStore)


def stream_fields(
    tenant_id: int, site_id: int, camera_id: int, frame_id: str, received_at: float, jpeg: bytes, client_ts: float | None
) -> list[str | bytes]:
    """A frame as a stream entry's field/value pairs (:func:`frame_args` reads them back)."""
    ts = "" if client_ts is None else repr(float(client_ts))
    ids = ["t", str(tenant_id), "s", str(site_id), "c", str(camera_id), "f", frame_id]
    return [*ids, "r", repr(received_at), "j", jpeg, "ts", ts]


def frame_args(fields: dict[bytes, bytes]) -> tuple:
    """A stream entry's fields as (tenant_id, site_id, camera_id, frame_id, received_at, jpeg, client_ts)."""
    ts = fields.get(b"ts") or b""
    return (
        int(fields[b"t"]),
        int(fields[b"s"]),
        int(fields[b"c"]),
        fields[b"f"].decode(),
        float(fields[b"r"]),
        bytes(fields[b"j"]),
        float(ts) if ts else None,
    )


def admit_frame(
    tenant_id: int, camera_id: int, frame_id: str, counted: bool = False, fields: list[str | bytes] | None = None
) -> str | None:
    """None when the frame may be queued, else the refusal reason: ``busy`` (this camera already
    has its frames waiting) or ``tenant_busy`` (its organisation has its share: more would keep
    the workers busy longer than ``ADMISSION_WINDOW_S``).

    Caps: ``MAX_FRAMES_IN_FLIGHT`` per camera; per tenant ``TENANT_MAX_IN_FLIGHT`` and, once workers
    have published their throughput, no more than an equal share of :func:`sized_caps` among the
    active tenants. The setting stays a ceiling: every tenant's frames wait in one queue, so a
    share larger than it would put a flooding tenant's frames ahead of another's for longer.
    ``counted``: the outcome is also counted (``frames_received`` or ``frames_rejected_<reason>``,
    and the camera's received/refused status count), in the same Redis round trip. ``fields``
    (:func:`stream_fields`, Redis only, with ``counted``): an admitted frame is also appended to
    the frames stream there."""
    cfg = current_app.config
    ttl = cfg["STALE_FRAME_S"] * 5 + 1  # a lost frame's place comes back well after it went stale
    keys = release_keys(tenant_id, camera_id)
    state = store()
    if counted and isinstance(state, RedisStore):
        names = ["frames_received", *(f"frames_rejected_{r}" for r in REASONS[1:])]
        args = [frame_id, ttl, cfg["MAX_FRAMES_IN_FLIGHT"], cfg["TENANT_MAX_IN_FLIGHT"]]
        args += [
            cfg["FRAME_BATCH_MAX"] * BATCHES_PER_WORKER,
            cfg["ADMISSION_WINDOW_S"],
            ACTIVE_S,
            tenant_id,
            *names,
            camera_status.TTL_S,
        ]
        keys += ["counters", camera_status.stats_key(camera_id), RATES_KEY, ACTIVE_KEY]
        keys = [PREFIX + k for k in keys]
        if fields is not None:
            keys.append(FRAMES_STREAM)
            args += [STREAM_MAXLEN, *fields]
        return REASONS[int(_script(state)(keys=keys, args=args))]
    if fields is not None:
        raise ValueError("frames are streamed by the Redis store's counted admission only")
    tenant_cap = cfg["TENANT_MAX_IN_FLIGHT"]
    rates = state.rates(RATES_KEY)
    if rates:
        tenants = state.mark_active(ACTIVE_KEY, str(tenant_id), ACTIVE_S)
        tenant_cap = min(tenant_cap, sized_caps(rates, tenants, cfg["FRAME_BATCH_MAX"], cfg["ADMISSION_WINDOW_S"])[1])
    full_key = state.admit(dict(zip(keys, (cfg["MAX_FRAMES_IN_FLIGHT"], tenant_cap), strict=True)), frame_id, ttl)
    reason = REASONS[keys.index(full_key) + 1] if full_key else None
    if counted:
        state.count(f"frames_rejected_{reason}" if reason else "frames_received")
        camera_status.record(camera_id, "refused" if reason else "received")
    return reason


def release_keys(tenant_id: int, camera_id: int) -> list[str]:
    """The sets an admitted frame is a member of."""
    return [camera_key(camera_id), tenant_key(tenant_id)]


def release_frame(tenant_id: int, camera_id: int, frame_id: str) -> None:
    store().release(release_keys(tenant_id, camera_id), frame_id)


class ThroughputMeter:
    """A worker's analysed frames per second of analysis time (an exponentially weighted mean of
    its batches), published for admission every RATE_EVERY_S. Per second of analysis, not of wall
    time: an idle or starved worker still reports what it can do, so the caps do not shrink
    because frames were refused."""

    def __init__(self, name: str, alpha: float = 0.2) -> None:
        self.name, self.alpha = name, alpha
        self.rate: float | None = None
        self.published = 0.0

    def add(self, frames: int, seconds: float, now: float) -> None:
        """A batch of ``frames`` analysed in ``seconds``; inside an app context (the store)."""
        if frames <= 0 or seconds <= 0:
            return
        sample = frames / seconds
        self.rate = sample if self.rate is None else self.rate + self.alpha * (sample - self.rate)
        if now - self.published >= RATE_EVERY_S:
            self.published = now
            store().publish_rate(RATES_KEY, self.name, round(self.rate, 1), RATE_TTL_S)
