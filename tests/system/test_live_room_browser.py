"""The live room as a person at a wall tablet sees it: per-face chips, a trend chart with a
legend and axes, alerts acknowledged with a note on one screen clearing on another at once,
kiosk mode, the "Enable sound" prompt, at 1280, 768 and 390 px in English and French."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import FACES
from tests.processes import ApiClient
from tests.system.test_browser import CHROMIUM, SCREENSHOTS, WIDTHS, write_y4m
from tests.system.watch import Problems, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.process]
WORDS = {
    "en": {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"},
    "fr": {"colère", "dégoût", "peur", "joie", "tristesse", "surprise", "neutre"},
}
PERCENT = re.compile(r"^\d{1,3}\s?%$")  # "82 %" (fr, narrow no-break space) or "82%" (en)


@pytest.fixture
def browser(tmp_path):
    """As tests/system/test_browser.py's, with the autoplay policy of a real tablet (sound needs a tap)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    video = write_y4m(tmp_path / "face.y4m", FACES / "deepface_img15.jpg")
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
                "--autoplay-policy=user-gesture-required",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        try:
            yield b
        finally:
            b.close()
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)


def open_live(browser, base: str, email: str, lang: str, errors: Problems, size=(1280, 800)):
    # The live room and the capture page are opened in the same (watched) context.
    context, page, _ = signed_in(browser, base, email, lang, size, problems=errors)
    page.wait_for_selector("#live-status.online", timeout=45000)
    return context, page


def wait_until(check, timeout: float = 30.0) -> bool:
    # Polled from Python: wait_for_function would evaluate a string, which our CSP forbids.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def page_width(page) -> int:
    return page.evaluate("() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


def test_live_room_on_a_wall_tablet(embedded, browser):
    base, proc = embedded
    tenant = ApiClient(base, "Live Room School")
    site = tenant.call("POST", "/api/v1/sites", json={"name": "Hall", "timezone": "Pacific/Kiritimati"}).json()
    camera = tenant.call("POST", "/api/v1/cameras", json={"site_id": site["id"], "name": "Entrance", "fps": 5}).json()
    rule = tenant.call(
        "POST",
        "/api/v1/alert-rules",
        json={"camera_id": camera["id"], "emotion": "joy", "threshold": 0.3, "duration_s": 3, "severity": "critical"},
    )
    assert rule.status_code == 201, rule.text
    errors = Problems()
    ctx_en, live = open_live(browser, base, tenant.email, "en", errors)
    ctx_fr, other = open_live(browser, base, tenant.email, "fr", errors, size=WIDTHS["tablet"])
    tile = f"#camera-{camera['id']}"

    # Sound is blocked until a tap: the page says so, and one tap enables it.
    live.wait_for_selector("#sound-prompt:not([hidden])", timeout=10000)
    assert "Enable sound" in live.inner_text("#sound-prompt")
    assert "Activer le son" in other.inner_text("#sound-prompt")

    capture = ctx_en.new_page()
    capture.goto(camera["capture_url"])
    capture.click("#start")
    capture.wait_for_selector("#capture-status.online", timeout=45000)
    assert wait_until(lambda: live.locator(f"{tile}.online").count() == 1, 60), (
        errors,
        proc.output()[-3000:],
        capture.inner_text("#capture-status"),
    )
    other.wait_for_selector(f"{tile}.online", timeout=60000)

    # Each face's expression as a chip: a label of the one definition and a localised score.
    for page, lang in ((live, "en"), (other, "fr")):
        page.wait_for_selector(f"{tile} .chips .chip .label", timeout=30000)
        label = page.inner_text(f"{tile} .chip .label")
        assert label in WORDS[lang], (lang, label)
        assert PERCENT.match(page.inner_text(f"{tile} .chip .score").strip()), page.inner_text(f"{tile} .chip")
        assert page.inner_text(f"{tile} .count") == "1"
        # The trend: a line per class, a legend naming the seven, axes with 0-100 % and site times.
        legend = page.locator(f"{tile} .legend .legend-item").all_inner_texts()
        assert {t.strip() for t in legend} == WORDS[lang], legend
        assert wait_until(lambda p=page: p.locator(f"{tile} svg.chart path.series").count() == 7)
        ticks = page.locator(f"{tile} svg.chart text.tick").all_text_contents()
        assert any("100" in t and "%" in t for t in ticks), ticks
        assert sum(bool(re.fullmatch(r"\d\d:\d\d", t)) for t in ticks) >= 4, ticks
        assert "(Pacific/Kiritimati)" in page.inner_text(f"{tile} .updated")
    stamp = live.get_attribute(f"{tile} time", "datetime")
    shown = live.inner_text(f"{tile} time")
    from datetime import datetime
    from zoneinfo import ZoneInfo

    local = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(ZoneInfo("Pacific/Kiritimati"))
    assert shown == local.strftime("%H:%M:%S"), (shown, stamp)

    live.click("#enable-sound")
    live.wait_for_selector("#sound-prompt", state="hidden", timeout=10000)

    # An alert shows on both screens; acknowledged with a note on one, it clears on the other at once.
    live.wait_for_selector("#alerts li.alert", timeout=60000)
    other.wait_for_selector("#alerts li.alert", timeout=15000)
    assert "joy" in live.inner_text("#alerts li.alert") and "joie" in other.inner_text("#alerts li.alert")
    assert "(Pacific/Kiritimati)" in live.inner_text("#alerts li.alert")
    assert "alerting" in other.get_attribute(tile, "class")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {SCREENSHOTS}")
    live.screenshot(path=str(SCREENSHOTS / "live-alert-en-desktop.png"), full_page=True)
    live.fill("#alerts li.alert input.note", "Checked at the door")
    live.click("#alerts li.alert button")
    started = time.monotonic()
    other.wait_for_selector("#alerts li.alert", state="detached", timeout=5000)
    assert wait_until(lambda: "alerting" not in other.get_attribute(tile, "class"), 5)
    cleared_s = time.monotonic() - started
    assert "Checked at the door" in other.inner_text(f"{tile} .alert-state")
    assert wait_until(lambda: "alerting" not in live.get_attribute(tile, "class"), 5)
    acknowledged = tenant.call("GET", "/api/v1/alerts?status=acknowledged").json()["items"]
    assert len(acknowledged) == 1 and acknowledged[0]["note"] == "Checked at the door"
    print(f"acknowledgement reached the second screen in {cleared_s:.2f} s")

    # A camera-offline alert reads as such: no score, no rule (delivered as the server sends it).
    offline = {
        "id": 999999, "rule_id": None, "camera_id": camera["id"], "site_id": site["id"], "emotion": "camera_offline",
        "severity": "warning", "value": 0.0, "status": "open", "started_at": "2026-01-01T00:00:00Z",
        "acknowledged_at": None, "acknowledged_by": None, "note": None, "resolved_at": None, "escalated_at": None,
    }  # fmt: skip
    other.evaluate("a => window.emotiscanLive.socket.listeners('alert').forEach(f => f(a))", offline)
    text = other.inner_text("#alert-999999 .alert-text")
    assert text.startswith("Caméra hors ligne · Entrance (Hall) · Aucune image reçue") and "%" not in text, text
    other.evaluate("a => window.emotiscanLive.socket.listeners('alert').forEach(f => f(a))", offline | {"status": "resolved"})
    assert other.locator("#alert-999999").count() == 0

    # Kiosk: the button toggles a layout without navigation and with bigger type.
    live.click("#kiosk")
    assert "kiosk" in live.get_attribute("body", "class")
    assert not live.is_visible(".topbar nav")
    live.screenshot(path=str(SCREENSHOTS / "live-kiosk-en-desktop.png"), full_page=True)
    live.click("#kiosk")
    assert "kiosk" not in (live.get_attribute("body", "class") or "")
    assert live.is_visible(".topbar nav")

    # Every width, both languages: nothing wider than the viewport, touch targets of 44 px.
    for page, lang in ((live, "en"), (other, "fr")):
        for name, (width, height) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            time.sleep(0.5)
            assert page_width(page) <= width, (lang, name, page_width(page))
            for selector in ("#kiosk", "#mute", "#site-filter"):
                box = page.locator(selector).bounding_box()
                assert box["height"] >= 44 and box["width"] >= 44, (selector, box)
            page.screenshot(path=str(SCREENSHOTS / f"live-{lang}-{name}.png"), full_page=True)
    capture.click("#stop")
    time.sleep(1.5)  # the last frames in flight land before the tracked observation below
    # A wall tablet opened after the camera stopped: the last minutes' curves come from the stored
    # observations (no frame arrives any more), and the tile says when the last frame came.
    ctx_late, late = open_live(browser, base, tenant.email, "fr", errors, size=WIDTHS["tablet"])
    assert wait_until(lambda: int(late.get_attribute(tile, "data-trend-points") or 0) >= 2, 15)
    assert late.locator(f"{tile} svg.chart path.series").count() == 7
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", late.inner_text(f"{tile} .updated time")), late.inner_text(tile)
    late.screenshot(path=str(SCREENSHOTS / "live-reopened-fr-tablet.png"), full_page=True)
    ctx_late.close()
    # Per-face tracks, their own smoothed scores and the people in view, when the server sends them;
    # a face withheld by the quality gate reads as such, with its reason.
    scores = dict.fromkeys(WORDS["en"], 0.0) | {"sad": 0.7, "neutral": 0.3}
    tracked = {
        "camera_id": camera["id"], "site_id": site["id"], "ts": int(time.time() * 1000), "people": 3,
        "smoothed": scores, "width": 640, "height": 480, "latency_ms": 12.0,
        "faces": [
            {"box": [1, 2, 60, 60], "scores": scores, "smoothed": scores | {"sad": 0.64}, "track_id": 7},
            {"box": [100, 2, 20, 20], "scores": None, "reason": "dark", "track_id": 8},
        ],
    }  # fmt: skip
    other.evaluate("o => window.emotiscanLive.socket.listeners('observation').forEach(f => f(o))", tracked)
    chips = other.locator(f"{tile} .chip").all_inner_texts()
    assert len(chips) == 2 and "#7" in chips[0] and "tristesse" in chips[0] and "64" in chips[0], chips
    assert "#8" in chips[1] and "trop sombre" in chips[1] and "%" not in chips[1], chips
    assert other.inner_text(f"{tile} .count") == "3"
    assert errors == [], errors
    assert "Traceback" not in proc.output()
    ctx_fr.close()
    ctx_en.close()
