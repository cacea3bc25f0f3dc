"""Frames waiting for or in analysis: the one place that admits a frame to the queue (web
process) and releases it (worker), per camera and per tenant.

Each admitted frame is a member of two sets, removed when its analysis ends or, for a frame
lost with a killed worker, when its own deadline passes. The caps are exact at any moment,
which keeps a tenant's queue, and so its cameras' latency, bounded under overload.

Distributed mode: the admission script also appends the admitted frame to the Redis Stream
``FRAMES_STREAM`` (read by the consumer group ``FRAMES_GROUP``, app/tasks/frames_worker.py), so
that admission, counting and queueing are one round trip. The stream lives in Redis memory only
(no persistence) and each entry is deleted once its batch is committed.
"""

from __future__ import annotations

from flask import current_app
from redis.commands.core import Script

from app.infra.state import PREFIX, RedisStore, store
from app.services import camera_status

# The admission of app/infra/state.py with the frame's counters in the same script: one Redis
# round trip per frame for the queue cap, /metrics and the camera's status counts together.
_ADMIT_COUNTED = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local ttl = tonumber(ARGV[2])
local full = 0
for i = 1, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  if full == 0 and redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[2 + i]) then full = i end
end
if full == 0 then
  for i = 1, 2 do
    redis.call('ZADD', KEYS[i], now + ttl, ARGV[1])
    redis.call('EXPIRE', KEYS[i], math.ceil(ttl) + 1)
  end
end
redis.call('HINCRBY', KEYS[3], ARGV[5 + full], 1)
redis.call('HINCRBY', KEYS[4], full == 0 and 'received' or 'refused', 1)
redis.call('EXPIRE', KEYS[4], ARGV[8])
if full == 0 and KEYS[5] then
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[9], '*', unpack(ARGV, 10))
end
return full
"""

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
    has its frames waiting) or ``tenant_busy`` (its organisation has). ``counted``: the outcome
    is also counted (``frames_received`` or ``frames_rejected_<reason>``, and the camera's
    received/refused status count), in the same Redis round trip. ``fields`` (:func:`stream_fields`,
    Redis only, with ``counted``): an admitted frame is also appended to the frames stream there."""
    cfg = current_app.config
    ttl = cfg["STALE_FRAME_S"] * 5 + 1  # a lost frame's place comes back well after it went stale
    limits = {camera_key(camera_id): cfg["MAX_FRAMES_IN_FLIGHT"], tenant_key(tenant_id): cfg["TENANT_MAX_IN_FLIGHT"]}
    state = store()
    if counted and isinstance(state, RedisStore):
        keys = [PREFIX + k for k in limits] + [PREFIX + "counters", PREFIX + camera_status.stats_key(camera_id)]
        names = ("frames_received", "frames_rejected_busy", "frames_rejected_tenant_busy")
        args = [frame_id, ttl, *limits.values(), *names, camera_status.TTL_S]
        if fields is not None:
            keys.append(FRAMES_STREAM)
            args += [STREAM_MAXLEN, *fields]
        full = int(_script(state)(keys=keys, args=args))
        return (None, "busy", "tenant_busy")[full]
    if fields is not None:
        raise ValueError("frames are streamed by the Redis store's counted admission only")
    full_key = state.admit(limits, frame_id, ttl)
    reason = None if full_key is None else "busy" if full_key == camera_key(camera_id) else "tenant_busy"
    if counted:
        state.count(f"frames_rejected_{reason}" if reason else "frames_received")
        camera_status.record(camera_id, "refused" if reason else "received")
    return reason


def release_frame(tenant_id: int, camera_id: int, frame_id: str) -> None:
    store().release([camera_key(camera_id), tenant_key(tenant_id)], frame_id)
