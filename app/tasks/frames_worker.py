"""The distributed mode's frames consumer: analyses the frames of the Redis Stream that admission
appends to (app/services/admission.py), in batches, as the embedded analysis threads do.

Each consumer (one per worker process, named host:pid) reads the consumer group with
``XREADGROUP COUNT FRAME_BATCH_MAX``: it waits up to ``IDLE_BLOCK_MS`` for a first frame, then
``FRAME_BATCH_WAIT_S`` for more (a sleep and a read that does not block), analyses the batch
(app/tasks/analyze.py) and, after its commit, acknowledges and deletes the entries in one round
trip, so that no frame stays in Redis.
Entries another consumer took and has not acknowledged for ``CLAIM_IDLE_MS`` (it was killed) are
claimed with ``XAUTOCLAIM`` and analysed as ``redelivered``: skipped when already stored.

Started by the Celery worker in each of its pool processes (celery_worker.py, so that ``make
worker`` and docker compose start it with Celery), or alone with ``python -m app.tasks.frames_worker``.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time

import redis
from flask import Flask

from app.services.admission import FRAMES_GROUP, FRAMES_STREAM, ThroughputMeter, frame_args

log = logging.getLogger(__name__)

IDLE_BLOCK_MS = 500  # an idle consumer wakes this often to claim a dead consumer's frames
CLAIM_IDLE_MS = 1000  # a frame unacknowledged this long belongs to a dead consumer
CLAIM_EVERY_S = 0.5
# Each worker process that ends leaves its name in the group; once it holds no frame (its pending
# ones claimed) and has not read for this long, it is removed. A live consumer reads at least
# every IDLE_BLOCK_MS, and XREADGROUP would create it again anyway.
GONE_IDLE_MS = 60_000
SWEEP_EVERY_S = 30.0

Entry = tuple[bytes, dict[bytes, bytes] | None, bool]  # (id, fields, redelivered)


class FramesConsumer:
    def __init__(self, app: Flask, name: str | None = None) -> None:
        self.app = app
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        # Its own connection: a blocking read must not share the state store's 2 s socket timeout.
        self.redis = redis.Redis.from_url(
            app.config["REDIS_URL"], socket_timeout=10, socket_connect_timeout=2, health_check_interval=30
        )
        self.size = app.config["FRAME_BATCH_MAX"]
        self.wait_s = float(app.config["FRAME_BATCH_WAIT_S"])
        self.group_ready = False
        self.meter = ThroughputMeter(self.name)  # sizes admission (app/services/admission.py)
        self._claimed = 0.0
        self._swept = 0.0

    def ensure_group(self) -> None:
        """The group reads from the stream's start: frames queued before any worker started are
        taken too (the stale rule drops those too old). Redis restarted: both are created again."""
        if self.group_ready:
            return
        try:
            self.redis.xgroup_create(FRAMES_STREAM, FRAMES_GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self.group_ready = True

    def read(self, count: int, block_ms: int | None) -> list[Entry]:
        """Up to ``count`` new entries; ``block_ms`` None: those already there, at once."""
        reply = self.redis.xreadgroup(FRAMES_GROUP, self.name, {FRAMES_STREAM: ">"}, count=count, block=block_ms)
        return [(entry_id, fields, False) for _, entries in reply or [] for entry_id, fields in entries]

    def claim(self) -> list[Entry]:
        """Up to a batch of frames idle over CLAIM_IDLE_MS in other consumers' pending lists."""
        reply = self.redis.xautoclaim(FRAMES_STREAM, FRAMES_GROUP, self.name, CLAIM_IDLE_MS, "0-0", count=self.size)
        return [(entry_id, fields, True) for entry_id, fields in reply[1]]

    def sweep(self, idle_ms: int = GONE_IDLE_MS) -> list[str]:
        """Remove the group's consumers that hold no frame and have not read for ``idle_ms``
        (ended workers); their names."""
        gone = []
        for consumer in self.redis.xinfo_consumers(FRAMES_STREAM, FRAMES_GROUP):
            name = consumer["name"].decode() if isinstance(consumer["name"], bytes) else str(consumer["name"])
            if name != self.name and int(consumer["pending"]) == 0 and int(consumer["idle"]) >= idle_ms:
                self.redis.xgroup_delconsumer(FRAMES_STREAM, FRAMES_GROUP, name)
                gone.append(name)
        if gone:
            log.info("removed %d ended frames consumer(s) from the group", len(gone))
        return gone

    def take(self) -> list[Entry]:
        if time.monotonic() - self._swept >= SWEEP_EVERY_S:
            self._swept = time.monotonic()
            self.sweep()
        batch = self.claim() if time.monotonic() - self._claimed >= CLAIM_EVERY_S else []
        if batch:
            self._claimed = 0.0  # more may wait: claim again at once
            return batch
        self._claimed = time.monotonic()
        batch = self.read(self.size, IDLE_BLOCK_MS)
        if batch and len(batch) < self.size and self.wait_s > 0:
            # Waited here, not with BLOCK: Redis ends a blocking read's timeout only at its next
            # cron tick (hz 10: BLOCK 5 returned after 100 ms), which delayed every partial batch.
            time.sleep(self.wait_s)
            batch += self.read(self.size - len(batch), None)
        return batch

    def process(self, batch: list[Entry]) -> int:
        """Analyse a batch, then remove its entries (after the commit: a consumer killed before
        this leaves them pending, to be claimed, and skipped when stored). Frames analysed."""
        from app.services.analysis import Frame
        from app.tasks.analyze import analyze_batch_and_publish

        started = time.monotonic()
        frames = []
        for _, fields, redelivered in batch:
            if not fields:  # deleted meanwhile (trimmed): nothing to analyse, only to acknowledge
                continue
            try:
                frames.append(Frame(*frame_args(fields), redelivered=redelivered))
            except (KeyError, ValueError):
                log.warning("malformed frames stream entry dropped")
        if frames:
            with self.app.app_context():
                try:
                    payloads = analyze_batch_and_publish(frames)
                    end = time.monotonic()
                    self.meter.add(sum(1 for p in payloads if p is not None), end - started, end)
                except Exception:  # noqa: BLE001 - keep consuming; the batch's places were released
                    log.exception("frame analysis failed")
        ids = [entry_id for entry_id, _, _ in batch]
        pipe = self.redis.pipeline(transaction=False)
        pipe.xack(FRAMES_STREAM, FRAMES_GROUP, *ids)
        pipe.xdel(FRAMES_STREAM, *ids)
        pipe.execute()
        # One line per batch (Celery logged one per frame): counts and time only, never content.
        redelivered = sum(1 for f in frames if f.redelivered)
        took_ms = (time.monotonic() - started) * 1000
        log.info("%d frames analysed (%d redelivered) in %.0f ms", len(frames), redelivered, took_ms)
        return len(frames)

    def run(self, stop: threading.Event) -> None:
        down = False
        log.info("frames consumer %s started (batches of up to %d)", self.name, self.size)
        while not stop.is_set():
            try:
                self.ensure_group()
                batch = self.take()
                if batch:
                    self.process(batch)
                down = False
            except redis.ResponseError as exc:
                if "NOGROUP" in str(exc):  # Redis restarted empty: the group goes with the stream
                    self.group_ready = False
                    continue
                log.warning("frames stream error: %s", exc)
                stop.wait(1)
            except redis.RedisError as exc:
                if not down:
                    log.warning("frames stream unavailable (%s); retrying", type(exc).__name__)
                down, self.group_ready = True, False
                stop.wait(1)


_stop = threading.Event()


def start(app: Flask) -> threading.Thread | None:
    """A consumer thread in this process (the distributed mode only)."""
    if app.config["TASK_MODE"] != "celery" or not app.config["REDIS_URL"]:
        return None
    thread = threading.Thread(target=FramesConsumer(app).run, args=(_stop,), name="frames-consumer", daemon=True)
    thread.start()
    return thread


def stop() -> None:
    _stop.set()


def main() -> None:
    from app import create_app
    from app.inference.registry import get_models

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    get_models(app.config["MODEL_DIR"])  # before the first frame
    signal.signal(signal.SIGTERM, lambda *_: _stop.set())
    signal.signal(signal.SIGINT, lambda *_: _stop.set())
    FramesConsumer(app).run(_stop)


if __name__ == "__main__":
    main()
