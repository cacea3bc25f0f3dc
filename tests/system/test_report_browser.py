"""The report page in headless Chromium against the app run as `make run`: one hour of data at a
site far from UTC (Pacific/Kiritimati, UTC+14) draws points, shows the site's local times and
fits a phone's width; screenshots in English and French at three widths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_skeleton, format_time

from tests.processes import ApiClient
from tests.system.test_browser import SCREENSHOTS, WIDTHS, browser  # noqa: F401  (the fixture)
from tests.system.watch import watch

pytestmark = [pytest.mark.browser, pytest.mark.process]
ZONE = "Pacific/Kiritimati"
HAPPY = {"angry": 0.0, "disgust": 0.0, "fear": 0.0, "happy": 0.8, "sad": 0.0, "surprise": 0.0, "neutral": 0.2}


def seed_hour(tmp_path, tenant_id: int, site_id: int, camera_id: int) -> datetime:
    """Four observations within the previous UTC hour, stored through the observation service
    in the running app's database; returns the hour's start (UTC)."""
    from app import create_app
    from app.extensions import db
    from app.services import observations

    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'instance' / 'emotiscan.db'}"})
    face = {"box": [10, 10, 80, 80], "emotion": "happy", "confidence": 0.8, "scores": HAPPY}
    with app.app_context():
        for minute in (5, 20, 35, 50):
            assert observations.record(tenant_id, site_id, camera_id, hour + timedelta(minutes=minute), "test", [face], 5.0)
        db.session.remove()
    return hour


def test_one_hour_report_draws_points_in_the_sites_time_and_fits_a_phone(embedded, browser, tmp_path):  # noqa: F811
    base, proc = embedded
    tenant = ApiClient(base, "Atoll Shop")
    site = tenant.call("POST", "/api/v1/sites", json={"name": "Atoll", "timezone": ZONE}).json()
    camera = tenant.call("POST", "/api/v1/cameras", json={"site_id": site["id"], "name": "Desk"}).json()
    hour = seed_hour(tmp_path, tenant.tenant_id, site["id"], camera["id"])
    moment = hour.astimezone(ZoneInfo(ZONE))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {SCREENSHOTS}")
    for lang in ("en", "fr"):
        for name, (width, height) in WIDTHS.items():
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale=lang, extra_http_headers={"Accept-Language": lang}
            )
            # The hour as the page's language writes it, on the site's clock ("8 déc. 02:00").
            day = format_skeleton("MMMd", moment, tzinfo=moment.tzinfo, locale=lang)
            local = f"{day} {format_time(moment, 'HH:mm', tzinfo=moment.tzinfo, locale=lang)}"
            page = context.new_page()
            errors = watch(page)  # console errors, page errors, failed requests
            page.goto(base + "/auth/login")
            page.fill("#email", tenant.email)
            page.fill("#password", "secret-pass-1")
            page.click("input[type=submit]")
            page.wait_for_url(base + "/live")
            page.goto(base + "/reports/")  # the default period includes the last hour
            page.wait_for_selector("#hourly-chart")
            drawn = page.evaluate(
                """() => { const c = Chart.getChart('hourly-chart');
                   return {labels: c.data.labels, points: c.getSortedVisibleDatasetMetas()
                     .reduce((n, m) => n + m.data.filter(p => !p.skip && p.options.radius > 0).length, 0),
                     top: c.scales.y.ticks[c.scales.y.ticks.length - 1].label}; }"""
            )
            # Shares read as percentages on the axis, as everywhere else ("100 %" in French).
            top = "100\xa0%" if lang == "fr" else "100%"
            assert drawn == {"labels": [local], "points": 7, "top": top}, (lang, name, drawn)
            # The figures table's hour is the site's wall clock; its offset, one for the period, is
            # said once in the column's heading.
            page.click("details summary")
            figures = page.inner_text("details table")
            assert "(UTC+14:00)" in figures.split("\n")[0] and local in figures and f"{local} (UTC" not in figures
            assert ZONE in page.inner_text("main")
            # "Includes data up to" is the site's wall clock (UTC+14), not the server's UTC.
            now_local = datetime.now(UTC).astimezone(ZoneInfo(ZONE))
            assert f"({ZONE})" in page.inner_text("main") and str(now_local.day) in page.inner_text("section.card >> nth=1")
            overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
            wide = page.evaluate(
                "w => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1)"
                ".slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))",
                width,
            )
            assert overflow <= 0, (lang, name, overflow, wide)
            # The heatmap scrolls inside its own box when narrower than its 24 hours.
            box = page.evaluate(
                "() => { const b = document.querySelector('.heatmap').parentElement; const r = b.getBoundingClientRect();"
                " return {right: r.right, scroll: getComputedStyle(b).overflowX}; }"
            )
            assert box["right"] <= width and box["scroll"] == "auto", box
            page.screenshot(path=str(SCREENSHOTS / f"report-one-hour-{lang}-{name}.png"), full_page=True)
            assert not errors, errors
            context.close()
    assert "Traceback" not in proc.output()
