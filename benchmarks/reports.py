"""Report speed at scale: 10 million observations in PostgreSQL (seeded once with
generate_series into the `emotiscan_bench` database and kept between runs), a monthly tenant
report timed end to end, and the plans of its queries. Run by `make bench`."""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Camera, Site, Tenant  # noqa: E402
from app.reporting.periods import local_today, preset_period  # noqa: E402
from app.reporting.sql import rollup_backfill_sql  # noqa: E402
from app.services import reports  # noqa: E402
from tests.conftest import _testing  # noqa: E402

ROWS = 10_000_000
SITES, CAMERAS_PER_SITE = 8, 5
STEP_S = 31  # one observation per camera every 31 s: 250 000 per camera, about 90 days
BENCH_DB = "emotiscan_bench"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DB}"


def ensure_database() -> None:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,)).fetchone():
            conn.execute(f"CREATE DATABASE {BENCH_DB}")


def seed(tenant_name: str = "Bench tenant") -> Tenant:
    tenant = db.session.scalar(select(Tenant).where(Tenant.name == tenant_name))
    if tenant is not None:
        count = db.session.scalar(select(func.count()).select_from(text("observations")))
        if count >= ROWS:
            print(f"seed: {count:,} observations already there (kept between runs)")
            return tenant
        db.session.delete(tenant)
        db.session.commit()
    started = time.perf_counter()
    tenant = Tenant(name=tenant_name)
    db.session.add(tenant)
    db.session.flush()
    cameras = []
    for s in range(SITES):
        site = Site(tenant_id=tenant.id, name=f"Site {s + 1}", timezone="Europe/Paris")
        db.session.add(site)
        db.session.flush()
        for c in range(CAMERAS_PER_SITE):
            camera = Camera(
                tenant_id=tenant.id, site_id=site.id, name=f"Camera {s + 1}.{c + 1}", token_hash=f"bench-{tenant.id}-{s}-{c}"
            )
            db.session.add(camera)
            cameras.append(camera)
    db.session.flush()
    ids = ",".join(str(c.id) for c in cameras)
    sites = ",".join(str(c.site_id) for c in cameras)
    n = len(cameras)
    face = (
        '[{"box": [200, 120, 160, 160], "emotion": "happy", "confidence": 0.6, "scores": {"angry": 0.05, '
        '"disgust": 0.01, "fear": 0.04, "happy": 0.6, "sad": 0.1, "surprise": 0.05, "neutral": 0.15}}]'
    )
    db.session.execute(
        text(f"""
        INSERT INTO observations (tenant_id, site_id, camera_id, ts, model_version, face_count, faces, latency_ms,
                                  angry, disgust, fear, happy, sad, surprise, neutral)
        SELECT {tenant.id}, (ARRAY[{sites}])[g % {n} + 1], (ARRAY[{ids}])[g % {n} + 1],
               now() - interval '{ROWS // n * STEP_S} seconds' + (g / {n}) * interval '{STEP_S} seconds',
               'bench', 1, '{face}'::json, 5.0,
               0.05, 0.01, 0.04, 0.3 + (g % 7) * 0.05, 0.25 - (g % 7) * 0.03, 0.05, 0.30 - (g % 7) * 0.02
        FROM generate_series(0, {ROWS - 1}) AS g
    """)
    )
    db.session.execute(text(rollup_backfill_sql("postgresql", where=f"tenant_id = {tenant.id}")))
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE observations"))
        conn.execute(text("VACUUM ANALYZE observation_rollups"))
    print(
        f"seed: {ROWS:,} observations for {n} cameras over {ROWS // n * STEP_S / 86400:.0f} days "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return tenant


def timed(fn, runs: int = 5) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), max(times)


def explain(stmt) -> str:
    compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
    return "\n".join(row[0] for row in db.session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")))


def bench_reports() -> None:
    print("## Reports on PostgreSQL, 10 million observations")
    ensure_database()
    app = create_app({**_testing(), "SQLALCHEMY_DATABASE_URI": URL})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        tenant = seed()
        sizes = db.session.execute(
            text(
                "SELECT pg_size_pretty(pg_total_relation_size('observations')), "
                "pg_size_pretty(pg_total_relation_size('observation_rollups')), (SELECT count(*) FROM observation_rollups)"
            )
        ).one()
        print(f"observations {sizes[0]}, rollups {sizes[1]} ({sizes[2]:,} rows)")
        scope = reports.scope_for(tenant)
        today = local_today(ZoneInfo("Europe/Paris"))
        for name in ("last_month", "this_month"):
            period = preset_period(name, today)
            report = reports.build_report(scope, period)
            median, worst = timed(lambda p=period: reports.build_report(scope, p))
            print(
                f"monthly tenant report ({name}, {period.start} to {period.end}): {report['totals']['observations']:,} "
                f"observations, {len(report['hourly'])} hours; median {median * 1000:.0f} ms, worst {worst * 1000:.0f} ms "
                f"(target 5000 ms)"
            )
        period = preset_period("this_month", today)
        latest = db.session.scalar(text("SELECT max(ts) FROM observations"))
        print(
            f"includes data up to the request: newest observation {latest.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC, "
            f"report built {datetime.now(UTC):%H:%M:%S} UTC"
        )
        site = db.session.scalar(select(Site).where(Site.tenant_id == tenant.id).order_by(Site.id))
        median, _ = timed(lambda: reports.build_report(reports.scope_for(tenant, site), preset_period("last_month", today)))
        print(f"monthly site report: median {median * 1000:.0f} ms")

        # The same month straight from raw rows, to show what the rollups save.
        month = preset_period("last_month", today)
        begin, end = month.utc_bounds(ZoneInfo("Europe/Paris"))
        raw = text(
            "SELECT site_id, floor(extract(epoch FROM ts) / 900), count(*), sum(face_count), sum(happy) "
            "FROM observations WHERE tenant_id = :t AND ts >= :b AND ts < :e GROUP BY 1, 2"
        )
        median, _ = timed(lambda: db.session.execute(raw, {"t": tenant.id, "b": begin, "e": end}).all(), runs=2)
        print(f"for comparison, grouping the raw observations of that month: {median * 1000:.0f} ms")

        from app.models import ObservationRollup as R

        slot_stmt = (
            select(R.site_id, R.slot, func.sum(R.observations))
            .where(reports._rollups_in_scope(scope, month))
            .group_by(R.site_id, R.slot)
        )
        print("plan of the slot query (rollups):")
        print(explain(slot_stmt))


if __name__ == "__main__":
    bench_reports()
