"""The intake session caches the camera, site and tenant facts: no query per frame, yet every
change of access committed through a service reaches the very next frame (its change event),
and a change that no event announced is seen within REFRESH_S."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import event, update

from app import jobs
from app.extensions import db
from app.models import Camera, Site, Tenant
from app.services import cameras, intake, privacy
from app.services.intake import ANALYZE_TASK, IntakeSession, accept_frame
from tests.images import face_jpeg

JPEG = face_jpeg()  # a real 640-wide photo, read once


@pytest.fixture
def sent(app, monkeypatch) -> list[tuple]:
    frames: list[tuple] = []
    monkeypatch.setitem(jobs._senders, ANALYZE_TASK, lambda *args: frames.append(args))
    app.config.update(MAX_FRAMES_IN_FLIGHT=1000, TENANT_MAX_IN_FLIGHT=1000)  # no worker releases places here
    return frames


@pytest.fixture
def site_id(tenant_a) -> int:
    return tenant_a.site()["id"]


@pytest.fixture
def camera_id(tenant_a, site_id) -> int:
    return tenant_a.camera(site_id)["id"]


def _warm(app, camera_id: int, with_token: bool = True) -> IntakeSession:
    """A session whose facts are cached by one accepted frame; a rate that never refuses."""
    with app.app_context():
        session = IntakeSession.for_camera(db.session.get(Camera, camera_id), with_token=with_token)
        session.fps, session.tokens = 10**6, 100.0
        assert accept_frame(session, JPEG)["ok"] is True
    return session


def _frame(app, session: IntakeSession) -> dict:
    with app.app_context():
        return accept_frame(session, JPEG)


def test_no_database_statement_per_frame_in_steady_state(app, camera_id, sent):
    session = _warm(app, camera_id)
    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        acks = [_frame(app, session) for _ in range(50)]
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert all(a["ok"] for a in acks) and len(sent) == 51
    assert statements == []


def test_a_rotated_token_reaches_the_next_frame(app, camera_id, sent):
    session, gateway = _warm(app, camera_id), _warm(app, camera_id, with_token=False)
    with app.app_context():
        cameras.rotate_token(db.session.get(Camera, camera_id))
    assert _frame(app, session) == {"ok": False, "error": "token_revoked"}
    assert _frame(app, gateway)["ok"] is True


def test_disabling_and_enabling_a_camera_reach_the_next_frame(app, camera_id, sent):
    session = _warm(app, camera_id, with_token=False)
    with app.app_context():
        cameras.update_camera(db.session.get(Camera, camera_id), enabled=False)
    assert _frame(app, session) == {"ok": False, "error": "camera_disabled"}
    with app.app_context():
        cameras.update_camera(db.session.get(Camera, camera_id), enabled=True)
    assert _frame(app, session)["ok"] is True


def test_a_refused_purpose_and_its_correction_reach_the_next_frame(app, tenant_a, site_id, camera_id, sent):
    session = _warm(app, camera_id)
    with app.app_context():
        privacy.declare_purpose(db.session.get(Site, site_id), "education", "customer_experience", tenant_a.admin_id)
    assert _frame(app, session)["error"] == "purpose_not_allowed"
    with app.app_context():
        privacy.declare_purpose(db.session.get(Site, site_id), "education", "safety", tenant_a.admin_id)
    assert _frame(app, session)["ok"] is True


def test_the_tenants_outside_eu_flag_reaches_the_next_frame(app, tenant_a, site_id, camera_id, sent):
    with app.app_context():
        privacy.update_settings(db.session.get(Tenant, tenant_a.id), tenant_a.admin_id, outside_eu=True)
        privacy.declare_purpose(db.session.get(Site, site_id), "workplace", "customer_experience", tenant_a.admin_id)
    session = _warm(app, camera_id)  # allowed: the organisation declared it operates outside the EU
    with app.app_context():
        privacy.update_settings(db.session.get(Tenant, tenant_a.id), tenant_a.admin_id, outside_eu=False)
    assert _frame(app, session)["error"] == "purpose_not_allowed"


def test_a_moved_camera_streams_into_its_new_site_from_the_next_frame(app, tenant_a, camera_id, sent):
    other = tenant_a.site("Other")["id"]
    session = _warm(app, camera_id)
    with app.app_context():
        cameras.update_camera(db.session.get(Camera, camera_id), site=db.session.get(Site, other))
    assert _frame(app, session)["ok"] is True
    assert sent[-1][1] == other and session.site_id == other


def test_an_unannounced_change_is_seen_within_the_refresh_bound(app, camera_id, sent, monkeypatch):
    monkeypatch.setattr(intake, "REFRESH_S", 0.3)
    session = _warm(app, camera_id)
    with app.app_context():  # straight to the database: no service, so no change event
        db.session.execute(update(Camera).where(Camera.id == camera_id).values(enabled=False))
        db.session.commit()
    assert _frame(app, session)["ok"] is True  # the cached facts: no query for this frame
    time.sleep(0.35)
    assert _frame(app, session) == {"ok": False, "error": "camera_disabled"}


def test_with_redis_admission_and_its_counts_take_one_round_trip(app, camera_id, sent, monkeypatch):
    import redis

    import tests.conftest as conftest
    from app.infra.state import store
    from app.services.camera_status import stats_key

    app.config.update(REDIS_URL=conftest.REDIS_URL, MAX_FRAMES_IN_FLIGHT=2)
    with app.app_context():
        store().redis.delete("emotiscan:counters", "emotiscan:" + stats_key(camera_id), f"emotiscan:inflight:{camera_id}")
    session = _warm(app, camera_id)
    calls: list[str] = []
    command = redis.Redis.execute_command
    monkeypatch.setattr(redis.Redis, "execute_command", lambda self, *a, **k: calls.append(a[0]) or command(self, *a, **k))
    monkeypatch.setattr(redis.client.Pipeline, "execute", lambda self, *a, **k: calls.append("pipeline") or [])
    assert _frame(app, session)["ok"] is True
    assert calls == ["EVALSHA"]  # admission, frames_received and the camera's count together
    assert _frame(app, session) == {"ok": False, "error": "busy"}  # two in flight already
    assert calls == ["EVALSHA", "EVALSHA"]
    monkeypatch.undo()
    with app.app_context():
        counters, tallies = store().counters(), store().tallies(stats_key(camera_id))
    assert (counters["frames_received"], counters["frames_rejected_busy"]) == (2, 1)
    assert (tallies["received"], tallies["refused"]) == (2, 1)
