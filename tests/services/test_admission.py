"""Frames in flight per camera and per tenant: exact caps, places given back, lost frames lapse
one by one. Both state stores (Redis for the distributed mode, memory for the embedded one)."""

from __future__ import annotations

import threading
import time

import pytest

from app.infra.state import PREFIX, MemoryStore, RedisStore, store
from app.services.admission import RATES_KEY, ThroughputMeter, admit_frame, release_frame, sized_caps
from tests.conftest import REDIS_URL

CAM, CAM2, TENANT = "adm-test:cam", "adm-test:cam2", "adm-test:tenant"


@pytest.fixture(params=["memory", "redis"])
def state(request):
    if request.param == "memory":
        yield MemoryStore()
        return
    redis_store = RedisStore(REDIS_URL)
    keys = [PREFIX + k for k in (CAM, CAM2, TENANT)]
    redis_store.redis.delete(*keys)
    yield redis_store
    redis_store.redis.delete(*keys)


def test_caps_are_exact_and_name_the_full_key(state):
    limits = {CAM: 2, TENANT: 3}
    assert state.admit(limits, "f1", 10) is None
    assert state.admit(limits, "f2", 10) is None
    assert state.admit(limits, "f3", 10) == CAM  # the camera's two places are taken
    assert state.admit({CAM2: 2, TENANT: 3}, "g1", 10) is None
    assert state.admit({CAM2: 2, TENANT: 3}, "g2", 10) == TENANT  # the tenant's three are
    state.release([CAM, TENANT], "f1")
    assert state.admit({CAM2: 2, TENANT: 3}, "g2", 10) is None  # a released place is free at once
    assert state.admit(limits, "f4", 10) == TENANT


def test_a_refused_frame_takes_no_place(state):
    assert state.admit({CAM: 1, TENANT: 5}, "f1", 10) is None
    for i in range(5):
        assert state.admit({CAM: 1, TENANT: 5}, f"r{i}", 10) == CAM
    # The tenant still holds one frame only: four others may come in from another camera.
    assert [state.admit({CAM2: 9, TENANT: 5}, f"g{i}", 10) for i in range(5)] == [None] * 4 + [TENANT]


def test_lost_frames_lapse_one_by_one_and_the_cap_holds_through_it(state):
    """Regression: a counter whose key expired as a whole forgot the frames still in flight, and
    their late decrements then freed places that were taken: under a steady overload the queue
    grew to ~80 frames with a tenant cap of 24 (measured with `make loadtest`)."""
    limits = {CAM: 2}
    assert state.admit(limits, "lost", 0.6) is None  # its worker was killed: never released
    time.sleep(0.3)
    assert state.admit(limits, "slow", 0.6) is None
    assert state.admit(limits, "x", 0.6) == CAM
    time.sleep(0.45)  # "lost" lapsed, "slow" has not
    assert state.admit(limits, "new", 0.6) is None
    assert state.admit(limits, "y", 0.6) == CAM  # still exactly two in flight
    state.release([CAM], "lost")  # a late release of a lapsed frame frees nothing
    assert state.admit(limits, "z", 0.6) == CAM


def test_concurrent_admissions_never_exceed_the_cap(state):
    admitted: list[str] = []
    lock = threading.Lock()

    def web_thread(n: int) -> None:
        for i in range(40):
            if state.admit({CAM: 5, TENANT: 7}, f"{n}-{i}", 10) is None:
                with lock:
                    admitted.append(f"{n}-{i}")

    threads = [threading.Thread(target=web_thread, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(admitted) == 5


# Admission sized from measured throughput (app/services/admission.py), through admit_frame with
# both stores: the Redis path is the one-round-trip script, the memory path the stores' calls.
T1, T2 = 910_001, 910_002  # ids no other test uses: the sets are keyed by them


@pytest.fixture(params=["memory", "redis"])
def sized(request):
    from app import create_app
    from tests.conftest import _testing

    url = REDIS_URL if request.param == "redis" else ""
    overrides = {"REDIS_URL": url, "FRAME_BATCH_MAX": 16, "ADMISSION_WINDOW_S": 0.15, "TENANT_MAX_IN_FLIGHT": 48}
    app = create_app({**_testing(), "SQLALCHEMY_DATABASE_URI": "sqlite://", **overrides})

    def clean() -> None:
        if url:
            client = RedisStore(url).redis
            keys = [k for pattern in ("inflight*", "throughput", "tenants_active") for k in client.keys(PREFIX + pattern)]
            if keys:
                client.delete(*keys)

    clean()
    with app.app_context():
        yield store()
    clean()


def frames_of(tenant: int, count: int, first_camera: int) -> list[tuple[int, int, str]]:
    """``count`` frames over cameras two by two (each camera's own cap is 2)."""
    return [(tenant, first_camera + i // 2, f"{tenant}-{first_camera}-{i}") for i in range(count)]


def admit_all(frames: list[tuple[int, int, str]]) -> list[str | None]:
    return [admit_frame(t, c, f, counted=True) for t, c, f in frames]


def test_sized_caps_give_every_worker_two_batches_or_the_window_of_its_throughput():
    assert sized_caps([10.0, 10.0], 1, 16, 0.15) == (64, 64)  # slow workers: a batch each and the next
    assert sized_caps([400.0], 1, 16, 0.15) == (60, 60)
    assert sized_caps([400.0], 1, 32, 0.15) == (64, 64)  # two batches are more than 0.15 s  # 0.15 s of 400 frames/s
    assert sized_caps([400.0], 3, 16, 0.15) == (60, 20)  # three active tenants share it
    assert sized_caps([400.0], 7, 16, 0.15) == (60, 9)  # rounded up
    assert sized_caps([400.0, 400.0], 2, 16, 0.15) == (120, 60)


def test_unmeasured_the_configured_tenant_cap_holds(sized):
    reasons = admit_all(frames_of(T1, 60, 920_000))
    assert reasons.count(None) == 48 and set(reasons) == {None, "tenant_busy"}


def test_measured_throughput_sizes_the_tenants_fair_shares(sized):
    refused_before = sized.counters().get("frames_rejected_tenant_busy", 0)
    sized.publish_rate(RATES_KEY, "worker-a", 400.0, 10)  # 0.15 s of it: 60 frames in flight
    first = frames_of(T1, 70, 930_000)
    reasons = admit_all(first)
    # Alone: the configured 48 stays the ceiling (one queue for all: a larger share would put a
    # flooding tenant's frames ahead of the next tenant's for longer).
    assert reasons.count(None) == 48 and reasons[48:] == ["tenant_busy"] * 22
    # A second tenant: 30 places each. It gets its share at once, without waiting for the first
    # tenant's frames to drain; the first is refused until it holds less than its new share.
    reasons = admit_all(frames_of(T2, 40, 950_000))
    assert reasons.count(None) == 30 and reasons[30:] == ["tenant_busy"] * 10
    assert admit_all(frames_of(T1, 1, 960_000)) == ["tenant_busy"]
    for tenant, camera, frame in first[:35]:
        release_frame(tenant, camera, frame)
    reasons = admit_all(frames_of(T1, 20, 970_000))
    assert reasons.count(None) == 17 and reasons[17:] == ["tenant_busy"] * 3  # 13 held: up to 30, its share
    assert sized.counters()["frames_rejected_tenant_busy"] - refused_before == 36


def test_a_lapsed_rate_falls_back_to_the_configured_cap(sized):
    sized.publish_rate(RATES_KEY, "worker-a", 400.0, 0.3)
    assert sized.rates(RATES_KEY) == [400.0]
    time.sleep(0.5)  # the worker stopped publishing (killed)
    assert sized.rates(RATES_KEY) == []
    assert admit_all(frames_of(T1, 60, 980_000)).count(None) == 48


def test_the_meter_publishes_its_mean_frames_per_second_of_analysis(sized):
    meter = ThroughputMeter("worker-b", alpha=0.5)
    meter.add(16, 0.1, now=100.0)  # 160 frames/s, published at once
    assert sized.rates(RATES_KEY) == [160.0]
    meter.add(16, 0.2, now=100.5)  # 80: the mean moves to 120, published a second after the last
    assert sized.rates(RATES_KEY) == [160.0]
    meter.add(0, 0.01, now=101.0)  # a batch of stale frames measures nothing
    meter.add(8, 0.1, now=101.2)  # 80 again: 100
    assert sized.rates(RATES_KEY) == [100.0]
