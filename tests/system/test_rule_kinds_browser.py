"""The rule form's kinds in Chromium: choosing "one person" shows that kind's help and fields only
(js/rule_form.js, no inline script under the CSP), the simulator runs for it, and the rule is saved
and read back as a person rule; a rise rule and a baseline rule are tried on a camera's stored
observations (a neutral face, then a smiling one; two past weeks of history) and the simulator says
each one's rise or excess over the usual level, then both are saved. Screenshots at 1280, 768 and
390 px in English and French."""

from __future__ import annotations

import os
import re
import time

import pytest

from tests.images import face_jpeg
from tests.processes import ApiClient, Camera, LiveListener
from tests.system.test_browser import SCREENSHOTS, WIDTHS, browser  # noqa: F401 - the fixture
from tests.system.test_rule_kinds_processes import HAPPY_PHOTO, NEUTRAL_PHOTO, USUAL_JOY, seed_past_weeks
from tests.system.watch import watch

pytestmark = [pytest.mark.browser, pytest.mark.process]
PERSON = {"en": "One person", "fr": "Une personne"}
SAVED = {"en": "Rule saved.", "fr": "Règle enregistrée."}


def shoot(page, stem: str) -> None:
    for name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(100)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{stem} overflows {width} px"
        page.screenshot(path=str(SCREENSHOTS / f"{stem}-{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def visible(page, selector: str) -> bool:
    return page.locator(selector).first.is_visible()


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_person_rule_is_created_through_the_form(embedded, browser, lang):  # noqa: F811
    base, _ = embedded
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale=lang, extra_http_headers={"Accept-Language": lang}
    )
    page = context.new_page()
    errors = watch(page)  # a CSP refusal is logged as a console error
    page.goto(base + "/auth/signup")
    page.fill("#organisation", f"Rule Shop {lang}")
    page.fill("#email", f"owner-{os.urandom(3).hex()}@ruleshop{lang}.example")
    page.fill("#password", "Correct-horse-42")
    page.click("form [type=submit]")
    page.wait_for_url("**/admin/sites")
    page.fill("#add-site #name", "Checkout")
    page.click("#add-site [type=submit]")
    page.wait_for_url("**/admin/sites/*")

    page.goto(base + "/admin/rules")
    # share by default: its fields shown, baseline's weeks hidden
    assert page.input_value("#kind") == "share"
    assert visible(page, "#min_faces") and not visible(page, "#min_weeks")
    page.select_option("#kind", "person")
    assert visible(page, "#min_share") and not visible(page, "#min_faces") and not visible(page, "#min_weeks")
    helps = page.locator(".kind-help [data-kinds]")
    assert [h.is_visible() for h in helps.all()] == [False, True, False, False]
    assert PERSON[lang] in helps.nth(1).inner_text()
    page.select_option("#kind", "baseline")
    assert visible(page, "#min_weeks") and not visible(page, "#min_share")
    page.select_option("#kind", "person")
    page.fill("#name", "Un client qui attend" if lang == "fr" else "A customer waiting")
    page.select_option("#emotion", "frustration")
    page.fill("#threshold", "0.55")
    page.fill("#duration_s", "15")
    shoot(page, f"rule-kinds-form-{lang}")

    page.click("#simulate")
    page.wait_for_selector("section[aria-live=polite]")
    # The result is in the answer's HTML before the form's script (at the end of the page) has
    # hidden the other kinds' fields: wait for the page to finish loading.
    page.wait_for_load_state("load")
    assert page.input_value("#kind") == "person" and not visible(page, "#min_faces")  # kept after the try
    page.click("#submit")
    page.wait_for_url("**/admin/rules")
    assert SAVED[lang] in page.inner_text("body")
    page.click("table a")
    page.wait_for_url("**/admin/rules/*")
    assert page.input_value("#kind") == "person" and page.input_value("#duration_s") == "15"
    assert not visible(page, "#min_weeks")
    shoot(page, f"rule-kinds-detail-{lang}")
    assert errors == []
    context.close()


RAISED = {"en": "alert raised", "fr": "alerte déclenchée"}
RISE_WORDS = {"en": r"up \d+ points from \d+ %", "fr": r"hausse de \d+ points depuis \d+ %"}
USUAL_WORDS = {
    "en": rf"\d+ points above its usual {round(USUAL_JOY * 100)} %",
    "fr": rf"\d+ points au-dessus de son niveau habituel de {round(USUAL_JOY * 100)} %",
}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_rise_and_baseline_rules_are_tried_and_saved_through_the_form(embedded, browser, tmp_path, lang):  # noqa: F811
    base, proc = embedded
    tenant = ApiClient(base, f"Rise Shop {lang}")
    cam = tenant.camera()
    database = f"sqlite:///{tmp_path / 'instance' / 'emotiscan.db'}"
    seed_past_weeks(database, tenant.tenant_id, cam["site_id"], cam["id"], 2, USUAL_JOY)
    # The camera's last minutes at 5 frames/s: a neutral face for 2.4 s, then a smiling one for 5.6 s
    # (both windows of the rise covered, and the 2 s the rules wait for late frames).
    live = LiveListener(base, tenant.token)
    capture = Camera(base, cam["capture_token"])
    try:
        begin, i, taken = time.monotonic(), 0, 0
        while i < 40:
            taken += capture.send(face_jpeg(NEUTRAL_PHOTO if i < 12 else HAPPY_PHOTO))["ok"] is True
            i += 1
            time.sleep(max(0.0, begin + i * 0.2 - time.monotonic()))
        assert live.wait(taken, timeout=20) and taken >= 38, (taken, len(live.observations))
    finally:
        capture.close(), live.close()

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale=lang, extra_http_headers={"Accept-Language": lang}
    )
    page = context.new_page()
    errors = watch(page)
    page.goto(base + "/auth/login")
    page.fill("#email", tenant.email)
    page.fill("#password", "secret-pass-1")
    page.click("input[type=submit]")
    page.wait_for_url(base + "/live")
    for kind, words in (("rise", RISE_WORDS), ("baseline", USUAL_WORDS)):
        page.goto(base + "/admin/rules")
        page.select_option("#target", f"camera:{cam['id']}")
        page.select_option("#kind", kind)
        assert visible(page, "#min_weeks") == (kind == "baseline") and not visible(page, "#min_share")
        page.fill("#name", f"{kind} {lang}")
        page.select_option("#emotion", "joy")
        page.fill("#threshold", "0.5")
        page.fill("#duration_s", "2")
        if kind == "baseline":
            page.fill("#min_weeks", "2")
        page.click("#simulate")
        page.wait_for_selector("section[aria-live=polite]")
        page.wait_for_load_state("load")  # the form's script has run: the screenshot shows one kind's fields
        tried = page.inner_text("section[aria-live=polite]")
        assert RAISED[lang] in tried and re.search(words[lang], tried), tried
        assert page.input_value("#kind") == kind  # kept after the try
        shoot(page, f"rule-kinds-{kind}-{lang}")
        page.click("#submit")
        page.wait_for_url("**/admin/rules")
        assert SAVED[lang] in page.inner_text("body")
    saved = {r["kind"]: r for r in tenant.call("GET", "/api/v1/alert-rules").json()["items"]}
    assert set(saved) == {"rise", "baseline"} and saved["baseline"]["min_weeks"] == 2, saved
    assert all(r["camera_id"] == cam["id"] and r["duration_s"] == 2 and r["threshold"] == 0.5 for r in saved.values())
    assert errors == []
    context.close()
    assert "Traceback" not in proc.output()
