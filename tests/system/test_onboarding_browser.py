"""Onboarding as a new admin sees it in Chromium: sign up, the checklist shows 0 of 5; declaring the
site and adding a camera tick two steps, opening the live room a third; the list can be hidden.
Screenshots at 1280, 768 and 390 px in English and French."""

from __future__ import annotations

import os
import time

import pytest

from tests.images import decode_qr
from tests.system.test_browser import SCREENSHOTS, WIDTHS, browser  # noqa: F401 - the fixture
from tests.system.watch import Problems, watch

pytestmark = [pytest.mark.browser, pytest.mark.process]
COUNT = {"en": "{done} of 5 done", "fr": "{done} sur 5 faites"}


def shoot(page, stem: str) -> None:
    for name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(100)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{stem} overflows {width} px"
        page.screenshot(path=str(SCREENSHOTS / f"{stem}-{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def ticked(page) -> set[str]:
    return set(page.eval_on_selector_all("#onboarding .step.done", "els => els.map(e => e.dataset.step)"))


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_checklist_ticks_itself_from_sign_up_to_the_live_room(embedded, browser, lang):  # noqa: F811
    base, _ = embedded
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {SCREENSHOTS}")
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale=lang, extra_http_headers={"Accept-Language": lang}
    )
    page = context.new_page()
    errors = watch(page)  # console errors, page errors, failed requests and answers >= 400
    page.goto(base + "/auth/signup")
    page.fill("#organisation", f"Tour Shop {lang}")
    page.fill("#email", f"owner-{os.urandom(3).hex()}@tourshop{lang}.example")
    page.fill("#password", "Correct-horse-42")
    page.click("form [type=submit]")
    page.wait_for_url("**/admin/sites")
    count = page.locator(".onboarding-count")
    assert count.get_attribute("data-done") == "0"
    assert count.inner_text().strip() == COUNT[lang].format(done=0)
    assert page.locator("#onboarding .step").count() == 5 and ticked(page) == set()
    shoot(page, f"onboarding-start-{lang}")

    page.fill("#add-site #name", "Front desk")
    page.click("#add-site [type=submit]")
    page.wait_for_url("**/admin/sites/*")
    page.select_option("#setting", "workplace")
    page.select_option("#purpose", "customer_experience")
    page.click("form[action$='/purpose'] [type=submit]")
    page.wait_for_load_state()
    camera_form = page.locator("form[action$='/admin/cameras']")
    camera_form.locator("[name=name]").fill("Counter tablet")
    camera_form.locator("[type=submit]").click()
    page.wait_for_load_state()

    page.goto(base + "/admin/sites")
    assert ticked(page) == {"declare_site", "add_camera"}
    assert count.inner_text().strip() == COUNT[lang].format(done=2)
    # Each step that is still to do links to where it is done.
    links = page.eval_on_selector_all("#onboarding .step.todo a", "els => els.map(e => e.getAttribute('href'))")
    assert any("/admin/cameras/" in h for h in links) and "/live" in links and "/admin/rules" in links
    shoot(page, f"onboarding-two-done-{lang}")

    page.goto(base + "/live")  # the /live connection ticks "watch the live room"
    # Stay in the room (leaving at once could cut its socket mid-handshake) and ask for the list aside.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if 'class="step done" data-step="watch_live"' in page.request.get(base + "/admin/sites").text():
            break
        page.wait_for_timeout(300)
    page.goto(base + "/admin/sites")
    assert ticked(page) == {"declare_site", "add_camera", "watch_live"}

    page.click(".onboarding-dismiss [type=submit]")
    page.wait_for_url("**/admin/sites")
    assert page.locator("#onboarding").count() == 0
    assert errors == []
    context.close()


def sign_up(browser, base: str, lang: str, errors: Problems):  # noqa: F811
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale=lang, extra_http_headers={"Accept-Language": lang}
    )
    watch(context, problems=errors)
    page = context.new_page()
    email = f"owner-{os.urandom(3).hex()}@tourshop{lang}.example"
    page.goto(base + "/auth/signup")
    page.fill("#organisation", f"Tour Shop {lang}")
    page.fill("#email", email)
    page.fill("#password", "Correct-horse-42")
    page.click("form [type=submit]")
    page.wait_for_url("**/admin/sites")
    return context, page, email


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_qr_sheet_account_invitation_and_staff_links(embedded, browser, lang, tmp_path):  # noqa: F811
    import io

    import numpy as np
    from pypdf import PdfReader

    base, _ = embedded
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    errors = Problems()
    context, page, email = sign_up(browser, base, lang, errors)
    page.fill("#add-site #name", "Front desk")
    page.click("#add-site [type=submit]")
    page.wait_for_url("**/admin/sites/*")
    site_url = page.url
    camera_form = page.locator("form[action$='/admin/cameras']")
    camera_form.locator("[name=name]").fill("Counter tablet")
    camera_form.locator("[type=submit]").click()
    page.wait_for_load_state()

    # The QR sheet from the camera's row: a confirmation (the link is renewed), then a PDF.
    page.goto(site_url)
    page.click("a.qr-sheet")
    page.wait_for_url("**/qr-sheet")
    shoot(page, f"qr-sheet-confirm-{lang}")
    answers = []
    page.on("response", lambda r: answers.append(r) if r.url.endswith("/qr-sheet") and r.request.method == "POST" else None)
    with page.expect_download() as download:
        page.click("section.card form [type=submit]")
    download.value.save_as(tmp_path / "sheet.pdf")
    pdf = (tmp_path / "sheet.pdf").read_bytes()
    assert answers and answers[0].headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(reader.pages[0].extract_text().split())
    assert "Counter tablet" in text and "Front desk" in text
    (image,) = reader.pages[0].images
    pixels = np.array(image.image.convert("L"))
    link = decode_qr(pixels)
    assert "/capture/" in link and "#token=cam" in link, link

    # My account: the language changes the page at once.
    other = "fr" if lang == "en" else "en"
    page.goto(base + "/account/")
    shoot(page, f"my-account-{lang}")
    page.select_option("#prefs-locale", other)
    page.click("#preferences [type=submit]")
    page.wait_for_url("**/account/")
    assert page.locator("html").get_attribute("lang") == other
    page.select_option("#prefs-locale", lang)
    page.click("#preferences [type=submit]")
    page.wait_for_url("**/account/")
    assert page.locator("html").get_attribute("lang") == lang

    # An invitation without a mail server shows the link, never "sent".
    page.goto(base + "/admin/users")
    invitee = f"staff-{os.urandom(3).hex()}@tourshop{lang}.example"
    invite_form = page.locator("form:has(#email)")
    invite_form.locator("#email").fill(invitee)
    invite_form.locator("#role").select_option("staff")
    invite_form.locator("[type=submit]").click()
    page.wait_for_load_state()
    invite_link = page.input_value("#invitation-url")
    assert "/auth/reset/" in invite_link and "MAIL_SERVER" in page.inner_text(".invitation-link")
    shoot(page, f"invitation-link-{lang}")

    # The invited staff member joins from the link; none of the links they are shown answers 403.
    staff_context = browser.new_context(viewport={"width": 1280, "height": 800}, locale=lang)
    watch(staff_context, problems=errors)
    staff = staff_context.new_page()
    staff.goto(invite_link.replace(invite_link.split("/auth/")[0], base))
    assert invitee in staff.inner_text("main")
    shoot(staff, f"invitation-page-{lang}")
    staff.fill("#password", "Staff-member-pass-7")
    staff.fill("#confirm", "Staff-member-pass-7")
    staff.click("section.card form [type=submit]")
    staff.wait_for_load_state()
    hrefs: set[str] = set()
    for path in ("/live", "/admin/sites", site_url.replace(base, ""), "/admin/alerts", "/admin/rules", "/account/"):
        staff.goto(base + path)
        hrefs |= set(staff.eval_on_selector_all("a[href^='/']", "els => els.map(e => e.getAttribute('href'))"))
    forbidden = [h for h in sorted(hrefs) if staff.request.get(base + h.split("#")[0]).status == 403]
    assert forbidden == [], forbidden
    assert len(hrefs) >= 5
    assert errors == []
    staff_context.close()
    context.close()
