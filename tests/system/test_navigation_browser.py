"""The main navigation and the pages behind it in headless Chromium, as a person sees them: one
row at 1280 px in English and French, a Menu button below 1000 px whose panel opens and whose
links work (touch targets of 44 px), no page wider than a 390 px phone, French numbers
("0,40", "20 %") and an audit trail written as sentences. Screenshots under test-screenshots/."""

from __future__ import annotations

import pytest

from tests.processes import ApiClient
from tests.system.test_browser import SCREENSHOTS, WIDTHS, browser  # noqa: F401  (the fixture)
from tests.system.watch import watch

pytestmark = [pytest.mark.browser, pytest.mark.process]
PAGES = [
    "/live",
    "/admin/sites",
    "/admin/sites/{site}",
    "/admin/alerts",
    "/admin/rules",
    "/reports/",
    "/admin/users",
    "/admin/webhooks",
    "/admin/audit",
    "/admin/privacy",
    "/admin/tokens",
    "/account/",
]
WIDEST = "(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth))()"
# What sticks out, for the failure message.
CULPRIT = """(() => { const w = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
  return [...document.querySelectorAll('body *')].filter(e => Math.abs(e.getBoundingClientRect().right - w) < 2)
  .map(e => e.tagName + '.' + e.className + ':' + (e.textContent || '').trim().slice(0, 30)).slice(0, 4).join(' | '); })()"""


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/auth/login")
    page.fill("#email", email)
    page.fill("#password", "secret-pass-1")
    page.click("main input[type=submit]")
    page.wait_for_url(base + "/live")


def test_navigation_fits_every_width_and_pages_fit_a_phone(embedded, browser):  # noqa: F811
    base, proc = embedded
    tenant = ApiClient(base, "Tour Shop")
    camera = tenant.camera()
    site = camera["site_id"]
    rule = tenant.call(
        "POST",
        "/api/v1/alert-rules",
        json={"camera_id": camera["id"], "emotion": "joy", "threshold": 0.4, "duration_s": 3, "severity": "critical"},
    )
    assert rule.status_code == 201, rule.text
    tenant.call("PATCH", f"/api/v1/sites/{site}", json={"name": "Front desk"})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {SCREENSHOTS}")
    for lang in ("en", "fr"):
        for name, (width, height) in WIDTHS.items():
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale=lang, extra_http_headers={"Accept-Language": lang}
            )
            page = context.new_page()
            errors = watch(page)  # console errors, page errors, failed requests and answers >= 400
            sign_in(page, base, tenant.email)
            for path in PAGES:
                url = base + path.format(site=site)
                page.goto(url)
                page.wait_for_load_state("networkidle")
                widest = page.evaluate(WIDEST)
                assert widest <= width, f"{path} is {widest} px wide at {width} px ({lang}): {page.evaluate(CULPRIT)}"
                slug = path.format(site="site").strip("/").replace("/", "-").split("?")[0] or "home"
                page.screenshot(path=str(SCREENSHOTS / f"page-{slug}-{name}-{lang}.png"), full_page=True)
                nav_height = page.evaluate("document.querySelector('.topbar').getBoundingClientRect().height")
                if width >= 1000:  # one row: the bar is one 44 px target plus its padding
                    assert nav_height <= 56, f"{path}: the menu takes {nav_height} px at {width} px ({lang})"
                    assert page.locator(".nav-toggle").is_hidden()
                else:
                    assert page.locator(".nav-panel").is_hidden() and page.locator(".nav-toggle").is_visible()
            page.goto(base + f"/admin/sites/{site}")
            page.screenshot(path=str(SCREENSHOTS / f"nav-site-{name}-{lang}.png"), full_page=True)
            # Every target of the bar and its panel is 44 px high, and the panel's links lead to their pages.
            if width < 1000:
                toggle = page.locator(".nav-toggle")
                assert toggle.get_attribute("aria-expanded") == "false"
                toggle.click()
                assert toggle.get_attribute("aria-expanded") == "true" and page.locator(".nav-panel").is_visible()
            org = page.locator("button[aria-controls=nav-org]")
            org.click()
            assert org.get_attribute("aria-expanded") == "true"
            page.screenshot(path=str(SCREENSHOTS / f"nav-open-{name}-{lang}.png"))
            for target in page.locator(".mainnav a:visible, .mainnav button:visible").all():
                assert target.bounding_box()["height"] >= 44, target.inner_text()
            assert page.locator("#nav-account a[href='/account/']").count() == 1
            page.keyboard.press("Escape")
            assert org.get_attribute("aria-expanded") == "false"
            if width < 1000:  # a second Escape closes the panel and gives the focus back to its button
                assert page.locator(".nav-panel").is_visible()
                page.keyboard.press("Escape")
                assert page.locator(".nav-panel").is_hidden()
                assert page.evaluate("document.activeElement.className") == "nav-toggle"
                page.locator(".nav-toggle").click()
            org.click()
            page.locator("#nav-org a[href='/admin/audit']").click()
            page.wait_for_url(base + "/admin/audit")
            audit = page.inner_text("main")
            for raw in ("None", "True", "tenant.", "camera.created", "rule.created"):
                assert raw not in audit, raw
            expected = {"en": ("Site Gate created", "Camera Tablet added"), "fr": ("Site Gate créé", "Caméra Tablet ajoutée")}
            assert all(text in audit for text in expected[lang]), audit[:600]
            page.screenshot(path=str(SCREENSHOTS / f"nav-audit-{name}-{lang}.png"), full_page=True)
            # Keyboard: Tab reaches the Alerts group, Enter opens it, its first link takes the focus on a wide screen.
            if width >= 1000:
                page.goto(base + "/admin/sites")
                alerts = page.locator("button[aria-controls=nav-alerts]")
                alerts.focus()
                page.keyboard.press("Enter")
                assert alerts.get_attribute("aria-expanded") == "true"
                assert page.evaluate("document.activeElement.getAttribute('href')") == "/admin/alerts"
            page.goto(base + "/admin/rules")
            rules = page.inner_text("main")
            assert ("0,40" if lang == "fr" else "0.40") in rules, rules[:400]
            assert not errors, errors
            context.close()
    assert "Traceback" not in proc.output()
