"""Rules evaluated on each observation (state in the shared store) and replayed by the simulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.infra.state import store
from app.models import Alert, AlertRule, Site
from app.models.base import utcnow
from app.rules import RULE_TYPES, AlertEnded, AlertStarted, RuleState, evaluate, sample_from_faces
from app.rules.kinds.baseline import SLOT_S, learn_levels
from app.services.alerts.rules import rules_for_camera, spec_of
from app.timefmt import iso_utc

HISTORY_WEEKS = 12  # how far back a baseline rule's usual levels are learnt
BASELINE_TTL_S = 900  # usual levels change by the week: learnt again at most every rollup slot, not per frame


def baseline_context(rule: AlertRule, camera_id: int, timezone: str) -> dict:
    """A baseline rule's usual levels ("weekday:hour" -> mean score) from the camera's 15-minute
    rollups of past weeks; other kinds need nothing."""
    if (getattr(rule, "kind", None) or "share") != "baseline":
        return {}
    from app.models.rollup import ObservationRollup  # noqa: PLC0415 - only baseline rules read rollups

    members = RULE_TYPES[rule.emotion]
    total = sum(getattr(ObservationRollup, m) for m in members)
    since = int((utcnow() - timedelta(weeks=HISTORY_WEEKS)).timestamp()) // SLOT_S
    # past weeks only: the same weekday and hour is at least 7 days ago, today is left out
    this_week = int((utcnow() - timedelta(days=1)).timestamp()) // SLOT_S
    rows = db.session.execute(
        select(ObservationRollup.slot, ObservationRollup.classified, total).where(
            ObservationRollup.camera_id == camera_id, ObservationRollup.slot >= since, ObservationRollup.slot < this_week
        )
    )
    min_weeks = int((getattr(rule, "params", None) or {}).get("min_weeks", 3))
    return {"levels": learn_levels([tuple(r) for r in rows], timezone, min_weeks)}


def cached_baseline_context(rule: AlertRule, camera_id: int, timezone: str) -> dict:
    """baseline_context kept in the shared store for BASELINE_TTL_S, so that a baseline rule does not
    read rollups on every frame; a change of the rule's expression, parameters or zone learns again."""
    if (rule.kind or "share") != "baseline":
        return {}
    key = f"rule:{rule.id}:camera:{camera_id}:baseline"
    signature = [rule.emotion, dict(rule.params or {}), timezone]
    cached = store().get_json(key)
    if cached is not None and cached.get("signature") == signature:
        return cached["context"]
    context = baseline_context(rule, camera_id, timezone)
    store().set_json(key, {"signature": signature, "context": context}, ttl_s=BASELINE_TTL_S)
    return context


def evaluate_observation(tenant_id: int, site_id: int, camera_id: int, ts: float, faces: list[dict]) -> list[Alert]:
    """Feed one observation to the camera's rules; returns the alerts that started or ended.

    Each (rule, camera) state is updated atomically in the shared store, so that workers given
    interleaved frames of one camera produce each alert exactly once.
    """
    rules = rules_for_camera(tenant_id, site_id, camera_id)
    if not rules:
        return []
    timezone = db.session.scalar(select(Site.timezone).where(Site.id == site_id)) or "UTC"
    changed: list[Alert] = []
    for rule in rules:
        spec = spec_of(rule, timezone, cached_baseline_context(rule, camera_id, timezone))
        sample = sample_from_faces(spec, ts, faces)
        produced: list = []

        def step(data: dict | None, spec=spec, sample=sample, produced=produced) -> dict:
            produced.clear()
            state, events = evaluate(spec, RuleState.from_dict(data), sample)
            produced.extend(events)
            return state.to_dict()

        store().update_json(f"rule:{rule.id}:camera:{camera_id}", step, ttl_s=int(3 * rule.duration_s + rule.cooldown_s + 60))
        for event in produced:
            if isinstance(event, AlertStarted):
                alert = Alert(
                    tenant_id=tenant_id,
                    rule_id=rule.id,
                    site_id=site_id,
                    camera_id=camera_id,
                    emotion=rule.emotion,
                    severity=rule.severity,
                    value=event.value,
                    status="open",
                    started_at=datetime.fromtimestamp(event.ts, UTC),
                    details=event.details or None,
                )
                db.session.add(alert)
                changed.append(alert)
            elif isinstance(event, AlertEnded):
                alert = db.session.scalar(
                    select(Alert)
                    .where(Alert.rule_id == rule.id, Alert.camera_id == camera_id, Alert.resolved_at.is_(None))
                    .order_by(Alert.id.desc())
                    .limit(1)
                )
                if alert is not None:
                    alert.resolved_at = datetime.fromtimestamp(event.ts, UTC)
                    alert.status = "resolved"
                    changed.append(alert)
    db.session.commit()
    return changed


def simulate(rule: AlertRule, timezone: str, camera_ids: list[int], hours: float) -> list[dict]:
    """Replay the last ``hours`` of stored observations of these cameras against an unsaved
    rule: when it would have fired and ended (no alert is stored, nothing is emitted)."""
    from app.models import Observation  # noqa: PLC0415

    since = utcnow() - timedelta(hours=hours)
    results: list[dict] = []
    for camera_id in camera_ids:
        spec = spec_of(rule, timezone, baseline_context(rule, camera_id, timezone))
        state = RuleState()
        rows = db.session.execute(
            select(Observation.ts, Observation.faces)
            .where(Observation.camera_id == camera_id, Observation.ts >= since)
            .order_by(Observation.ts)
        )
        for ts, faces in rows:
            state, events = evaluate(spec, state, sample_from_faces(spec, ts.timestamp(), faces or []))
            for event in events:
                results.append(
                    {
                        "camera_id": camera_id,
                        "event": "started" if isinstance(event, AlertStarted) else "ended",
                        "at": iso_utc(datetime.fromtimestamp(event.ts, UTC)),
                        "value": getattr(event, "value", None),
                        **({"details": event.details} if getattr(event, "details", None) else {}),
                    }
                )
    return sorted(results, key=lambda r: r["at"])
