from __future__ import annotations

from flask import current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from app.infra.state import store
from app.main import bp
from app.realtime.capture import connected_cameras
from app.realtime.live import connected_viewers
from app.security import safe_next
from app.services import listings
from app.services.admission import FRAMES_STREAM
from app.services.analysis import LATENCY_BUCKETS_MS


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("live.room"))
    return render_template("main/index.html")


@bp.post("/language")
def set_language():
    locale = request.form.get("locale")
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
        if current_user.is_authenticated:
            listings.remember_locale(current_user, locale)
    return redirect(safe_next(request.form.get("next")) or "/")


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask every page's host for it; without it each page logs a 404."""
    return current_app.send_static_file("favicon.ico"), 200, {"Cache-Control": "public, max-age=86400"}


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


def readiness() -> dict[str, bool]:
    checks: dict[str, bool] = {}
    try:
        listings.database_answers()
        checks["database"] = True
    except Exception:  # noqa: BLE001
        checks["database"] = False
    if current_app.config["REDIS_URL"]:
        checks["redis"] = store().ping()
    if current_app.config["TASK_MODE"] == "celery":
        checks["workers"] = checks.get("redis", False) and store().alive("worker:") > 0
    return checks


@bp.get("/readyz")
def readyz():
    checks = readiness()
    ready = all(checks.values())
    return {"status": "ready" if ready else "not_ready", "checks": checks}, 200 if ready else 503


def frame_queue_depth() -> int:
    """Frames in the frames stream, waiting or in analysis; 0 in the embedded mode."""
    client = getattr(store(), "redis", None)
    if client is None:
        return 0
    try:
        return int(client.xlen(FRAMES_STREAM))
    except Exception:  # noqa: BLE001 - metrics must answer even when Redis does not
        return -1


@bp.get("/metrics")
def metrics():
    """Prometheus text format; aggregate figures only, no tenant names."""
    counters = store().counters()
    lines = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP emotiscan_{name} {help_text}")
        lines.append(f"# TYPE emotiscan_{name} {kind}")
        lines.extend(f"emotiscan_{name}{labels} {value}" for labels, value in samples)

    metric("frames_received_total", "counter", "Frames accepted on /capture.", [("", counters.get("frames_received", 0))])
    metric("frames_analyzed_total", "counter", "Frames analysed and stored.", [("", counters.get("frames_analyzed", 0))])
    metric("frames_stale_total", "counter", "Frames dropped as stale before analysis.", [("", counters.get("frames_stale", 0))])
    rejected = sorted((k.removeprefix("frames_rejected_"), v) for k, v in counters.items() if k.startswith("frames_rejected_"))
    metric(
        "frames_rejected_total",
        "counter",
        "Frames refused on /capture, by reason.",
        [(f'{{reason="{reason}"}}', v) for reason, v in rejected] or [('{reason="none"}', 0)],
    )
    cumulative, samples = 0, []
    for bucket in (*map(str, LATENCY_BUCKETS_MS), "inf"):
        cumulative += counters.get(f"latency_bucket_{bucket}", 0)
        samples.append((f'{{le="{"+Inf" if bucket == "inf" else bucket}"}}', cumulative))
    lines.append("# HELP emotiscan_analysis_latency_ms Receipt-to-emit latency of analysed frames (all workers).")
    lines.append("# TYPE emotiscan_analysis_latency_ms histogram")
    lines.extend(f"emotiscan_analysis_latency_ms_bucket{labels} {value}" for labels, value in samples)
    lines.append(f"emotiscan_analysis_latency_ms_sum {counters.get('analysis_ms_total', 0)}")
    lines.append(f"emotiscan_analysis_latency_ms_count {cumulative}")
    metric("frame_queue_depth", "gauge", "Frames waiting for a worker (distributed mode).", [("", frame_queue_depth())])
    metric("capture_connections", "gauge", "Cameras connected to this web process.", [("", connected_cameras())])
    metric("live_connections", "gauge", "Live-room viewers connected to this web process.", [("", connected_viewers())])
    metric(
        "capture_connections_refused_total",
        "counter",
        "Capture connections with a bad token.",
        [("", counters.get("capture_refused", 0))],
    )
    try:
        counts = listings.gauges()
        metric("tenants", "gauge", "Organisations.", [("", counts["tenants"])])
        metric("cameras", "gauge", "Cameras.", [("", counts["cameras"])])
        metric("observations", "gauge", "Stored observations (estimate).", [("", counts["observations"])])
    except Exception:  # noqa: BLE001 - metrics must answer even when the database does not
        pass
    return "\n".join(lines) + "\n", 200, {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}
