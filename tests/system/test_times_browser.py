"""Every time a person reads on the server-rendered pages is the wall clock of the zone it belongs to,
labelled with that zone: alert history (a list spanning two sites, each row in its own site's zone),
site and camera pages, the rule simulator (a site's), the audit trail (the organisation's zone, set
by the admin on the privacy page). Two sites far apart: Pacific/Kiritimati (UTC+14) and
America/Los_Angeles (UTC-8); the app runs as `make run`; EN and FR at three widths, screenshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.processes import ApiClient
from tests.system.test_browser import SCREENSHOTS, WIDTHS, browser  # noqa: F401  (the fixture)
from tests.system.watch import watch

pytestmark = [pytest.mark.browser, pytest.mark.process]
ZONES = {"Atoll": "Pacific/Kiritimati", "Coast": "America/Los_Angeles"}
ORG_ZONE = "Asia/Kolkata"  # UTC+5:30: a half-hour offset, unlike both sites
HAPPY = {"angry": 0.0, "disgust": 0.0, "fear": 0.0, "happy": 0.8, "sad": 0.0, "surprise": 0.0, "neutral": 0.2}
NEUTRAL = {**HAPPY, "happy": 0.05, "neutral": 0.95}


def expected(utc_iso: str, zone: str, lang: str) -> str:
    """The wall clock of ``zone`` written by hand (not by the app's formatter), in Babel's short style."""
    d = datetime.fromisoformat(utc_iso.replace("Z", "+00:00")).astimezone(ZoneInfo(zone))
    if lang == "fr":
        return f"{d:%d/%m/%Y %H:%M} ({zone})"
    return f"{d.month}/{d.day}/{d:%y}, {d.hour % 12 or 12}:{d:%M} {'AM' if d.hour < 12 else 'PM'} ({zone})"


def seed(tmp_path, tenant_id: int, cameras: dict[str, dict]) -> dict[str, list[datetime]]:
    """Per camera, smiles an hour ago (then, at the Coast, a neutral face), through the observation service
    and the alert engine, in the running app's database; the camera's last frame is the last one."""
    from app import create_app
    from app.extensions import db
    from app.models import Camera
    from app.services import alerts, observations

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'instance' / 'emotiscan.db'}"})
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    moments: dict[str, list[datetime]] = {}
    with app.app_context():
        for n, (site, camera) in enumerate(cameras.items()):
            moments[site] = []
            for k in range(20):
                ts = start + timedelta(minutes=7 * n, seconds=k)
                # 1 fps covers the 5 s window; the Coast's alert ends, the Atoll's stays open (to acknowledge).
                scores = HAPPY if k < 12 or site == "Atoll" else NEUTRAL
                face = {"box": [10, 10, 80, 80], "emotion": max(scores, key=scores.get), "confidence": 0.8, "scores": scores}
                assert observations.record(tenant_id, camera["site_id"], camera["id"], ts, "test", [face], 5.0)
                alerts.evaluate_observation(tenant_id, camera["site_id"], camera["id"], ts.timestamp(), [face])
                moments[site].append(ts)
            db.session.execute(Camera.__table__.update().where(Camera.id == camera["id"]).values(last_seen_at=moments[site][-1]))
            db.session.commit()
        db.session.remove()
    return moments


def times(page, selector: str) -> list[tuple[str, str, str]]:
    """(text, data-utc, data-zone) of every <time> under ``selector``."""
    return page.eval_on_selector_all(
        f"{selector} time",
        "els => els.map(e => [e.textContent.replace(/\\u202f/g, ' '), e.dataset.utc, e.dataset.zone])",
    )


def test_every_time_shown_is_the_local_time_of_its_site_or_organisation(embedded, browser, tmp_path):  # noqa: F811
    base, proc = embedded
    tenant = ApiClient(base, "Two Coasts")
    cameras: dict[str, dict] = {}
    for site_name, zone in ZONES.items():
        site = tenant.call("POST", "/api/v1/sites", json={"name": site_name, "timezone": zone}).json()
        camera = tenant.call("POST", "/api/v1/cameras", json={"site_id": site["id"], "name": f"{site_name} desk"}).json()
        rule = tenant.call(
            "POST", "/api/v1/alert-rules", json={"camera_id": camera["id"], "emotion": "joy", "threshold": 0.5, "duration_s": 5}
        )
        assert rule.status_code == 201, rule.text
        cameras[site_name] = camera
    moments = seed(tmp_path, tenant.tenant_id, cameras)
    stored = tenant.call("GET", "/api/v1/alerts").json()["items"]
    assert {a["camera_id"] for a in stored} == {c["id"] for c in cameras.values()}, stored
    open_alert = next(a for a in stored if a["camera_id"] == cameras["Atoll"]["id"])
    ack = tenant.call("POST", f"/api/v1/alerts/{open_alert['id']}/ack", json={"note": "seen"})
    assert ack.status_code == 200, ack.text
    stored = tenant.call("GET", "/api/v1/alerts").json()["items"]
    assert sum(bool(a["acknowledged_at"]) for a in stored) == 1
    zone_of_camera = {c["id"]: ZONES[name] for name, c in cameras.items()}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {SCREENSHOTS}")
    for lang in ("en", "fr"):
        for name, (width, height) in WIDTHS.items():
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale=lang, extra_http_headers={"Accept-Language": lang}
            )
            page = context.new_page()
            errors = watch(page)  # console errors, page errors, failed requests
            page.goto(base + "/auth/login")
            page.fill("#email", tenant.email)
            page.fill("#password", "secret-pass-1")
            page.click("input[type=submit]")
            page.wait_for_url(base + "/live")

            # Alert history spans both sites: each row in its own site's zone, start and acknowledgement.
            page.goto(base + "/admin/alerts")
            shown = times(page, "main table")
            # Read again: on a slow run a seeded camera, silent since its last frame, may have raised
            # a camera-offline alert meanwhile; it is shown in its site's zone like the others.
            stored = tenant.call("GET", "/api/v1/alerts").json()["items"]
            want = [(expected(a["started_at"], zone_of_camera[a["camera_id"]], lang), a["started_at"]) for a in stored]
            want += [
                (expected(a["acknowledged_at"], zone_of_camera[a["camera_id"]], lang), a["acknowledged_at"])
                for a in stored
                if a["acknowledged_at"]
            ]
            assert sorted((text, utc) for text, utc, _ in shown) == sorted(want), (lang, name, shown, want)
            assert {zone for _, _, zone in shown} == set(ZONES.values())
            # The zone labels widen the table: it scrolls inside its card, the page stays in the viewport.
            overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, (lang, name, overflow)
            page.screenshot(path=str(SCREENSHOTS / f"times-alerts-{lang}-{name}.png"), full_page=True)

            for site_name, camera in cameras.items():
                zone = ZONES[site_name]
                last = moments[site_name][-1].strftime("%Y-%m-%dT%H:%M:%SZ")
                # Site page: the camera's last frame.
                page.goto(f"{base}/admin/sites/{camera['site_id']}")
                assert times(page, "main table") == [[expected(last, zone, lang), last, zone]], (lang, name)
                if site_name == "Atoll":
                    page.screenshot(path=str(SCREENSHOTS / f"times-site-{lang}-{name}.png"), full_page=True)
                # Camera page: last frame and link renewal, in the site's zone.
                page.goto(f"{base}/admin/cameras/{camera['id']}")
                shown = times(page, ".camera-times")
                assert len(shown) == 2 and shown[0] == [expected(last, zone, lang), last, zone], (lang, name, shown)
                assert shown[1][0] == expected(shown[1][1], zone, lang)

            # The rule simulator: each event at one of the stored observations, in the site's zone.
            page.goto(base + "/admin/rules")
            page.select_option("#target", f"camera:{cameras['Coast']['id']}")
            page.select_option("#emotion", "joy")
            page.fill("#threshold", "0.5")
            page.fill("#duration_s", "5")
            page.click("#simulate")
            page.wait_for_selector("section[aria-live] li")
            shown = times(page, "section[aria-live]")
            seeded = {m.strftime("%Y-%m-%dT%H:%M:%SZ") for m in moments["Coast"]}
            assert len(shown) == 2, (lang, name, shown)  # raised, then ended
            for text, utc, zone in shown:
                assert zone == ZONES["Coast"] and utc in seeded and text == expected(utc, zone, lang), (text, utc)
            assert "Z " not in page.inner_text("section[aria-live]")  # no raw ISO left
            page.screenshot(path=str(SCREENSHOTS / f"times-simulator-{lang}-{name}.png"), full_page=True)

            # The organisation's zone, set on the privacy page, governs the audit trail (events of no site).
            page.goto(base + "/admin/privacy")
            page.select_option("#timezone", ORG_ZONE)
            page.click("form[novalidate] input[type=submit]")
            page.wait_for_selector(".flash.success")
            page.goto(base + "/admin/audit")
            shown = times(page, "main table")
            entries = tenant.call("GET", "/api/v1/audit?limit=50").json()["items"]
            assert sorted((t, u) for t, u, _ in shown) == sorted(
                (expected(e["created_at"], ORG_ZONE, lang), e["created_at"]) for e in entries
            )
            assert {z for _, _, z in shown} == {ORG_ZONE}
            page.screenshot(path=str(SCREENSHOTS / f"times-audit-{lang}-{name}.png"), full_page=True)
            assert errors == [], errors
            context.close()
    assert "Traceback" not in proc.output()
