"""The distributed mode's frames consumer takes what waits in the stream without stalling."""

from __future__ import annotations

import pytest

from app.services.admission import FRAMES_GROUP, FRAMES_STREAM
from app.tasks.frames_worker import IDLE_BLOCK_MS, FramesConsumer
from tests.conftest import RunRedis, _testing


@pytest.fixture
def consumer():
    from app import create_app

    own = RunRedis()  # its own server: the stream's name is the product's
    try:
        url = own.acquire()
        # Not TASK_MODE celery: that would give the shared Socket.IO server a message queue, and
        # the Socket.IO test clients of the tests after this one refuse one.
        overrides = {"REDIS_URL": url, "FRAME_BATCH_MAX": 8, "FRAME_BATCH_WAIT_S": 0.002}
        app = create_app({**_testing(), "SQLALCHEMY_DATABASE_URI": "sqlite://", **overrides})
        worker = FramesConsumer(app, name="test:1")
        worker.ensure_group()
        worker._claimed = 10**12  # no claim of other consumers' frames in these tests
        yield worker
    finally:
        own.release()


def _recording(worker: FramesConsumer) -> list[int | None]:
    """The BLOCK argument of each XREADGROUP the consumer sends, recorded as it goes."""
    blocks: list[int | None] = []
    read = worker.redis.xreadgroup

    def spy(*args, **kwargs):
        blocks.append(kwargs.get("block"))
        return read(*args, **kwargs)

    worker.redis.xreadgroup = spy
    return blocks


def test_a_partial_batch_is_topped_up_without_a_blocking_read(consumer):
    # Redis ends a blocking read's timeout only at its next cron tick (100 ms at hz 10): a BLOCK
    # of a few milliseconds for the rest of a batch stalled every frame of a quiet camera.
    for i in range(3):
        consumer.redis.xadd(FRAMES_STREAM, {"n": str(i)})
    blocks = _recording(consumer)
    batch = consumer.take()
    assert [fields[b"n"] for _, fields, _ in batch] == [b"0", b"1", b"2"]
    assert blocks == [IDLE_BLOCK_MS, None]  # the first read may wait for a frame; the top-up never does


def test_a_full_batch_is_taken_in_one_read_and_the_rest_stays_queued(consumer):
    for i in range(11):
        consumer.redis.xadd(FRAMES_STREAM, {"n": str(i)})
    blocks = _recording(consumer)
    first = consumer.take()
    assert len(first) == 8 and blocks == [IDLE_BLOCK_MS]
    second = consumer.take()
    assert [fields[b"n"] for _, fields, _ in second] == [b"8", b"9", b"10"]
    pending = consumer.redis.xpending(FRAMES_STREAM, FRAMES_GROUP)["pending"]
    assert pending == 11  # taken, not yet acknowledged: a killed consumer's frames can be claimed


def test_ended_consumers_are_removed_once_they_hold_no_frame(consumer):
    from app.tasks.frames_worker import FramesConsumer

    consumer.redis.xadd(FRAMES_STREAM, {"n": "0"})
    ended = FramesConsumer(consumer.app, name="ended:2")
    ended.ensure_group()
    taken = ended.read(8, None)  # it took a frame, then its process ended
    assert len(taken) == 1
    assert consumer.sweep(idle_ms=0) == []  # it still holds the frame: kept, so that it can be claimed
    claimed = consumer.redis.xautoclaim(FRAMES_STREAM, FRAMES_GROUP, consumer.name, 0, "0-0", count=8)
    assert len(claimed[1]) == 1
    assert consumer.sweep(idle_ms=0) == ["ended:2"]
    names = [c["name"] for c in consumer.redis.xinfo_consumers(FRAMES_STREAM, FRAMES_GROUP)]
    assert names in ([b"test:1"], ["test:1"])  # the live consumer stays
    assert consumer.sweep(idle_ms=10**9) == []  # a consumer read recently is never removed
