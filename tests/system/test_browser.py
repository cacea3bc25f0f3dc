"""The capture page in headless Chromium with a fake webcam (a Y4M made from a real photo),
and the live room in a second page of the same browser, against the app run as `make run`."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import FACES, SCREENSHOTS  # SCREENSHOTS: printed at the end of every run
from tests.images import decode_qr
from tests.processes import ApiClient
from tests.system.watch import watch

pytestmark = [pytest.mark.browser, pytest.mark.process]
CHROMIUM = "/usr/bin/chromium"


def write_y4m(path: Path, photo: Path, frames: int = 10, size: tuple[int, int] = (640, 480)) -> Path:
    """Y4M: a text header, then raw I420 frames; Chromium loops it as the webcam."""
    image = cv2.imread(str(photo))
    w, h = size
    scale = min(w / image.shape[1], h / image.shape[0])
    resized = cv2.resize(image, (int(image.shape[1] * scale) // 2 * 2, int(image.shape[0] * scale) // 2 * 2))
    canvas = np.full((h, w, 3), 40, np.uint8)
    y0, x0 = (h - resized.shape[0]) // 2, (w - resized.shape[1]) // 2
    canvas[y0 : y0 + resized.shape[0], x0 : x0 + resized.shape[1]] = resized
    i420 = cv2.cvtColor(canvas, cv2.COLOR_BGR2YUV_I420).tobytes()
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F5:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n" + i420)
    return path


@pytest.fixture
def browser(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    video = write_y4m(tmp_path / "face.y4m", FACES / "deepface_img15.jpg")
    profile = tmp_path / "profile"
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
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
    shutil.rmtree(profile, ignore_errors=True)


def test_capture_page_streams_and_live_room_shows_the_expression(embedded, browser):
    base, proc = embedded
    tenant = ApiClient(base, "Browser School")
    camera = tenant.camera()
    rule = tenant.call(
        "POST",
        "/api/v1/alert-rules",
        json={"camera_id": camera["id"], "emotion": "joy", "threshold": 0.3, "duration_s": 3, "severity": "critical"},
    )
    assert rule.status_code == 201, rule.text
    context = browser.new_context(locale="fr-FR", extra_http_headers={"Accept-Language": "fr"})
    live = context.new_page()
    live.goto(base + "/auth/login")
    live.fill("#email", tenant.email)
    live.fill("#password", "secret-pass-1")
    live.click("input[type=submit]")
    live.wait_for_url(base + "/live")
    live.wait_for_selector("#live-status.online", timeout=45000)
    capture = context.new_page()
    capture.goto(camera["capture_url"])
    assert "aucune image n'est conservée" in capture.inner_text(".analysis-on")
    # Before the camera starts, the notice does not claim that analysis is running.
    assert "commence avec la caméra" in capture.inner_text("#analysis-banner")
    assert "off" in capture.get_attribute("#analysis-banner", "class").split()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, (width, height) in WIDTHS.items():
        capture.set_viewport_size({"width": width, "height": height})
        capture.screenshot(path=str(SCREENSHOTS / f"capture-before-start-fr-{name}.png"), full_page=True)
    capture.click("#start")
    capture.wait_for_selector("#capture-status.online", timeout=45000)
    assert "off" not in capture.get_attribute("#analysis-banner", "class").split()
    assert "Analyse des expressions en cours" in capture.inner_text("#analysis-banner")
    tile = f"#camera-{camera['id']}"
    live.wait_for_selector(f"{tile}.online", timeout=60000)
    emotion = live.inner_text(f"{tile} .emotion")
    assert emotion in {"colère", "dégoût", "peur", "joie", "tristesse", "surprise", "neutre"}, emotion
    assert live.inner_text(f"{tile} .count") == "1"
    # Polled from Python: wait_for_function would evaluate a string, which our CSP forbids.
    deadline = time.monotonic() + 45
    while float(capture.inner_text("#fps").replace(",", ".") or 0) <= 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert re.fullmatch(r"\d+,\d", capture.inner_text("#fps")), capture.inner_text("#fps")  # French: "0,6"
    # The smile held for the rule's window raises an alert on the live room; one tap acknowledges it.
    live.wait_for_selector("#alerts li.alert", timeout=60000)
    assert "joie" in live.inner_text("#alerts li.alert")
    assert "alerting" in live.get_attribute(tile, "class")
    live.click("#alerts li.alert button")
    live.wait_for_selector("#alerts li.alert", state="detached", timeout=15000)
    acknowledged = tenant.call("GET", "/api/v1/alerts?status=acknowledged").json()["items"]
    assert len(acknowledged) == 1 and acknowledged[0]["acknowledged_by"] is not None
    assert "Traceback" not in proc.output()


WIDTHS = {"desktop": (1280, 800), "tablet": (768, 1024), "phone": (390, 844)}


def test_camera_qr_code_renders_and_decodes_to_the_capture_link(embedded, browser):
    """The QR code that a tablet scans (it drew nothing: an inline SVG without xmlns in an <img>),
    decoded from a screenshot of the rendered page, at desktop, tablet and phone widths; the whole
    link in view with a Copy button, and a warning that a tablet cannot reach a 127.0.0.1 link."""
    from playwright.sync_api import expect

    base, proc = embedded
    tenant = ApiClient(base, "QR School")
    site = tenant.call("POST", "/api/v1/sites", json={"name": "Gate", "timezone": "Europe/Paris"}).json()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {SCREENSHOTS}")
    copied = {"en": "Copied", "fr": "Copié"}
    warning = {"en": "A tablet cannot open this link", "fr": "Une tablette ne peut pas ouvrir ce lien"}
    for lang in ("en", "fr"):
        for name, (width, height) in WIDTHS.items():
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale=lang, extra_http_headers={"Accept-Language": lang}
            )
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
            problems = watch(context)
            page = context.new_page()
            page.goto(base + "/auth/login")
            page.fill("#email", tenant.email)
            page.fill("#password", "secret-pass-1")
            page.click("input[type=submit]")
            page.wait_for_url(base + "/live")
            page.goto(f"{base}/admin/sites/{site['id']}")
            page.fill("#name", f"Tablet {lang} {name}")
            page.click("form[action$='/admin/cameras'] input[type=submit]")
            page.wait_for_selector("img.qr")
            link = page.input_value("#capture-url")
            assert link.startswith(f"{base}/capture/") and "#token=cam_" in link
            # The test server's PUBLIC_URL is 127.0.0.1: the page says a tablet cannot reach it, and how to fix it.
            notice = page.inner_text("#unreachable-link")
            assert warning[lang] in notice and "127.0.0.1" in notice and "PUBLIC_URL" in notice, notice
            # The whole link is in view (nothing scrolled away inside the field), and the page fits the width.
            field = page.eval_on_selector(
                "#capture-url",
                "e => ({sh: e.scrollHeight, ch: e.clientHeight, sw: e.scrollWidth, cw: e.clientWidth,"
                " right: e.getBoundingClientRect().right})",
            )
            assert field["sh"] <= field["ch"] + 1 and field["sw"] <= field["cw"] + 1, (lang, name, field)
            assert field["right"] <= width, (lang, name, field)
            widest = page.evaluate("() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
            assert widest <= width, (lang, name, widest)
            shot = page.locator("img.qr").screenshot()
            page.screenshot(path=str(SCREENSHOTS / f"camera-qr-{lang}-{name}.png"), full_page=True)
            image = cv2.imdecode(np.frombuffer(shot, np.uint8), cv2.IMREAD_COLOR)
            decoded = decode_qr(image)
            assert decoded == link, (lang, name, decoded)
            # Copy puts the link on the clipboard and says so on the button.
            page.click("button[data-copy=capture-url]")
            expect(page.locator("button[data-copy=capture-url]")).to_have_text(copied[lang])  # once the clipboard took it
            assert page.evaluate("() => navigator.clipboard.readText()") == link
            assert problems == [], problems
            context.close()
    assert "Traceback" not in proc.output()


def test_capture_page_takes_its_emotion_words_from_the_one_definition(embedded, browser):
    """The words drawn over faces on the capture page come from app/labels.py (face_outputs), in
    English and French, and the page still renders at desktop, tablet and phone widths."""
    base, proc = embedded
    camera = ApiClient(base, "Words School").camera()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    expected = {
        "en": {"angry": "angry", "happy": "happy", "sad": "sad", "neutral": "neutral", "surprise": "surprise"},
        "fr": {"angry": "colère", "happy": "joie", "sad": "tristesse", "neutral": "neutre", "fear": "peur"},
    }
    for lang, words in expected.items():
        context = browser.new_context(locale=lang, extra_http_headers={"Accept-Language": lang})
        page = context.new_page()
        for name, (width, height) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            page.goto(camera["capture_url"])
            texts = json.loads(page.text_content("#i18n"))
            assert {k: texts[k] for k in words} == words
            assert {"too_small", "blurred", "dark", "connecting"} <= set(texts)  # the page's own texts stay
            page.screenshot(path=str(SCREENSHOTS / f"capture-words-{lang}-{name}.png"), full_page=True)
        context.close()
    assert "Traceback" not in proc.output()
