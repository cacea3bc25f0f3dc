"""Rules evaluated on each observation (state in the shared store) and replayed by the simulator."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.infra.state import Update, store
from app.models import Alert, AlertRule, Site
from app.models.base import utcnow
from app.rules import AlertEnded, AlertStarted, RuleState, evaluate, sample_from_faces
from app.rules.kinds import kind_of
from app.services.alerts.rules import rules_for_camera, spec_of, version_key
from app.timefmt import iso_utc


@dataclass
class CameraHistory:
    """A camera's past as a rule kind's ``context`` reads it (app/rules/kinds/base.History)."""

    camera_id: int
    timezone: str

    def rollups(self, members: tuple[str, ...], since_slot: int, until_slot: int) -> list[tuple[int, int, float]]:
        from app.models.rollup import ObservationRollup  # noqa: PLC0415 - only kinds with a context read rollups

        total = sum(getattr(ObservationRollup, m) for m in members)
        rows = db.session.execute(
            select(ObservationRollup.slot, ObservationRollup.classified, total).where(
                ObservationRollup.camera_id == self.camera_id,
                ObservationRollup.slot >= since_slot,
                ObservationRollup.slot < until_slot,
            )
        )
        return [tuple(r) for r in rows]


def rule_context(rule: AlertRule, camera_id: int, timezone: str) -> dict:
    """What the rule's kind needs beyond the frames (its ``context`` hook: baseline's usual levels);
    kinds without a hook need nothing."""
    kind = kind_of(getattr(rule, "kind", None))
    if not kind.has_context:
        return {}
    return kind.context(rule, CameraHistory(camera_id, timezone), utcnow().timestamp())


def cached_rule_context(rule: AlertRule, camera_id: int, timezone: str) -> dict:
    """rule_context kept in the shared store for the kind's ``context_ttl_s``, so that a rule does not
    read its history on every frame; a change of the rule's expression, parameters or zone reads again."""
    kind = kind_of(rule.kind)
    if not kind.has_context:
        return {}
    key = f"rule:{rule.id}:camera:{camera_id}:{kind.name}"
    signature = [rule.emotion, dict(rule.params or {}), timezone]
    cached = store().get_json(key)
    if cached is not None and cached.get("signature") == signature:
        return cached["context"]
    context = rule_context(rule, camera_id, timezone)
    store().set_json(key, {"signature": signature, "context": context}, ttl_s=kind.context_ttl_s)
    return context


RULES_REFRESH_S = 5.0  # cached rules are read again at least this often, in case a change event is lost
_rules_lock = threading.Lock()


def _cache() -> dict[tuple[int, int, int], tuple[float, int, list, str]]:
    # Kept on the app, as the memory store is: ids and versions restart with a new database.
    return current_app.extensions.setdefault("emotiscan_rules_cache", {})


def _snapshot(rule: AlertRule) -> SimpleNamespace:
    """The rule's columns, detached from any session: safe to keep between batches."""
    return SimpleNamespace(**{a.key: getattr(rule, a.key) for a in AlertRule.__mapper__.column_attrs})


def cached_rules(tenant_id: int, site_id: int, camera_id: int, version: int) -> tuple[list, str]:
    """The camera's enabled rules and its site's time zone, read once per rules version (and at
    least every RULES_REFRESH_S) instead of on every frame."""
    key = (tenant_id, site_id, camera_id)
    now = time.monotonic()
    cache = _cache()
    with _rules_lock:
        hit = cache.get(key)
    if hit is not None and hit[1] == version and now - hit[0] < RULES_REFRESH_S:
        return hit[2], hit[3]
    rules = [_snapshot(r) for r in rules_for_camera(tenant_id, site_id, camera_id)]
    timezone = (db.session.scalar(select(Site.timezone).where(Site.id == site_id)) or "UTC") if rules else "UTC"
    with _rules_lock:
        if len(cache) > 10_000:  # deleted cameras' entries
            cache.clear()
        cache[key] = (now, version, rules, timezone)
    return rules, timezone


def rules_versions(tenant_ids: set[int]) -> dict[int, int]:
    """The current rules version of each tenant (one read of the shared store per tenant)."""
    return {t: int(store().get_json(version_key(t)) or 0) for t in tenant_ids}


@dataclass
class Reading:
    """One stored frame as the rules see it."""

    tenant_id: int
    site_id: int
    camera_id: int
    ts: float
    faces: list[dict]


@dataclass
class RuleBatch:
    """The rule states a batch of readings moves on: one read-modify-write (``updates``, for
    :meth:`StateStore.update_json_many`) per (rule, camera), and what they produced once run."""

    readings: list[Reading]
    updates: dict[str, Update]
    events: dict[str, list[tuple[int, int, object, object]]]  # per update: (reading, rule order, rule, event)


def rule_updates(readings: list[Reading], versions: dict[int, int] | None = None) -> RuleBatch:
    """The rule-state updates for ``readings``, to run in one transaction with others of the batch.

    Each update reads its readings' faces when it runs, so that an update of the same
    transaction that ran before it (the tracker's, which gives each face its track id) is seen."""
    versions = versions if versions is not None else rules_versions({r.tenant_id for r in readings})
    by_camera: dict[tuple[int, int, int], list[int]] = {}
    for i, r in enumerate(readings):
        by_camera.setdefault((r.tenant_id, r.site_id, r.camera_id), []).append(i)
    batch = RuleBatch(readings, {}, {})
    for (tenant_id, site_id, camera_id), indexes in by_camera.items():
        rules, timezone = cached_rules(tenant_id, site_id, camera_id, versions.get(tenant_id, 0))
        for order, rule in enumerate(rules):
            spec = spec_of(rule, timezone, cached_rule_context(rule, camera_id, timezone))
            key = f"rule:{rule.id}:camera:{camera_id}"
            events = batch.events[key] = []

            def step(data: dict | None, spec=spec, indexes=indexes, events=events, order=order, rule=rule) -> dict:
                events.clear()  # may run again on a conflict
                state = RuleState.from_dict(data)
                for i in indexes:
                    state, out = evaluate(spec, state, sample_from_faces(spec, readings[i].ts, readings[i].faces))
                    events.extend((i, order, rule, e) for e in out)
                return state.to_dict()

            batch.updates[key] = (step, int(3 * rule.duration_s + rule.cooldown_s + 60))
    return batch


def evaluate_batch(readings: list[Reading], versions: dict[int, int] | None = None) -> list[list[Alert]]:
    """Feed stored frames to their cameras' rules; per reading, the alerts that started or ended.
    Nothing is committed: the caller commits them with the frames' observations.

    Each (rule, camera) state is read and written once per batch, atomically in the shared store
    (frames of one camera in their order), so that workers given interleaved frames of one camera
    produce each alert exactly once. Alerts are created in (frame, rule) order, as frame by frame."""
    batch = rule_updates(readings, versions)
    store().update_json_many(batch.updates)
    return batch_alerts(batch)


def batch_alerts(batch: RuleBatch, stored: set[int] | None = None) -> list[list[Alert]]:
    """The alerts of a batch whose updates ran, added to the session (not committed): per reading,
    those that started or ended. ``stored``: the readings whose frames were stored (None: all);
    the others' events are dropped (their camera was deleted meanwhile)."""
    readings = batch.readings
    produced = [p for events in batch.events.values() for p in events if stored is None or p[0] in stored]
    changed: list[list[Alert]] = [[] for _ in readings]
    for i, _, rule, event in sorted(produced, key=lambda p: (p[0], p[1])):
        reading = readings[i]
        if isinstance(event, AlertStarted):
            alert = Alert(
                tenant_id=reading.tenant_id,
                rule_id=rule.id,
                site_id=reading.site_id,
                camera_id=reading.camera_id,
                emotion=rule.emotion,
                severity=rule.severity,
                value=event.value,
                status="open",
                started_at=datetime.fromtimestamp(event.ts, UTC),
                details=event.details or None,
            )
            db.session.add(alert)
            changed[i].append(alert)
        elif isinstance(event, AlertEnded):
            alert = db.session.scalar(
                select(Alert)
                .where(Alert.rule_id == rule.id, Alert.camera_id == reading.camera_id, Alert.resolved_at.is_(None))
                .order_by(Alert.id.desc())
                .limit(1)
            )
            if alert is not None:
                alert.resolved_at = datetime.fromtimestamp(event.ts, UTC)
                alert.status = "resolved"
                changed[i].append(alert)
    return changed


def evaluate_observation(tenant_id: int, site_id: int, camera_id: int, ts: float, faces: list[dict]) -> list[Alert]:
    """Feed one observation to the camera's rules and commit; returns the alerts that started or ended."""
    changed = evaluate_batch([Reading(tenant_id, site_id, camera_id, ts, faces)])[0]
    db.session.commit()
    return changed


def simulate(rule: AlertRule, timezone: str, camera_ids: list[int], hours: float) -> list[dict]:
    """Replay the last ``hours`` of stored observations of these cameras against an unsaved
    rule: when it would have fired and ended (no alert is stored, nothing is emitted)."""
    from app.models import Observation  # noqa: PLC0415

    since = utcnow() - timedelta(hours=hours)
    results: list[dict] = []
    for camera_id in camera_ids:
        spec = spec_of(rule, timezone, rule_context(rule, camera_id, timezone))
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
