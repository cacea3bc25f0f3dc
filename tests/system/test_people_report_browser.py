"""The report page's "People seen" section in headless Chromium against the app run as `make run`:
anonymous tracks stored at two sites in the last hour show as people seen in all, per site, per
camera and per hour, in English and French, within a phone's width (each cell on one line, no
column scrolled out of view); screenshots at three widths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.processes import ApiClient
from tests.system.test_browser import SCREENSHOTS, WIDTHS, browser  # noqa: F401  (the fixture)
from tests.system.watch import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.process]
HAPPY = {"angry": 0.0, "disgust": 0.0, "fear": 0.0, "happy": 0.8, "sad": 0.0, "surprise": 0.0, "neutral": 0.2}
HEADINGS = {"en": ("People seen", "By site", "By camera"), "fr": ("Personnes vues", "Par site", "Par caméra")}
# 20, 40 and 90 s at the Gate's Door, 60 s at the Hall's reception desk: 4 people, nearest-rank median 40 s.
TRACKS = {"Door": (("p1", 20), ("p2", 40), ("p3", 90)), "Reception desk tablet": (("q1", 60),)}


def seed_tracks(tmp_path, tenant_id: int, cameras: dict[str, dict]) -> None:
    """Each track seen at its first and last moment within the previous UTC hour, stored through
    the observation service in the running app's database."""
    from app import create_app
    from app.extensions import db
    from app.services import observations

    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'instance' / 'emotiscan.db'}"})
    with app.app_context():
        for name, tracks in TRACKS.items():
            cam = cameras[name]
            for i, (track, seconds) in enumerate(tracks):
                face = {"box": [10, 10, 80, 80], "emotion": "happy", "confidence": 0.8, "scores": HAPPY, "track_id": track}
                first = hour + timedelta(minutes=5 + 10 * i)
                for moment in (first, first + timedelta(seconds=seconds)):
                    assert observations.record(tenant_id, cam["site_id"], cam["id"], moment, "test", [face], 5.0, 1)
        db.session.remove()


def rows(section, table: str) -> list[list[str]]:
    """Each body row's cells of one of the section's tables; a site heading its rows reads ["§ name"]."""
    found = []
    for row in section.locator(f"#{table} tbody tr").all():
        cells = [" ".join(c.split()) for c in row.locator("td").all_inner_texts()]
        found.append(cells or ["§ " + row.inner_text().strip()])
    return found


def test_report_page_shows_people_seen_per_site_camera_and_hour(embedded, browser, tmp_path):  # noqa: F811
    base, proc = embedded
    tenant = ApiClient(base, "People Shop")
    cameras = {}
    for site_name, cam_name in (("Gate", "Door"), ("Hall", "Reception desk tablet")):
        site = tenant.call("POST", "/api/v1/sites", json={"name": site_name, "timezone": "Europe/Paris"}).json()
        cameras[cam_name] = tenant.call("POST", "/api/v1/cameras", json={"site_id": site["id"], "name": cam_name}).json()
    seed_tracks(tmp_path, tenant.tenant_id, cameras)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for lang in ("en", "fr"):
        context, page, errors = signed_in(browser, base, tenant.email, lang)
        page.goto(base + "/reports/")  # the default period (last 7 days) includes the last hour
        section = page.locator("#people-seen")
        section.wait_for()
        text = section.inner_text()
        for heading in HEADINGS[lang]:
            assert heading in text, (lang, heading, text)
        assert section.locator("[data-figure=people-seen]").inner_text() == "4"
        assert section.locator("[data-figure=median-time-in-view]").inner_text() == "0 min 40 s"
        assert rows(section, "people-sites") == [["Gate", "3", "0 min 40 s"], ["Hall", "1", "1 min 00 s"]]
        assert rows(section, "people-cameras") == [
            ["Door (Gate)", "3", "0 min 40 s"],
            ["Reception desk tablet (Hall)", "1", "1 min 00 s"],
        ]
        hours = rows(section, "people-hours")
        assert [r[0] for r in hours[::2]] == ["§ Gate", "§ Hall"] and [r[1:] for r in hours[1::2]] == [
            ["3", "0 min 40 s"],
            ["1", "1 min 00 s"],
        ]
        assert section.locator("#people-hours").is_visible()  # a few hours: shown without a click
        for name, (width, height) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(100)
            overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, (lang, name, overflow)
            right = page.evaluate("() => document.querySelector('#people-seen').getBoundingClientRect().right")
            assert right <= width, (lang, name, right)
            # Figures on one line each (a long camera name wraps in its own column instead), and no
            # column hidden in a table's scroller.
            lines = page.evaluate(
                "() => [...document.querySelectorAll('#people-seen .duration')].map(e => e.getClientRects().length)"
            )
            assert lines and set(lines) == {1}, (lang, name, lines)
            hidden = page.evaluate(
                "() => [...document.querySelectorAll('#people-seen .table-scroll')].map(e => e.scrollWidth - e.clientWidth)"
            )
            assert max(hidden) <= 0, (lang, name, hidden)
            section.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / f"report-people-{lang}-{name}.png"), full_page=True)
            section.screenshot(path=str(SCREENSHOTS / f"report-people-section-{lang}-{name}.png"))
        assert errors == [], errors
        context.close()
    assert "Traceback" not in proc.output()
