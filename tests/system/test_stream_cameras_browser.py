"""The site page lists each camera's kind and, for a stream camera, its pulling status and last
error, in English and French, at desktop, tablet and phone widths (the app run as `make run`)."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.processes import BIN, ROOT, ApiClient, make_run
from tests.system.test_browser import SCREENSHOTS, WIDTHS, browser  # noqa: F401 - the shared fixture
from tests.system.test_first_hour_journey import WIDEST
from tests.system.watch import signed_in, watch

pytestmark = [pytest.mark.browser, pytest.mark.process]

SET_STATUS = (
    "import sys\nfrom app import create_app\nfrom app.services.cameras import set_stream_status\n"
    "with create_app().app_context():\n    set_stream_status(int(sys.argv[1]), sys.argv[2], sys.argv[3] or None)\n"
)


@pytest.fixture
def server(tmp_path):
    # Statuses are set by hand here (the gateway's own are tested in tests/streams): no pulling.
    with make_run(tmp_path, 32, STREAM_SOURCES_ALLOW="127.0.0.0/8", EMBEDDED_GATEWAY="0") as server:
        yield server


def test_site_page_shows_stream_kind_status_and_last_error(server, browser):  # noqa: F811
    base, proc, env = server
    tenant = ApiClient(base, "Stream School")
    site = tenant.call("POST", "/api/v1/sites", json={"name": "Hall", "timezone": "Europe/Paris"}).json()
    assert tenant.call("POST", "/api/v1/cameras", json={"site_id": site["id"], "name": "Tablet"}).status_code == 201
    body = {"site_id": site["id"], "kind": "stream", "username": "cam", "password": "hunter22"}
    door = tenant.call("POST", "/api/v1/cameras", json={**body, "name": "Door", "source_url": "rtsp://127.0.0.1:8554/door"})
    yard = tenant.call("POST", "/api/v1/cameras", json={**body, "name": "Yard", "source_url": "rtsp://127.0.0.1:8554/yard"})
    assert door.status_code == yard.status_code == 201, door.text
    error = "connection refused by rtsp://cam:hunter22@127.0.0.1:8554/door"
    for camera_id, status, text in ((door.json()["id"], "unreachable", error), (yard.json()["id"], "live", "")):
        subprocess.run([str(BIN / "python"), "-c", SET_STATUS, str(camera_id), status, text], cwd=ROOT, env=env, check=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    expected = {
        "en": (
            "Browser",
            "Stream · unreachable",
            "Stream · live",
            "Last error: connection refused by rtsp://127.0.0.1:8554/door",
        ),
        "fr": ("Navigateur", "Flux vidéo · injoignable", "Flux vidéo · en direct", "Dernière erreur : connection refused"),
    }
    for lang, (browser_kind, down, up, last_error) in expected.items():
        for name, (width, height) in WIDTHS.items():
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale=lang, extra_http_headers={"Accept-Language": lang}
            )
            page = context.new_page()
            errors = watch(page)
            page.goto(base + "/auth/login")
            page.fill("#email", tenant.email)
            page.fill("#password", "secret-pass-1")
            page.click("input[type=submit]")
            page.wait_for_url(base + "/live")
            page.goto(f"{base}/admin/sites/{site['id']}")
            # Rows by camera name: the first link of the row (the name cell also holds the QR sheet link).
            rows = {r.locator("td a").first.inner_text(): r.inner_text() for r in page.locator("tbody tr").all()}
            assert browser_kind in rows["Tablet"]
            assert down in " ".join(rows["Door"].split()) and last_error in rows["Door"]
            assert up in " ".join(rows["Yard"].split()) and "hunter22" not in page.content()
            # All eight columns in view, without scrolling the table sideways: on a tablet held
            # upright and on a phone each camera is a card.
            assert max(_right_edge(cell) for cell in page.locator("tbody td").all()) <= width, name
            # Links that act are finger-sized too: back to the list, the QR sheet, delete the site.
            for link in ("a.back", "a.qr-sheet", "a.danger"):
                assert page.locator(link).first.bounding_box()["height"] >= 44, (link, name)
            page.screenshot(path=str(SCREENSHOTS / f"site-stream-cameras-{lang}-{name}.png"), full_page=True)
            assert errors == [], errors
            context.close()
    assert "Traceback" not in proc.output() and "hunter22" not in proc.output()


def _right_edge(locator) -> float:
    box = locator.bounding_box()
    return box["x"] + box["width"]


def test_an_admin_adds_an_ip_camera_from_the_site_page(server, browser):  # noqa: F811
    """The site page's form adds an IP camera (address and sign-in shown only once it is chosen);
    its page then shows its state and address, never its password; on a phone the tables of the
    admin pages become cards whose every cell is in view, and long French buttons wrap."""
    base, proc, env = server
    tenant = ApiClient(base, "Caméras IP")
    site = tenant.call("POST", "/api/v1/sites", json={"name": "Hall", "timezone": "Europe/Paris"}).json()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    expected = {
        "en": ("added: the server connects to it now", "State: connecting", "stored (never shown)"),
        "fr": ("ajoutée : le serveur s'y connecte maintenant", "État : connexion", "enregistrés (jamais affichés)"),
    }
    for lang, (added, state, stored) in expected.items():
        for name, (width, height) in WIDTHS.items():
            context, page, errors = signed_in(browser, base, tenant.email, lang, (width, height))
            page.goto(f"{base}/admin/sites/{site['id']}")
            form = page.locator("form.camera-form")
            assert form.locator("#source_url").is_hidden()  # a tablet camera by default: no address to give
            form.locator("input[name=kind][value=stream]").check()
            assert form.locator("#source_url").is_visible() and form.locator("#password").is_visible()
            form.locator("#name").fill(f"Door {lang} {name}")
            form.locator("#fps").fill("2")
            form.locator("#source_url").fill("rtsp://127.0.0.1:8554/door")
            form.locator("#username").fill("cam")
            form.locator("#password").fill("hunter22")
            assert _right_edge(form) <= width
            form.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / f"site-add-ip-camera-{lang}-{name}.png"), full_page=True)
            form.locator("input[type=submit]").click()
            page.wait_for_url(re.compile(r".*/admin/cameras/\d+$"))
            text = " ".join(page.locator("main").inner_text().split())
            assert added in text and state in text and stored in text, text
            assert "rtsp://127.0.0.1:8554/door" in text and "hunter22" not in page.content()
            assert page.locator("text=" + ("Renew the capture link" if lang == "en" else "Renouveler le lien")).count() == 0
            page.screenshot(path=str(SCREENSHOTS / f"camera-ip-{lang}-{name}.png"), full_page=True)
            assert page.evaluate(WIDEST) <= width
            if name == "phone":
                # Tables as cards: every cell of the first row within the screen.
                for path, shot in (("/admin/audit", "audit"), ("/admin/tokens", "tokens"), ("/admin/users", "users")):
                    page.goto(base + path)
                    cells = page.locator("tbody tr").first.locator("td")
                    assert cells.count() >= 3
                    for i in range(cells.count()):
                        assert _right_edge(cells.nth(i)) <= width, (path, i)
                    assert page.evaluate(WIDEST) <= width, path  # nothing (a long e-mail address) sticks out
                    for button in page.locator("main button.link").all():  # revoke, resend: touch-sized
                        assert button.bounding_box()["height"] >= 44, (path, button.inner_text())
                    page.screenshot(path=str(SCREENSHOTS / f"{shot}-stacked-{lang}-phone.png"), full_page=True)
                page.goto(base + "/admin/privacy/erase")
                button = page.locator("main input[type=submit]").first
                assert _right_edge(button) <= width and button.bounding_box()["height"] >= 44
                assert button.evaluate("e => e.scrollWidth <= e.clientWidth")  # the label wraps, not cut
                page.screenshot(path=str(SCREENSHOTS / f"erase-button-{lang}-phone.png"), full_page=True)
            assert errors == [], errors
            context.close()
    assert "Traceback" not in proc.output() and "hunter22" not in proc.output()
