"""Rule kinds (app/rules/kinds): person against share with faces taking turns, rise and baseline on
stored histories, validation of each kind's parameters, and the state's round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.rules import AlertEnded, AlertStarted, RuleSpec, RuleState, evaluate, sample_from_faces
from app.rules.kinds import KINDS, validate_params
from app.rules.kinds.baseline import SLOT_S, learn_levels

HAPPY = {"happy": 0.9, "neutral": 0.1, "angry": 0.0, "sad": 0.0, "fear": 0.0, "surprise": 0.0, "disgust": 0.0}
NEUTRAL = {"happy": 0.05, "neutral": 0.95, "angry": 0.0, "sad": 0.0, "fear": 0.0, "surprise": 0.0, "disgust": 0.0}
LEFT, RIGHT = [10, 10, 60, 60], [200, 10, 60, 60]


def _rule(kind: str, **extra) -> RuleSpec:
    fields = {"id": 1, "emotion": "happy", "threshold": 0.6, "duration_s": 10, "min_share": 0.8, "cooldown_s": 60}
    return RuleSpec(**{**fields, **extra}, kind=kind)


def _run(rule: RuleSpec, frames: list[tuple[float, list[dict]]]) -> list:
    state, events = RuleState(), []
    for ts, faces in frames:
        # through the stored form each time, as the shared store keeps it
        state, new = evaluate(rule, RuleState.from_dict(state.to_dict()), sample_from_faces(rule, ts, faces))
        events += new
    return events


def _taking_turns(seconds: float = 30, fps: int = 4) -> list[tuple[float, list[dict]]]:
    """Two faces side by side; which one smiles swaps every 1.5 s, so a happy face is always in view."""
    frames = []
    for i in range(int(seconds * fps)):
        ts = 1_000.0 + i / fps
        a_happy = int((ts - 1_000.0) // 1.5) % 2 == 0
        frames.append(
            (
                ts,
                [
                    {"track_id": "c1-t1", "box": LEFT, "scores": HAPPY if a_happy else NEUTRAL},
                    {"track_id": "c1-t2", "box": RIGHT, "scores": NEUTRAL if a_happy else HAPPY},
                ],
            )
        )
    return frames


def test_faces_taking_turns_fire_a_share_rule_but_not_a_person_rule():
    frames = _taking_turns()
    share = _run(_rule("share"), frames)
    assert [type(e) for e in share] == [AlertStarted]
    assert _run(_rule("person"), frames) == []


def test_one_face_that_stays_happy_fires_a_person_rule_with_its_track_and_last_box():
    frames = [
        (
            1_000.0 + i / 4,
            [
                {"track_id": "c1-t7", "box": [10 + i, 10, 60, 60], "scores": HAPPY},
                {"track_id": "c1-t8", "box": RIGHT, "scores": NEUTRAL},
            ],
        )
        for i in range(80)
    ]
    events = _run(_rule("person"), frames)
    assert len(events) == 1 and isinstance(events[0], AlertStarted)
    started = events[0]
    assert started.details["track_id"] == "c1-t7"
    assert started.value == 0.9
    # The window covered (90%, each frame standing for its period of 0.25 s), not before.
    assert 1_000.0 + 9 - 0.25 <= started.ts <= 1_000.0 + 12
    # the face's box at the decision time (it moved one pixel a frame), not the other face's
    assert started.details["box"] == [10 + round((started.ts - 1_000.0) * 4), 10, 60, 60]


def test_a_person_alert_ends_when_its_track_stops_smiling_not_when_another_does():
    frames = [(1_000.0 + i / 4, [{"track_id": "t1", "box": LEFT, "scores": HAPPY}]) for i in range(60)]
    frames += [(1_015.0 + i / 4, [{"track_id": "t1", "box": LEFT, "scores": NEUTRAL}]) for i in range(60)]
    events = _run(_rule("person"), frames)
    assert [type(e) for e in events] == [AlertStarted, AlertEnded]
    assert events[1].ts > 1_015.0


def test_faces_without_a_track_id_never_crash_and_never_fire_a_person_rule():
    frames = [(1_000.0 + i / 4, [{"box": LEFT, "scores": HAPPY}, {"track_id": None, "scores": HAPPY}]) for i in range(80)]
    assert _run(_rule("person"), frames) == []
    assert len(_run(_rule("share"), frames)) == 1  # the same frames still fire a share rule


def _history(levels: list[tuple[float, float]], fps: int = 2) -> list[tuple[float, list[dict]]]:
    """(seconds, happy score) segments one after the other: a stored history of one camera."""
    frames, ts = [], 5_000.0
    for seconds, happy in levels:
        for _ in range(int(seconds * fps)):
            scores = {**NEUTRAL, "happy": happy, "neutral": 1 - happy}
            frames.append((ts, [{"box": LEFT, "scores": scores}]))
            ts += 1 / fps
    return frames


def test_rise_fires_on_a_sudden_change_between_two_windows_only():
    rule = _rule("rise", threshold=0.3, duration_s=20)
    jump = _run(rule, _history([(60, 0.1), (60, 0.6)]))
    assert [type(e) for e in jump] == [AlertStarted, AlertEnded]
    assert jump[0].details["rise"] >= 0.3 and 5_060.0 < jump[0].ts < 5_085.0
    # the same level reached slowly (0.1 per window) never rises 0.3 between two windows
    assert _run(rule, _history([(20, 0.1), (20, 0.2), (20, 0.3), (20, 0.4), (20, 0.5), (20, 0.6)])) == []
    # a high level that stays high is not a rise
    assert _run(rule, _history([(120, 0.8)])) == []


def _rollups(weeks: int, level: float, start: datetime) -> list[tuple[int, int, float]]:
    """The rollup rows (slot, classified faces, happy sum) of the same hour in past weeks."""
    rows = []
    for week in range(1, weeks + 1):
        slot_start = int((start - timedelta(weeks=week)).timestamp()) // SLOT_S
        rows += [(slot_start + q, 100, 100 * level) for q in range(4)]
    return rows


def test_baseline_learns_the_usual_level_of_the_hour_and_fires_above_it():
    zone = "Europe/Paris"
    now = datetime(2026, 11, 30, 14, 0, tzinfo=ZoneInfo(zone))  # a Monday, 14:00 site time
    levels = learn_levels(_rollups(3, 0.2, now), zone, min_weeks=3)
    assert levels == {"0:14": 0.2}
    rule = RuleSpec(1, "happy", 0.3, 20, kind="baseline", timezone=zone, params={"min_weeks": 3}, context={"levels": levels})
    t0 = now.astimezone(UTC).timestamp() + 60
    frames = [(t0 + ts - 5_000.0, faces) for ts, faces in _history([(40, 0.3), (40, 0.6)])]
    events = _run(rule, frames)
    assert [type(e) for e in events] == [AlertStarted]
    assert events[0].details == {"usual_level": 0.2, "excess": events[0].details["excess"]}
    assert events[0].details["excess"] >= 0.3 and events[0].ts > t0 + 40
    # 0.3 above a usual 0.2 is 0.1 excess: below the threshold, silent
    assert _run(rule, frames[:80]) == []


def test_baseline_is_silent_until_enough_weeks_of_history():
    zone = "UTC"
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert learn_levels(_rollups(2, 0.1, now), zone, min_weeks=3) == {}
    rule = RuleSpec(1, "happy", 0.3, 20, kind="baseline", context={"levels": learn_levels(_rollups(2, 0.1, now), zone, 3)})
    frames = [(now.timestamp() + ts - 5_000.0, faces) for ts, faces in _history([(80, 0.9)])]
    assert _run(rule, frames) == []


def test_every_kind_is_registered_and_validates_its_own_fields():
    assert set(KINDS) == {"share", "person", "rise", "baseline"}
    assert validate_params("baseline", {}) == ({"min_weeks": 3}, {})
    assert validate_params("baseline", {"min_weeks": 0}) == ({}, {"min_weeks": "out_of_range"})
    assert validate_params("baseline", {"min_weeks": 2.5})[1] == {"min_weeks": "invalid"}
    assert validate_params("baseline", {"min_weeks": True})[1] == {"min_weeks": "invalid"}
    assert validate_params("share", {"min_weeks": 99}) == ({}, {})  # not a share rule's field
    assert validate_params("crowd", {})[1] == {"kind": "invalid"}
    assert validate_params(None, {})[1] == {"kind": "invalid"}


def test_a_share_rule_is_the_default_and_its_stored_state_keeps_its_old_form():
    rule = RuleSpec(1, "happy", 0.6, 10)
    assert rule.kind == "share"
    state, _ = evaluate(rule, RuleState(), sample_from_faces(rule, 1.0, [{"scores": HAPPY, "track_id": "t"}]))
    assert state.to_dict() == {"s": [[1.0, 1, 0.9]], "o": None, "l": None, "d": None}


def test_a_baseline_rule_learns_its_levels_from_the_stored_rollups_of_past_weeks(app, tenant_a):
    from types import SimpleNamespace

    from app.extensions import db
    from app.models.base import utcnow
    from app.models.rollup import ObservationRollup
    from app.services.alerts.evaluation import rule_context

    site = tenant_a.site()
    cam = tenant_a.camera(site["id"])
    with app.app_context():
        now = utcnow().replace(minute=0, second=0, microsecond=0)
        for week, level in ((1, 0.1), (2, 0.2), (3, 0.3), (0, 0.9)):  # week 0: this week, not history
            slot = int((now - timedelta(weeks=week)).timestamp()) // SLOT_S
            db.session.add(
                ObservationRollup(
                    camera_id=cam["id"], slot=slot, tenant_id=tenant_a.id, site_id=site["id"], classified=10, happy=10 * level
                )
            )
        db.session.commit()
        key = f"{now.weekday()}:{now.hour}"
        rule = SimpleNamespace(kind="baseline", emotion="happy", params={"min_weeks": 3})
        assert rule_context(rule, cam["id"], "UTC") == {"levels": {key: 0.2}}
        assert rule_context(SimpleNamespace(**{**vars(rule), "params": {"min_weeks": 4}}), cam["id"], "UTC") == {"levels": {}}
        assert rule_context(SimpleNamespace(kind="share", emotion="happy", params={}), cam["id"], "UTC") == {}
