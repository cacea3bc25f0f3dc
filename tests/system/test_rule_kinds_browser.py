"""The rule form's kinds in Chromium: choosing "one person" shows that kind's help and fields only
(js/rule_form.js, no inline script under the CSP), the simulator runs for it, and the rule is saved
and read back as a person rule. Screenshots at 1280, 768 and 390 px in English and French."""

from __future__ import annotations

import os

import pytest

from tests.system.test_browser import SCREENSHOTS, WIDTHS, browser  # noqa: F401 - the fixture
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
