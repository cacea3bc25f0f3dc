"""The camera tablet's page in headless Chromium (fake webcam): a refused link or site reaches a final,
clear message within seconds, Start and Stop show one at a time, Stop clears the face boxes, the page
names its camera and site and has no sign-in links; no console error, no failed request, no 404 favicon.
Screenshots of each state, in English and French at 1280, 768 and 390 px, go to SCREENSHOTS."""

from __future__ import annotations

import re
import time

import cv2
import numpy as np
import pytest
import requests

from tests.processes import ApiClient
from tests.system.test_browser import SCREENSHOTS, WIDTHS, browser  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.process]
FINAL = {"en": "This capture link is no longer valid", "fr": "Ce lien de capture n'est plus valable"}
CONNECTED = {"en": "Connected, analysing", "fr": "Connectée, analyse en cours"}
OFF = {"en": "Expression analysis off", "fr": "Analyse des expressions désactivée"}
LANGS = ("en", "fr")


# A known server race, not the page's: access._close disconnects the /capture namespace while a frame's
# binary attachment is still on its way, and python-socketio logs a traceback for that attachment
# ("Unexpected binary packet", or the JPEG bytes decoded as a packet by socketio/packet.py).
KNOWN_REVOCATION_RACE = ("Unexpected binary packet", "socketio/packet.py")
ACCESS_LOG = re.compile(r"^\S+ - - \[")


def tracebacks(output: str) -> list[str]:
    """Each traceback in a server's output, from its header to its exception line: lines of other
    threads (an access log line) written in between are left out, so that the whole traceback, the
    exception included, is what a check reads and what a failure shows."""
    found = []
    for block in output.split("Traceback (most recent call last):")[1:]:
        lines = []
        for line in block.splitlines()[1:]:
            if line.startswith(" "):
                lines.append(line)
            elif not ACCESS_LOG.match(line):
                lines.append(line)  # the exception line ends it
                break
        found.append("\n".join(lines))
    return found


def unexpected_tracebacks(output: str, allow_revocation_race: bool = False) -> list[str]:
    found = tracebacks(output)
    if allow_revocation_race:
        found = [t for t in found if not any(k in t for k in KNOWN_REVOCATION_RACE)]
    return found


class Watched:
    """A page whose console errors and failed requests are recorded."""

    def __init__(self, browser, lang: str):  # noqa: F811
        self.context = browser.new_context(
            viewport={"width": WIDTHS["desktop"][0], "height": WIDTHS["desktop"][1]},
            locale=lang,
            extra_http_headers={"Accept-Language": lang},
        )
        self.page = self.context.new_page()
        self.lang = lang
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        self.page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url} {r.failure}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def state(self) -> str:
        return self.page.get_attribute(".capture-panel", "data-state")

    def wait_state(self, state: str, timeout: float = 10) -> float:
        """Seconds until the panel reaches the state (polled from Python: the CSP forbids eval)."""
        started = time.monotonic()
        self.page.wait_for_selector(f'.capture-panel[data-state="{state}"]', timeout=timeout * 1000)
        return time.monotonic() - started

    def shoot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for size, (width, height) in WIDTHS.items():
            self.page.set_viewport_size({"width": width, "height": height})
            self.page.wait_for_timeout(150)
            self.page.screenshot(path=str(SCREENSHOTS / f"capture-{name}-{self.lang}-{size}.png"), full_page=True)
        self.page.set_viewport_size({"width": WIDTHS["desktop"][0], "height": WIDTHS["desktop"][1]})

    def visible(self, selector: str) -> bool:
        return self.page.is_visible(selector)

    def close(self) -> None:
        assert not self.errors, self.errors
        self.context.close()


def assert_final(w: Watched) -> None:
    assert FINAL[w.lang] in w.page.inner_text("#capture-status")
    assert "final" in w.page.get_attribute("#capture-status", "class")
    assert not w.visible("#start") and not w.visible("#stop")
    assert OFF[w.lang] in w.page.inner_text("#analysis-banner")
    state = w.state()
    w.page.wait_for_timeout(3000)  # no retry loop: the message stays
    assert w.state() == state and FINAL[w.lang] in w.page.inner_text("#capture-status")


def stream(w: Watched, url: str) -> None:
    w.page.goto(url)
    w.page.click("#start")
    w.wait_state("online", timeout=45)
    assert CONNECTED[w.lang] in w.page.inner_text("#capture-status")


def test_wrong_token_is_final_and_the_kiosk_page_has_no_sign_in_links(embedded, browser):  # noqa: F811
    base, proc = embedded
    tenant = ApiClient(base, "Wrong Link School")
    camera = tenant.camera()
    favicon = requests.get(base + "/favicon.ico", timeout=10)
    assert favicon.status_code == 200 and favicon.headers["Content-Type"].startswith("image/")
    for lang in LANGS:
        w = Watched(browser, lang)
        w.page.goto(camera["capture_url"][:-4] + "xxxx")
        # Switching the language comes back to this very link, its #token included.
        assert (
            w.page.get_attribute("form.lang input[name=next]", "value")
            == "/capture/" + camera["capture_url"].split("/capture/")[1][:-4] + "xxxx"
        )
        assert w.page.locator("a[href*='/auth/login'], a[href*='/auth/signup']").count() == 0
        assert w.visible("#start") and not w.visible("#stop")
        w.shoot("not-started")
        w.page.click("#start")
        assert w.wait_state("invalid_token") < 10
        assert_final(w)
        w.shoot("wrong-link")
        w.close()
    assert "Traceback" not in proc.output()


def test_link_renewed_or_camera_deleted_while_streaming_is_final(embedded, browser):  # noqa: F811
    base, proc = embedded
    tenant = ApiClient(base, "Renewed Link School")
    camera = tenant.camera()
    for lang in LANGS:
        w = Watched(browser, lang)
        stream(w, camera["capture_url"])
        assert w.page.inner_text("#camera-name") == "Tablet · Gate"
        w.shoot("streaming")
        r = tenant.call("POST", f"/api/v1/cameras/{camera['id']}/rotate-token")
        assert r.status_code == 200, r.text
        assert w.wait_state("revoked") < 10
        assert_final(w)
        w.shoot("link-renewed")
        # The old link opened again: refused at connect, final at once.
        w.page.reload()
        w.page.click("#start")
        assert w.wait_state("invalid_token") < 10
        assert_final(w)
        camera["capture_url"] = r.json()["capture_url"]
        w.close()
    # Deleted while streaming.
    w = Watched(browser, "en")
    stream(w, camera["capture_url"])
    assert tenant.call("DELETE", f"/api/v1/cameras/{camera['id']}").status_code == 204
    assert w.wait_state("revoked") < 10
    assert_final(w)
    w.page.reload()
    w.page.click("#start")
    assert w.wait_state("invalid_token") < 10
    assert_final(w)
    w.close()
    assert not unexpected_tracebacks(proc.output(), allow_revocation_race=True)


def test_refused_site_says_so_at_once(embedded, browser):  # noqa: F811
    base, proc = embedded
    tenant = ApiClient(base, "Refused School")
    camera = tenant.camera()
    r = tenant.call(
        "PATCH", f"/api/v1/sites/{camera['site_id']}", json={"setting": "education", "purpose": "customer_experience"}
    )
    assert r.status_code == 200, r.text
    for lang in LANGS:
        w = Watched(browser, lang)
        w.page.goto(camera["capture_url"])
        w.page.click("#start")
        seen, deadline = set(), time.monotonic() + 10
        while w.state() != "purpose_refused" and time.monotonic() < deadline:
            seen.add(w.page.inner_text("#capture-status"))
            time.sleep(0.05)
        assert w.state() == "purpose_refused", seen
        assert not any(CONNECTED[lang] in text for text in seen), seen
        assert OFF[lang] in w.page.inner_text("#analysis-banner")
        assert "error" in w.page.get_attribute("#capture-status", "class")
        w.page.wait_for_timeout(2000)
        assert w.state() == "purpose_refused" and CONNECTED[lang] not in w.page.inner_text("#capture-status")
        assert w.page.inner_text("#faces") == "0"
        w.shoot("site-refused")
        w.close()
    assert "Traceback" not in proc.output()


def green_pixels(png: bytes) -> int:
    """Pixels of the face box colour (#2ca02c) in a screenshot."""
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR).astype(int)
    b, g, r = image[..., 0], image[..., 1], image[..., 2]
    return int(((g > 120) & (g - r > 60) & (g - b > 60)).sum())


def test_start_stop_one_at_a_time_and_stop_clears_the_boxes(embedded, browser):  # noqa: F811
    base, proc = embedded
    tenant = ApiClient(base, "Start Stop School")
    camera = tenant.camera()
    for lang in LANGS:
        w = Watched(browser, lang)
        w.page.goto(camera["capture_url"])
        assert w.visible("#start") and not w.visible("#stop")
        stream(w, camera["capture_url"])
        assert not w.visible("#start") and w.visible("#stop")
        deadline = time.monotonic() + 45
        while w.page.inner_text("#faces") == "0" and time.monotonic() < deadline:
            time.sleep(0.3)
        assert w.page.inner_text("#faces") == "1"
        # The count follows its label, so one face reads right in both languages ("1 faces" did not).
        assert {"en": "Faces in view: 1", "fr": "Visages visibles : 1"}[lang] in w.page.inner_text(".stats")
        assert green_pixels(w.page.locator(".stage").screenshot()) > 50  # the face box is drawn
        w.shoot("face-boxes")
        w.page.click("#stop")
        w.wait_state("stopped", timeout=5)
        assert w.visible("#start") and not w.visible("#stop")
        w.page.wait_for_timeout(1500)  # late results draw nothing either
        assert green_pixels(w.page.locator(".stage").screenshot()) == 0
        assert w.page.inner_text("#faces") == "0"
        w.shoot("stopped")
        w.page.click("#start")
        w.wait_state("online", timeout=20)
        assert not w.visible("#start") and w.visible("#stop")
        # Changing the page's language while the camera runs: the page in the other language starts
        # it again by itself (the tablet on the wall needs nobody to tap "Start").
        other = "fr" if lang == "en" else "en"
        with w.page.expect_navigation():
            w.page.select_option("#locale", other)
        w.wait_state("online", timeout=20)
        assert CONNECTED[other] in w.page.inner_text("#capture-status") and w.visible("#stop")
        w.page.click("#stop")
        w.wait_state("stopped", timeout=5)
        with w.page.expect_navigation():  # stopped, it stays stopped in the other language
            w.page.select_option("#locale", lang)
        w.page.wait_for_timeout(1500)
        assert w.state() == "idle" and w.visible("#start")
        w.close()
    assert "Traceback" not in proc.output()
