"""Emotion reports: one grouped SQL query per figure, folded into local hours per site.

A report covers a scope (the tenant, a site or a camera) and a period of inclusive dates, each
site's dates read in its own time zone. It includes data up to the moment it is built.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, case, cast, false, func, literal, or_, select
from sqlalchemy.sql.expression import ColumnElement

from app.extensions import db
from app.inference.labels import EMOTIONS
from app.models import Alert, AlertRule, Camera, ObservationRollup, Site, Tenant, TrackSpan
from app.models.base import utcnow
from app.reporting.aggregate import SLOT_S, SlotRow, fold_slots
from app.reporting.people import SpanRow, fold_people
from app.reporting.periods import Period
from app.reporting.sql import epoch_bucket, seconds_between
from app.timefmt import iso_utc

COVERAGE_SLOT_S = 60  # a camera "was sending" during a minute in which one of its frames was analysed


@dataclass(frozen=True)
class Scope:
    """What a report covers; built only from objects already checked to belong to the tenant."""

    tenant_id: int
    tenant_name: str
    kind: str  # tenant | site | camera
    zones: dict[int, str]  # site id -> time zone, for every site covered
    site_names: dict[int, str]
    camera_id: int | None = None
    site_id: int | None = None
    label: str = ""


def scope_for(
    tenant: Tenant, site: Site | None = None, camera: Camera | None = None, allowed_site_ids: set[int] | None = None
) -> Scope:
    """The scope of a camera, a site, or the tenant (limited to ``allowed_site_ids`` if given)."""
    if camera is not None:
        site = camera.site
        return Scope(
            tenant.id,
            tenant.name,
            "camera",
            {site.id: site.timezone},
            {site.id: site.name},
            camera.id,
            site.id,
            f"{site.name} / {camera.name}",
        )
    if site is not None:
        return Scope(tenant.id, tenant.name, "site", {site.id: site.timezone}, {site.id: site.name}, None, site.id, site.name)
    stmt = select(Site).where(Site.tenant_id == tenant.id).order_by(Site.name)
    if allowed_site_ids is not None:
        stmt = stmt.where(Site.id.in_(allowed_site_ids))
    sites = db.session.scalars(stmt).all()
    return Scope(
        tenant.id, tenant.name, "tenant", {s.id: s.timezone for s in sites}, {s.id: s.name for s in sites}, label=tenant.name
    )


def scope_time_zone(scope: Scope) -> str:
    """The zone that names "today" for the scope: its site's, or the tenant's most common one."""
    if not scope.zones:
        return "Europe/Paris"
    counts: dict[str, int] = defaultdict(int)
    for zone in scope.zones.values():
        counts[zone] += 1
    return max(sorted(counts), key=counts.get)


def _windows(scope: Scope, period: Period) -> list[tuple[list[int], datetime, datetime]]:
    """Per time zone: its sites and the period's UTC bounds there."""
    by_zone: dict[str, list[int]] = defaultdict(list)
    for site_id, zone in scope.zones.items():
        by_zone[zone].append(site_id)
    return [(sorted(ids), *period.utc_bounds(ZoneInfo(zone))) for zone, ids in sorted(by_zone.items())]


def _in_scope(model, ts_column, scope: Scope, period: Period) -> ColumnElement:
    clauses = [and_(model.site_id.in_(ids), ts_column >= begin, ts_column < end) for ids, begin, end in _windows(scope, period)]
    condition = and_(model.tenant_id == scope.tenant_id, or_(*clauses) if clauses else false())
    if scope.camera_id is not None:
        condition = and_(condition, model.camera_id == scope.camera_id)
    return condition


def _rollups_in_scope(scope: Scope, period: Period) -> ColumnElement:
    """Slots of the period: local midnights fall on 15-minute boundaries in every time zone."""
    r = ObservationRollup
    clauses = [
        and_(r.site_id.in_(ids), r.slot >= int(begin.timestamp()) // SLOT_S, r.slot < int(end.timestamp()) // SLOT_S)
        for ids, begin, end in _windows(scope, period)
    ]
    condition = and_(r.tenant_id == scope.tenant_id, or_(*clauses) if clauses else false())
    if scope.camera_id is not None:
        condition = and_(condition, r.camera_id == scope.camera_id)
    return condition


def slot_rows(scope: Scope, period: Period) -> list[SlotRow]:
    """Counts, faces and score sums per site and 15-minute UTC slot, from the rollups (kept
    current with every stored observation, so a report includes data up to the request)."""
    r = ObservationRollup
    stmt = (
        select(
            r.site_id,
            r.slot,
            func.sum(r.observations),
            func.sum(r.faces),
            func.sum(r.classified),
            *(func.sum(getattr(r, e)) for e in EMOTIONS),
        )
        .where(_rollups_in_scope(scope, period))
        .group_by(r.site_id, r.slot)
    )
    return [
        SlotRow(row[0], int(row[1]), int(row[2]), int(row[3] or 0), int(row[4] or 0), tuple(row[5:]))
        for row in db.session.execute(stmt)
    ]


def coverage_rows(scope: Scope, period: Period) -> dict[int, int]:
    """Camera id -> minutes in which the camera had a frame analysed (bits set in the slots' masks)."""
    r = ObservationRollup
    bits = sum(((r.minutes.op(">>")(i)).op("&")(1) for i in range(SLOT_S // 60)), start=literal(0))
    stmt = select(r.camera_id, func.sum(bits)).where(_rollups_in_scope(scope, period)).group_by(r.camera_id)
    return {camera_id: int(n or 0) for camera_id, n in db.session.execute(stmt)}


def people_rows(scope: Scope, period: Period) -> list[SpanRow]:
    """The period's track spans (those that overlap it in their site's zone), grouped by camera,
    first and last slot and whole seconds in view: one grouped query, rows far fewer than tracks."""
    t = TrackSpan
    clauses = [and_(t.site_id.in_(ids), t.last_seen >= begin, t.first_seen < end) for ids, begin, end in _windows(scope, period)]
    condition = and_(t.tenant_id == scope.tenant_id, or_(*clauses) if clauses else false())
    if scope.camera_id is not None:
        condition = and_(condition, t.camera_id == scope.camera_id)
    first, last = epoch_bucket(t.first_seen, SLOT_S), epoch_bucket(t.last_seen, SLOT_S)
    seconds = cast(func.round(seconds_between(t.last_seen, t.first_seen)), Integer)
    stmt = (
        select(t.site_id, t.camera_id, first, last, seconds, func.count())
        .where(condition)
        .group_by(t.site_id, t.camera_id, first, last, seconds)
    )
    return [SpanRow(int(a), int(b), int(c), int(d), int(e or 0), int(n)) for a, b, c, d, e, n in db.session.execute(stmt)]


def people_section(scope: Scope, period: Period, cameras: list[Camera]) -> dict:
    """People seen (distinct anonymous tracks) and median time in view, in all, per site, per
    camera and per camera and local hour."""
    bounds = {}
    for ids, begin, end in _windows(scope, period):
        for site_id in ids:
            bounds[site_id] = (int(begin.timestamp()) // SLOT_S, int(end.timestamp()) // SLOT_S)
    folded = fold_people(people_rows(scope, period), scope.zones, bounds)
    none = {"people_seen": 0, "median_time_in_view_s": None}
    return {
        **folded["total"],
        "sites": [
            {"site_id": site_id, "name": scope.site_names.get(site_id, ""), **folded["per_site"].get(site_id, none)}
            for site_id in sorted(scope.zones, key=lambda s: scope.site_names.get(s, ""))
        ],
        "cameras": [
            {
                "camera_id": c.id,
                "camera": c.name,
                "site_id": c.site_id,
                **folded["per_camera"].get((c.site_id, c.id), none),
            }
            for c in cameras
        ],
        "hourly": folded["hourly"],
        "_site_hourly": folded["site_hourly"],
    }


def alert_counts(scope: Scope, period: Period) -> list[dict]:
    """Alerts that started in the period, by rule and severity (offline alerts have no rule)."""
    stmt = (
        select(Alert.rule_id, AlertRule.name, Alert.emotion, Alert.severity, func.count())
        .outerjoin(AlertRule, AlertRule.id == Alert.rule_id)
        .where(_in_scope(Alert, Alert.started_at, scope, period))
        .group_by(Alert.rule_id, AlertRule.name, Alert.emotion, Alert.severity)
        .order_by(func.count().desc(), Alert.rule_id)
    )
    return [
        {"rule_id": rule_id, "name": name or "", "emotion": emotion, "severity": severity, "count": int(n)}
        for rule_id, name, emotion, severity, n in db.session.execute(stmt)
    ]


def time_to_ack(scope: Scope, period: Period) -> dict:
    """Median and 90th percentile (nearest rank) of the seconds from an alert to its
    acknowledgement, computed by the database with window functions on both dialects."""
    seconds = seconds_between(Alert.acknowledged_at, Alert.started_at)
    ranked = (
        select(seconds.label("s"), func.row_number().over(order_by=seconds).label("rn"), func.count().over().label("n"))
        .where(_in_scope(Alert, Alert.started_at, scope, period), Alert.acknowledged_at.is_not(None))
        .subquery()
    )

    def at(percent: int):
        return func.max(case((ranked.c.rn == (percent * ranked.c.n + 99) // 100, ranked.c.s)))

    n, median, p90 = db.session.execute(select(func.max(ranked.c.n), at(50), at(90))).one()
    rnd = lambda v: None if v is None else round(float(v), 1)  # noqa: E731
    return {"acknowledged": int(n or 0), "median_s": rnd(median), "p90_s": rnd(p90)}


def build_report(scope: Scope, period: Period, now: datetime | None = None) -> dict:
    """The report as a JSON-ready dict (the API's answer and the source of CSV and PDF)."""
    now = now or utcnow()
    folded = fold_slots(slot_rows(scope, period), scope.zones)
    cameras_stmt = select(Camera).where(Camera.tenant_id == scope.tenant_id, Camera.site_id.in_(list(scope.zones) or [-1]))
    if scope.camera_id is not None:
        cameras_stmt = cameras_stmt.where(Camera.id == scope.camera_id)
    cameras = db.session.scalars(cameras_stmt.order_by(Camera.site_id, Camera.name)).all()
    minutes = coverage_rows(scope, period)
    elapsed: dict[int, float] = {}
    for ids, begin, end in _windows(scope, period):
        for site_id in ids:
            elapsed[site_id] = max(0.0, (min(end, now) - begin).total_seconds())
    coverage = []
    for camera in cameras:
        sending = minutes.get(camera.id, 0) * COVERAGE_SLOT_S
        span = elapsed.get(camera.site_id, 0.0)
        coverage.append(
            {
                "camera_id": camera.id,
                "camera": camera.name,
                "site_id": camera.site_id,
                "seconds_sending": sending,
                "share": round(min(1.0, sending / span), 4) if span else 0.0,
            }
        )
    people = people_section(scope, period, cameras)
    site_people = people.pop("_site_hourly")
    none = {"people_seen": 0, "median_time_in_view_s": None}
    alerts = alert_counts(scope, period)
    severities: dict[str, int] = defaultdict(int)
    for row in alerts:
        severities[row["severity"]] += row["count"]
    return {
        "scope": {
            "kind": scope.kind,
            "tenant_id": scope.tenant_id,
            "organisation": scope.tenant_name,
            "site_id": scope.site_id,
            "camera_id": scope.camera_id,
            "name": scope.label,
        },
        "period": {
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "time_zones": sorted(set(scope.zones.values())),
        },
        "generated_at": iso_utc(now),
        "totals": folded["totals"].as_dict(),
        "hourly": [{"hour": hour.isoformat(), **t.as_dict()} for hour, t in folded["hourly"]],
        "heatmap": [{"weekday": wd, "hour": h, **t.as_dict()} for (wd, h), t in sorted(folded["heatmap"].items())],
        "sites": [
            {
                "site_id": site_id,
                "name": scope.site_names.get(site_id, ""),
                "time_zone": scope.zones.get(site_id, "UTC"),
                **folded["per_site"][site_id].as_dict(),
            }
            for site_id in sorted(folded["per_site"], key=lambda s: scope.site_names.get(s, ""))
        ],
        "site_hourly": [
            {
                "site_id": site_id,
                "hour": hour.isoformat(),
                **t.as_dict(),
                **site_people.get((site_id, hour.isoformat()), none),
            }
            for site_id, hour, t in folded["site_hourly"]
        ],
        "alerts": {
            "total": sum(severities.values()),
            "by_severity": dict(severities),
            "by_rule": alerts,
            "time_to_ack": time_to_ack(scope, period),
        },
        "coverage": coverage,
        "people": people,
    }


def request_scope(user, site_id: int | None, camera_id: int | None) -> Scope:
    """The scope a user asks for; another tenant's (or a hidden site's) id is a 404."""
    from app.tenancy import allowed_site_ids, get_for_tenant

    camera = get_for_tenant(Camera, camera_id, user) if camera_id is not None else None
    site = get_for_tenant(Site, site_id, user) if site_id is not None and camera is None else None
    return scope_for(user.tenant, site, camera, allowed_site_ids(user))


def request_period(scope: Scope, start: str | None, end: str | None, now: datetime | None = None) -> Period:
    """``from``/``to`` of a request, "today" being the scope's local date; a ServiceError (400)
    with a clear message when they are not valid."""
    from app.reporting.periods import PeriodError, local_today, parse_period
    from app.services.errors import ServiceError

    try:
        return parse_period(start, end, local_today(ZoneInfo(scope_time_zone(scope)), now))
    except PeriodError as exc:
        raise ServiceError("validation_error", str(exc), fields={exc.field: "invalid"}) from exc  # pages read its reason
