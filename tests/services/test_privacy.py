"""Proof of no pixels: after real frames went through the distributed mode, no image data is in
PostgreSQL, Redis (broker queues included), the logs or the instance folder. The search is first
shown to find a frame planted on purpose."""

from __future__ import annotations

import base64
import subprocess
import time
from pathlib import Path

import pytest
import redis

from tests.conftest import REDIS_URL
from tests.images import face_jpeg
from tests.processes import ApiClient, Camera, LiveListener

pytestmark = pytest.mark.process

SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG", b"/9j/", b"iVBOR", b"\\xffd8ff", b"ffd8ffe0", b"ffd8ffdb")


def found_in(data: bytes) -> list[bytes]:
    return [sig for sig in SIGNATURES if sig in data]


def database_dump(url: str) -> bytes:
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    return subprocess.run(["pg_dump", "--data-only", dsn], capture_output=True, check=True).stdout


def redis_contents(url: str) -> bytes:
    r = redis.Redis.from_url(url)
    chunks = []
    for key in r.scan_iter(count=500):
        chunks.append(key)
        kind = r.type(key)
        if kind == b"string":
            chunks.append(r.get(key) or b"")
        elif kind == b"list":
            chunks.extend(r.lrange(key, 0, -1))
        elif kind == b"hash":
            for k, v in r.hgetall(key).items():
                chunks += [k, v]
        elif kind == b"set":
            chunks.extend(r.smembers(key))
        elif kind == b"zset":
            chunks.extend(r.zrange(key, 0, -1))
    return b"\n".join(chunks)


def files_contents(*roots: Path) -> bytes:
    return b"\n".join(p.read_bytes() for root in roots for p in root.rglob("*") if p.is_file())


def search_everywhere(pg_url: str, tmp: Path) -> dict[str, list[bytes]]:
    return {
        "database": found_in(database_dump(pg_url)),
        "redis": found_in(redis_contents(REDIS_URL)),
        "logs and instance": found_in(files_contents(tmp)),
    }


def test_no_image_data_anywhere_after_streaming(distributed, tmp_path, pg_database):
    base, web, worker, _ = distributed
    tenant = ApiClient(base, "Privacy")
    camera = tenant.camera()
    live = LiveListener(base, tenant.token)
    capture = Camera(base, camera["capture_token"])
    try:
        for _ in range(5):
            assert capture.send(face_jpeg())["ok"] is True
            time.sleep(0.25)
        assert live.wait(5, timeout=30), worker.output()[-4000:]
    finally:
        capture.close(), live.close()
    time.sleep(1)
    r = redis.Redis.from_url(REDIS_URL)
    assert not list(r.scan_iter("celery-task-meta-*")), "tasks must keep no result"
    # The search works: a frame planted in each place is found (in Redis, in the broker's hash of
    # unacknowledged messages too, base64-encoded as Celery would hold it)...
    planted = face_jpeg()
    r.set("planted", planted)
    r.hset("unacked", "planted", base64.b64encode(planted))
    assert found_in(redis_contents(REDIS_URL)) and r.delete("planted") and found_in(redis_contents(REDIS_URL))
    r.set("planted", planted)
    (tmp_path / "instance" / "planted.bin").write_bytes(planted)
    subprocess.run(
        [
            "psql",
            pg_database.replace("postgresql+psycopg://", "postgresql://"),
            "-qc",
            "CREATE TABLE planted (data bytea); INSERT INTO planted VALUES ('\\xffd8ffe000104a46');",
        ],
        check=True,
    )
    try:
        hits = search_everywhere(pg_database, tmp_path)
        assert all(hits.values()), hits
    finally:
        r.delete("planted")
        r.hdel("unacked", "planted")
        (tmp_path / "instance" / "planted.bin").unlink()
        subprocess.run(
            ["psql", pg_database.replace("postgresql+psycopg://", "postgresql://"), "-qc", "DROP TABLE planted"], check=True
        )
    # ...and without the plants, nothing is.
    assert search_everywhere(pg_database, tmp_path) == {"database": [], "redis": [], "logs and instance": []}
